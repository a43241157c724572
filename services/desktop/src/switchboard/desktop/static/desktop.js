// The agent desktop: plain JavaScript, no build step. The session token lives in sessionStorage
// (this tab only); the event stream is read with fetch so the token travels in a header, and it
// resumes with Last-Event-ID after any drop.
"use strict";

const $ = (id) => document.getElementById(id);
const session = { token: sessionStorage.getItem("token"), agent: null, lastEventId: null,
                  offer: null, current: null, streamAbort: null, wallboardTimer: null };

async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${session.token}` },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401 && path !== "/v1/session") { signOut("Your session ended: sign in again."); }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const detail = Array.isArray(data.detail) ? data.detail.map((d) => d.msg).join("; ") : data.detail;
    throw new Error(detail || `${response.status}`);
  }
  return data;
}

function log(text) {
  const item = document.createElement("li");
  item.textContent = `${new Date().toLocaleTimeString()} ${text}`;
  $("log").prepend(item);
}

function show(signedIn) {
  $("sign-in").hidden = signedIn;
  $("work").hidden = !signedIn;
  $("who").hidden = !signedIn;
}

// -- signing in --------------------------------------------------------------------------------
$("sign-in").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  try {
    const data = await api("POST", "/v1/session", { username: form.get("username"), password: form.get("password") });
    session.token = data.token;
    sessionStorage.setItem("token", data.token);
    $("sign-in-error").textContent = "";
    start();
  } catch (error) { $("sign-in-error").textContent = error.message; }
});

function signOut(message) {
  if (session.streamAbort) session.streamAbort.abort();
  clearInterval(session.wallboardTimer);
  sessionStorage.removeItem("token");
  Object.assign(session, { token: null, agent: null, lastEventId: null, offer: null, current: null });
  show(false);
  $("sign-in-error").textContent = message || "";
}
$("sign-out").addEventListener("click", async () => {
  try { await api("POST", "/v1/state", { state: "offline" }); } catch (_) { /* signing out anyway */ }
  signOut();
});

function start() {
  show(true);
  readStream();
}

// -- the event stream --------------------------------------------------------------------------
async function readStream() {
  session.streamAbort = new AbortController();
  let delay = 1000;
  while (session.token) {
    try {
      const headers = { Authorization: `Bearer ${session.token}` };
      if (session.lastEventId !== null) headers["Last-Event-ID"] = session.lastEventId;
      const response = await fetch("/v1/events", { headers, signal: session.streamAbort.signal });
      if (response.status === 401) { signOut("Your session ended: sign in again."); return; }
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          dispatch(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch (error) {
      if (error.name === "AbortError") return;
    }
    log("connection lost; reconnecting");
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

function dispatch(block) {
  let type = "message", data = "", id = null;
  for (const line of block.split("\n")) {
    if (line.startsWith("event: ")) type = line.slice(7);
    else if (line.startsWith("data: ")) data += line.slice(6);
    else if (line.startsWith("id: ")) id = line.slice(4);
  }
  if (!data) return;
  if (id !== null) session.lastEventId = id;
  const handler = handlers[type];
  if (handler) handler(JSON.parse(data));
}

const handlers = {
  hello(me) {
    session.agent = me;
    $("agent-name").textContent = me.name;
    setState(me.state, me.state_reason);
    $("my-contacts").replaceChildren();
    me.contacts.forEach(addMine);
    $("my-follow-ups").replaceChildren();
    me.follow_ups.forEach(addFollowUp);
    if (me.offers.length) showOffer({ ...me.offers[0], expires_at: me.offers[0].expires_at });
    else hideOffer();
    $("wallboard").hidden = !me.supervisor;
    clearInterval(session.wallboardTimer);
    if (me.supervisor) { refreshWallboard(); session.wallboardTimer = setInterval(refreshWallboard, 3000); }
    $("workforce").hidden = !me.supervisor;
    refreshSchedule();
  },
  schedule() { refreshSchedule(); },
  resync() { session.lastEventId = null; session.streamAbort.abort(); start(); },
  offer(offer) { log(`offer: ${offer.channel} contact in ${offer.queue_id}`); showOffer(offer); },
  offer_withdrawn(w) {
    log(`offer withdrawn (${w.reason})`);
    if (session.offer && session.offer.offer_id === w.offer_id) hideOffer();
  },
  assigned(a) {
    log(`contact assigned: ${a.subject || a.contact_id}`);
    if (session.offer && session.offer.offer_id === a.offer_id) hideOffer();
    addMine(a);
    openContact(a.contact_id);
  },
  wrapped(w) {
    log(`wrapped up: ${w.disposition} (${w.outcome || "no outcome"})`);
    document.querySelector(`#my-contacts [data-contact="${w.contact_id}"]`)?.remove();
    if (session.current === w.contact_id) { $("contact").hidden = true; session.current = null; }
  },
  escalated(e) { log(`escalated to ${e.queue_id || "a higher level"}: ${e.reason}`); },
  escalation_outcome(o) { log(`your escalation ended: ${o.outcome} by ${o.by_agent}`); },
  state(s) { setState(s.state, s.reason); if (s.source !== "desktop") log(`state set to ${s.state} by ${s.source}: ${s.reason || ""}`); },
  job(j) { log(`field job ${j.work_type}: ${j.status}${j.technician_id ? ` (${j.technician_id})` : ""}`); if (session.current === j.contact_id) openContact(j.contact_id); },
  follow_up(f) { log(`follow-up promised for ${new Date(f.due_at).toLocaleString()}`); addFollowUp(f); },
  sla(a) { log(`${a.stage === "breach" ? "BREACH" : "warning"}: ${a.clock.replace("_", " ")} due ${new Date(a.due_at).toLocaleString()}${a.level ? ` (now ${a.level})` : ""}`); },
  follow_up_due(f) { log(`follow-up due now (${f.channel}); start it before ${new Date(f.grace_until).toLocaleTimeString()}`); },
  alert(a) { log(`ALERT: ${a.message}`); },
  outbound(o) { log(`outbound ${o.decision}: ${o.reason}`); },
  chat(line) { if (session.current === line.contact_id) { addChatLine(line); $("chat-status").textContent = ""; } },
  chat_activity(a) {
    if (session.current !== a.contact_id) return;
    const said = { typing: "the customer is typing…", delivered: `delivered (${a.seq})`,
                   left: "the customer has left the chat", resumed: "the customer is back" };
    $("chat-status").textContent = said[a.kind] || "";
  },
  callback(c) { log(`callback attempt ${c.attempt}: ${c.outcome} (${c.reason})`); },
};

function addChatLine(line) {
  const item = document.createElement("li");
  item.className = line.from;
  item.textContent = `${line.from === "agent" ? (line.agent_id || "agent") : "customer"}: ${line.text}`;
  $("chat-transcript").append(item);
}

function setState(state, reason) {
  const badge = $("state-badge");
  badge.textContent = reason ? `${state} (${reason})` : state;
  badge.className = `badge ${state}`;
  $("state-select").value = state;
}

$("state-apply").addEventListener("click", async () => {
  const state = $("state-select").value;
  try { await api("POST", "/v1/state", { state, reason: $("break-reason").value || null }); }
  catch (error) { log(`state not changed: ${error.message}`); }
});

// -- offers ------------------------------------------------------------------------------------
let countdown = null;
function showOffer(offer) {
  session.offer = offer;
  $("offer-channel").textContent = offer.channel;
  $("offer-queue").textContent = offer.queue_id;
  $("offer-subject").textContent = offer.subject || "";
  $("offer").hidden = false;
  const deadline = new Date(offer.expires_at).getTime();
  clearInterval(countdown);
  const tick = () => {
    const left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    $("offer-countdown").textContent = left;
    if (left === 0) hideOffer();
  };
  tick();
  countdown = setInterval(tick, 500);
  // Announced, never focused: an agent typing a reply keeps typing where they were (a focused
  // Accept button would take their next Space as accepting the offer).
  $("offer-announce").textContent =
    `New ${offer.channel} contact in ${offer.queue_id}. Alt+A accepts, Alt+D declines.`;
}
function hideOffer() {
  clearInterval(countdown); session.offer = null; $("offer").hidden = true;
  $("offer-announce").textContent = "";
}

$("offer-accept").addEventListener("click", async () => {
  if (!session.offer) return;
  try { await api("POST", `/v1/offers/${session.offer.offer_id}/accept`); log("accepted; waiting for routing"); }
  catch (error) { log(`could not accept: ${error.message}`); hideOffer(); }
});
$("offer-decline").addEventListener("click", async () => {
  if (!session.offer) return;
  try { await api("POST", `/v1/offers/${session.offer.offer_id}/decline`, {}); }
  catch (error) { log(`could not decline: ${error.message}`); }
  hideOffer();
});

// -- the contact -------------------------------------------------------------------------------
function addMine(contact) {
  if (document.querySelector(`#my-contacts [data-contact="${contact.contact_id}"]`)) return;
  const item = document.createElement("li");
  item.dataset.contact = contact.contact_id;
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = `${contact.channel || ""}: ${contact.subject || contact.contact_id}`;
  button.addEventListener("click", () => openContact(contact.contact_id));
  item.append(button);
  $("my-contacts").append(item);
}

function addFollowUp(followUp) {
  const item = document.createElement("li");
  item.textContent = `${new Date(followUp.due_at).toLocaleString()} ${followUp.channel} `;
  const done = document.createElement("button");
  done.type = "button";
  done.textContent = "Done";
  done.addEventListener("click", async () => {
    try { await api("POST", `/v1/follow-ups/${followUp.follow_up_id}/done`, {}); item.remove(); }
    catch (error) { log(`follow-up not marked done: ${error.message}`); }
  });
  item.append(done);
  $("my-follow-ups").append(item);
}

async function openContact(contactId) {
  let contact;
  for (let attempt = 0; attempt < 10; attempt++) {
    try { contact = await api("GET", `/v1/contacts/${contactId}`); break; }
    catch (error) { await new Promise((resolve) => setTimeout(resolve, 500)); }
  }
  if (!contact) { log("the contact's details have not arrived yet"); return; }
  session.current = contactId;
  $("contact").hidden = false;
  $("contact-title").textContent = contact.subject || `${contact.channel} contact`;
  const facts = { From: contact.customer_name, Email: contact.customer_email, Phone: contact.customer_phone,
                  Channel: contact.channel, Queue: contact.queue_id, Received: contact.received_at,
                  Masked: (contact.masked || []).join(", ") };
  $("contact-facts").replaceChildren(...Object.entries(facts).filter(([, v]) => v).flatMap(([k, v]) => {
    const dt = document.createElement("dt"); dt.textContent = k;
    const dd = document.createElement("dd"); dd.textContent = v;
    return [dt, dd];
  }));
  $("contact-text").textContent = contact.text || "";
  $("chat-transcript").hidden = contact.channel !== "chat";
  $("chat-transcript").replaceChildren();
  (contact.transcript || []).forEach(addChatLine);
  $("chat-status").textContent = "";
  const script = contact.script;
  $("script").replaceChildren(...(script ? ["greeting", "notes", "closing"].map((part) => {
    const p = document.createElement("p"); p.textContent = `${part}: ${script[part]}`; return p;
  }) : []));
  $("history").replaceChildren(...contact.history.map((h) => {
    const row = document.createElement("tr");
    for (const value of [h.received_at, h.channel, h.subject, h.outcome || h.status]) {
      const cell = document.createElement("td"); cell.textContent = value || ""; row.append(cell);
    }
    return row;
  }));
  $("open-jobs").replaceChildren(...contact.open_jobs.map((j) => {
    const item = document.createElement("li");
    item.textContent = `${j.work_type} (${j.priority}), ${new Date(j.window_start).toLocaleString()}: ${j.status}`;
    return item;
  }));
  $("reply-form").hidden = contact.channel === "letter" || contact.channel === "walk_in";
  session.channel = contact.channel;
  fillQueues(contact);
  $("contact-error").textContent = "";
  $("wrapup-form").querySelector("input").focus();
  return contact;
}

function fillQueues(contact) {
  const target = $("transfer-queue");
  target.replaceChildren(new Option("(the contact's queue)", ""),
                         ...contact.queues.map((q) => new Option(q.name, q.queue_id)));
  const select = $("escalate-queue");
  const queues = contact.queues.filter((q) => q.queue_id !== contact.queue_id);
  select.replaceChildren(...queues.map((q) => new Option(q.name, q.queue_id)));
}

function onSubmit(id, build, done) {
  $(id).addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!session.current) return;
    const form = new FormData(e.target);
    try {
      const [path, body] = build(form);
      const result = await api("POST", `/v1/contacts/${session.current}/${path}`, body);
      e.target.reset();
      done(result);
      $("contact-error").textContent = "";
    } catch (error) { $("contact-error").textContent = error.message; }
  });
}
const iso = (local) => new Date(local).toISOString();
onSubmit("transfer-form", (f) => ["transfer", { mode: f.get("mode"), to_agent_id: f.get("to_agent_id") || null,
                                                queue_id: f.get("queue_id") || null, reason: f.get("reason") || "" }],
         (t) => log(`transfer (${t.mode}) to ${t.to_agent_id || t.queue_id} asked`));
let typingToldAt = 0;
document.querySelector("#reply-form textarea").addEventListener("input", () => {
  if (session.channel !== "chat" || !session.current || Date.now() - typingToldAt < 3000) return;
  typingToldAt = Date.now();
  api("POST", `/v1/contacts/${session.current}/typing`).catch(() => {});
});
$("walk-in-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  try {
    await api("POST", "/v1/walk-ins", { subject: f.get("subject"), text: f.get("text") || "",
                                        customer: { name: f.get("name") || null, phone: f.get("phone") || null } });
    e.target.reset();
    $("walk-in-error").textContent = "";
    log("walk-in logged");
  } catch (error) { $("walk-in-error").textContent = error.message; }
});
onSubmit("wrapup-form", (f) => ["wrapup", { disposition: f.get("disposition"), outcome: f.get("outcome"), notes: f.get("notes") || null }],
         () => log("wrap-up sent"));
onSubmit("reply-form", (f) => ["reply", { text: f.get("text") }], (r) => log(`reply sent to ${r.to}`));
onSubmit("escalate-form", (f) => ["escalate", { category: f.get("category"), queue_id: f.get("queue_id"), reason: f.get("reason") }],
         (r) => log(`escalated to ${r.queue_id}`));
onSubmit("followup-form", (f) => ["follow-ups", { due_at: iso(f.get("due_at")), note: f.get("note") || null }],
         () => {});
onSubmit("complaint-form", (f) => ["complaint", { category: f.get("category"), summary: f.get("summary") }],
         () => log("complaint raised"));
onSubmit("improvement-form", (f) => ["improvements", { category: f.get("category"), description: f.get("description") }],
         () => log("improvement noted"));
onSubmit("job-form", (f) => ["jobs", {
  site: { address: f.get("address"), lat: Number(f.get("lat")), lon: Number(f.get("lon")) },
  work_type: f.get("work_type"), skills: (f.get("skills") || "").split(",").map((s) => s.trim()).filter(Boolean),
  estimated_minutes: Number(f.get("estimated_minutes")), priority: f.get("priority"),
  window: { start: iso(f.get("start")), end: iso(f.get("end")) },
  special_instructions: f.get("special_instructions") || null,
}], (r) => log(`field job requested (${r.job_id})`));

// -- the wallboard -----------------------------------------------------------------------------
const pct = (x) => (x === null || x === undefined ? "–" : `${Math.round(x * 100)} %`);
async function refreshWallboard() {
  try {
    const board = await api("GET", "/v1/supervisor");
    $("wallboard-queues").replaceChildren(...board.queues.map((q) => row([
      q.name || q.queue_id, q.waiting, `${Math.round(q.longest_wait_seconds)} s`, q.agents_available,
      q.agents_on_contact, pct(q.service_level_30m), pct(q.abandonment_rate)])));
    $("wallboard-agents").replaceChildren(...board.agents.map((a) => {
      const line = row([a.name, a.state_reason ? `${a.state} (${a.state_reason})` : a.state,
                        new Date(a.state_since).toLocaleTimeString(), a.contacts]);
      line.append(supervising(a));
      return line;
    }));
  } catch (error) { /* the next refresh tries again */ }
}
// A supervisor listens to an agent's call (monitor), speaks to the agent alone (whisper) or joins
// it (barge), and can set an agent's state; the desktop audits each.
function supervising(agent) {
  const cell = document.createElement("td");
  const button = (label, action) => {
    const b = document.createElement("button");
    b.type = "button"; b.textContent = label;
    b.setAttribute("aria-label", `${label} ${agent.name}`);
    b.addEventListener("click", () => action().then(() => log(`${label.toLowerCase()}: ${agent.name}`))
      .catch((error) => log(`${label.toLowerCase()} refused: ${error.message}`)));
    cell.append(b);
  };
  if (agent.on_call) {
    for (const action of ["monitor", "whisper", "barge"]) {
      button(action[0].toUpperCase() + action.slice(1),
             () => api("POST", `/v1/supervisor/calls/${agent.on_call}/${action}`));
    }
  }
  if (agent.agent_id !== session.agent.agent_id && agent.state !== "offline") {
    button(agent.state === "available" ? "Send on break" : "Make available", () =>
      api("POST", `/v1/supervisor/agents/${agent.agent_id}/state`,
          agent.state === "available" ? { state: "break", reason: "asked by the team leader" }
                                      : { state: "available", reason: "back to the queue" }));
  }
  return cell;
}
// -- schedules and the team leader's staffing view -----------------------------------------------
const clock = (t) => new Date(t).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
const shiftText = (acts) => (acts.length ? `${clock(acts[0].start)}–${clock(acts[acts.length - 1].end)}` : "off");
const pauses = (acts) => acts.filter((a) => a.kind !== "work").map((a) => `${a.kind} ${clock(a.start)}`).join(", ");
async function refreshSchedule() {
  try {
    const mine = await api("GET", "/v1/schedule");
    $("schedule-days").replaceChildren(...mine.days.map((d) => row([
      new Date(`${d.day}T00:00:00`).toDateString(), d.leave ? `leave (${d.leave})` : shiftText(d.activities),
      pauses(d.activities)])));
    const a = mine.adherence;
    $("my-adherence").textContent = a ? `Adherence today ${pct(a.adherence)}, conformance ${pct(a.conformance)}` : "";
    if (session.agent && session.agent.supervisor) await refreshWorkforce();
  } catch (error) { /* the next refresh tries again */ }
}
async function refreshWorkforce() {
  const view = await api("GET", "/v1/supervisor/workforce");
  const day = view.tenants[0];
  $("workforce-summary").textContent = day
    ? `${day.day}: forecast error on the held-back week ${pct(day.forecast_wape)} (WAPE)`
    : "No workforce figures yet.";
  $("workforce-intervals").replaceChildren(...(day ? day.intervals : []).map((i) => row([
    clock(i.start), i.forecast.toFixed(1), i.actual ?? "–", i.required, i.to_schedule, i.scheduled,
    i.logged_in ?? "–"])));
  $("workforce-agents").replaceChildren(...view.agents.map((a) => row([
    a.name, a.leave ? `leave (${a.leave})` : shiftText(a.schedule), a.adherence ? a.adherence.expected : "–",
    a.state, pct(a.adherence && a.adherence.adherence), pct(a.adherence && a.adherence.conformance)])));
}
setInterval(() => { if (session.token) refreshSchedule(); }, 30000);

function row(values) {
  const tr = document.createElement("tr");
  for (const value of values) { const td = document.createElement("td"); td.textContent = value; tr.append(td); }
  return tr;
}

if (session.token) start(); else show(false);
