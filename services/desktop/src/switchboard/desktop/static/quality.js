// Quality on the desktop: an agent's own scorecard, evaluations (acknowledge or dispute),
// feedback and coaching; a quality analyst's sampling and evaluating; a team leader's team
// scorecard, feedback and coaching. Loaded after desktop.js, whose `api`, `handlers`, `row` and
// `$` it uses. Every figure comes from recording, asked through the desktop for the person signed in.
"use strict";

const FIGURES = [
  ["handled", "Contacts handled"], ["contacts_per_hour", "Contacts per rostered hour"],
  ["calls_per_hour", "Calls per rostered hour"], ["average_handle_time", "Average handle time (s)"],
  ["after_call_work", "After-call work (s)"], ["first_contact_resolution", "First-contact resolution"],
  ["transfer_rate", "Transfer rate"], ["escalation_rate", "Escalation rate"], ["sales", "Sales"],
  ["conversion_rate", "Conversion"], ["retention_save_rate", "Retention save rate"],
  ["csat", "CSAT (1-5)"], ["nps", "NPS"],
  ["schedule_adherence", "Schedule adherence"], ["quality_score", "Quality score"],
  ["data_entry_accuracy", "Data-entry accuracy"],
];
const RATIOS = new Set(["first_contact_resolution", "transfer_rate", "escalation_rate", "conversion_rate",
  "retention_save_rate",
  "schedule_adherence", "data_entry_accuracy"]);
const quality = { forms: null, sample: null, calibration: null, team: null };
const shown = (name, value) => (value === null || value === undefined ? "–"
  : RATIOS.has(name) ? `${(100 * value).toFixed(1)} %` : Number.isInteger(value) ? `${value}` : value.toFixed(2));

function period(days) {
  const to = new Date(Date.now() + 60000), from = new Date(to.getTime() - days * 86400000);
  return `from=${encodeURIComponent(from.toISOString())}&to=${encodeURIComponent(to.toISOString())}`;
}

async function refreshPerformance() {
  const me = session.agent;
  if (!me) return;
  try {
    const days = Number($("performance-days").value);
    const card = await api("GET", `/v1/quality/scorecards/agents/${encodeURIComponent(me.agent_id)}?${period(days)}`);
    $("my-scorecard").replaceChildren(...FIGURES.map(([name, label]) => {
      const target = card.targets[name];
      const tr = row([label, shown(name, card.figures[name]), target ? shown(name, target.target) : "",
        target && target.gap !== null ? shown(name, target.gap) : ""]);
      if (target && target.met !== null) tr.className = target.met ? "met" : "missed";
      return tr;
    }));
    const mine = await api("GET", "/v1/quality/mine");
    $("my-evaluations").replaceChildren(...mine.evaluations.map(evaluationItem));
    $("my-feedback").replaceChildren(...mine.feedback.map((f) => item(
      `${new Date(f.posted_at).toLocaleString()} from ${f.author}${f.team ? ` to team ${f.team}` : ""}: ${f.text}`)));
    $("my-coaching").replaceChildren(...mine.coaching.map((c) => item(
      `${c.topic} (${c.status}${c.follow_up_at ? `, follow-up ${new Date(c.follow_up_at).toLocaleDateString()}` : ""}): `
      + c.actions.map((a) => `${a.done ? "✓" : "○"} ${a.text}`).join("; "))));
    $("performance-error").textContent = "";
  } catch (error) { $("performance-error").textContent = error.message; }
}

function item(text) { const li = document.createElement("li"); li.textContent = text; return li; }

function evaluationItem(e) {
  const li = item(`${e.form_title}: ${e.score.toFixed(1)}${e.auto_failed ? " (auto-fail)" : ""} by ${e.evaluator} — ${e.status}`);
  li.dataset.evaluation = e.evaluation_id;
  const details = document.createElement("details");
  const summary = document.createElement("summary");
  summary.textContent = "Answers";
  details.append(summary, ...e.questions.map((q) => item(`${q.section}: ${q.question} — ${q.answer}`
    + (q.out_of ? ` (${q.points}/${q.out_of})` : ""))));
  li.append(details);
  if (e.comment) li.append(item(`Evaluator's comment: ${e.comment}`));
  if (e.status === "submitted") {
    const comment = document.createElement("input");
    comment.setAttribute("aria-label", "Your comment");
    comment.placeholder = "your comment (needed to dispute)";
    const answer = (kind) => async () => {
      try {
        await api("POST", `/v1/quality/evaluations/${e.evaluation_id}/${kind}`, { comment: comment.value || null });
        li.firstChild.textContent += kind === "acknowledge" ? " → acknowledged" : " → disputed";
        comment.remove(); ack.remove(); dispute.remove();
      } catch (error) { $("performance-error").textContent = error.message; }
    };
    const ack = button("Acknowledge", answer("acknowledge"));
    const dispute = button("Dispute", answer("dispute"), "secondary");
    li.append(comment, ack, dispute);
  }
  return li;
}

function button(text, onClick, cls) {
  const b = document.createElement("button");
  b.type = "button"; b.textContent = text; if (cls) b.className = cls;
  b.addEventListener("click", onClick);
  return b;
}

// -- the quality analyst ------------------------------------------------------------------------
$("sample-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  const days = Number(form.get("days")), to = new Date(Date.now() + 60000);
  try {
    const found = await api("POST", "/v1/quality/samples", {
      from: new Date(to.getTime() - days * 86400000).toISOString(), to: to.toISOString(),
      filter: form.get("filter"), agent_id: form.get("agent_id") || null, size: Number(form.get("size")),
      include_evaluated: form.get("include_evaluated") === "on" });
    $("samples").replaceChildren(...(found.length ? found.map((s) => {
      const li = item(`${s.contact_id.slice(-8)} handled by ${s.agent_id} in ${s.queue_id || "?"}, `
        + `${Math.round(s.handle_seconds || 0)} s, ${s.outcome || "no outcome"} `);
      li.dataset.contact = s.contact_id;
      li.append(button("Evaluate", () => openEvaluation({ ...s, item: li })));
      return li;
    }) : [item("Nothing to evaluate in that period.")]));
    $("evaluating-error").textContent = "";
  } catch (error) { $("evaluating-error").textContent = error.message; }
});

async function openEvaluation(sample) {
  try {
    quality.forms = quality.forms || await api("GET", "/v1/quality/forms");
    const contact = await api("GET", `/v1/quality/contacts/${sample.contact_id}`);
    quality.sample = sample;
    quality.calibration = sample.calibration || null;
    $("evaluated-title").textContent = `${contact.channel} contact: ${contact.subject || "(no subject)"} — ${sample.agent_id}`;
    $("evaluated-text").textContent = contact.text || "";
    $("evaluated-timeline").replaceChildren(...contact.timeline.map((t) => item(
      `${new Date(t.occurred_at).toLocaleTimeString()} ${t.event_type}`)));
    const choices = quality.calibration ? [{ ...quality.calibration.form, form_id: quality.calibration.form_id }] : quality.forms;
    $("evaluation-form-id").replaceChildren(...choices.map((f) => {
      const o = document.createElement("option"); o.value = f.form_id; o.textContent = f.title; return o;
    }));
    $("evaluation-form-id").disabled = Boolean(quality.calibration);
    renderQuestions();
    const c = quality.calibration;
    $("calibration-status").textContent = !c ? ""
      : sample.agree ? "Calibration: these answers become the agreed score, sent to the agent."
      : "Calibration: your score is compared with the others', not sent to the agent.";
    $("evaluation-submit").textContent = sample.agree ? "Keep as the agreed score" : "Submit evaluation";
    $("evaluation-result").textContent = "";
    $("evaluation").hidden = false;
    $("evaluation-form-id").focus();
  } catch (error) { $("evaluating-error").textContent = error.message; }
}

function renderQuestions() {
  const form = quality.calibration ? quality.calibration.form
    : quality.forms.find((f) => f.form_id === $("evaluation-form-id").value);
  $("evaluation-questions").replaceChildren(...form.sections.map((section) => {
    const fs = document.createElement("fieldset");
    const legend = document.createElement("legend");
    legend.textContent = section.title;
    fs.append(legend);
    for (const q of section.questions) {
      const choices = q.kind === "scale" ? [...Array(q.scale_max + 1).keys()].map(String) : ["yes", "no"];
      if (q.allow_na) choices.push("n/a");
      const group = document.createElement("div");
      group.setAttribute("role", "radiogroup");
      group.setAttribute("aria-label", q.text);
      const prompt = document.createElement("p");
      prompt.textContent = `${q.text}${q.auto_fail ? " (auto-fail)" : ""} — weight ${q.weight}`;
      group.append(prompt);
      for (const choice of choices) {
        const label = document.createElement("label");
        const input = document.createElement("input");
        Object.assign(input, { type: "radio", name: `q-${q.id}`, value: choice, required: true });
        label.append(input, ` ${choice}`);
        group.append(label);
      }
      fs.append(group);
    }
    return fs;
  }));
}
$("evaluation-form-id").addEventListener("change", renderQuestions);

$("evaluation-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  const answers = {};
  for (const [key, value] of form.entries()) if (key.startsWith("q-")) answers[key.slice(2)] = value;
  const c = quality.calibration, comment = form.get("comment") || null;
  try {
    const done = c && quality.sample.agree
      ? await api("POST", `/v1/quality/calibrations/${c.calibration_id}/agree`, { answers, comment })
      : await api("POST", "/v1/quality/evaluations", {
        contact_id: quality.sample.contact_id, agent_id: quality.sample.agent_id,
        form_id: c ? c.form_id : $("evaluation-form-id").value, answers, comment,
        calibration_id: c ? c.calibration_id : null });
    $("evaluation-result").textContent = `Submitted: ${done.score.toFixed(1)}${done.auto_failed ? " (auto-fail)" : ""}; `
      + (c && !quality.sample.agree ? "kept for the calibration." : `${quality.sample.agent_id} has been sent it.`);
    if (quality.sample.item) quality.sample.item.remove();
    refreshCalibrations();
  } catch (error) { $("evaluating-error").textContent = error.message; }
});

$("calibrate").addEventListener("click", async () => {
  const me = session.agent.agent_id, s = quality.sample;
  const others = $("calibrate-with").value.split(",").map((x) => x.trim()).filter(Boolean);
  try {
    const opened = await api("POST", "/v1/quality/calibrations", {
      contact_id: s.contact_id, agent_id: s.agent_id, form_id: $("evaluation-form-id").value,
      evaluators: [me, ...others].map((id) => `agent ${id}`) });
    const view = await api("GET", `/v1/quality/calibrations/${opened.calibration_id}`);
    await openEvaluation({ ...s, calibration: view });
    refreshCalibrations();
  } catch (error) { $("evaluating-error").textContent = error.message; }
});

async function refreshCalibrations() {
  const me = session.agent;
  if (!me || !me.quality_analyst) return;
  try {
    const all = await api("GET", "/v1/quality/calibrations");
    $("calibrations").replaceChildren(...all.map((c) => {
      const li = item(`${c.contact_id.slice(-8)} handled by ${c.agent_id} — ${c.status}; `
        + `waiting for ${c.waiting_for.join(", ") || "nobody"}; score spread ${c.score_spread ?? "–"}`);
      const sample = { contact_id: c.contact_id, agent_id: c.agent_id, calibration: c };
      if (c.status === "open" && c.waiting_for.includes(`agent ${me.agent_id}`)) li.append(button("Score it", () => openEvaluation(sample)));
      if (c.scores.length) li.append(button("Spread", () => showSpread(c), "secondary"));
      if (c.status === "open" && !c.waiting_for.length) li.append(button("Agree a score", () => openEvaluation({ ...sample, agree: true })));
      return li;
    }));
  } catch (error) { $("evaluating-error").textContent = error.message; }
}

function showSpread(c) {
  $("spread-rows").replaceChildren(...c.questions.map((q) => row([q.question_id,
    Object.entries(q.answers).map(([who, a]) => `${who.replace(/^agent /, "")}: ${a}`).join(", "),
    q.spread === null ? "–" : `${(100 * q.spread).toFixed(0)} %`])));
  $("spread").hidden = false;
}

// -- the team leader ----------------------------------------------------------------------------
async function refreshTeam() {
  const me = session.agent;
  if (!me || !me.supervisor || !me.team) return;
  try {
    const team = await api("GET", `/v1/quality/scorecards/teams/${encodeURIComponent(me.team)}?${period(7)}`);
    const columns = ["handled", "average_handle_time", "first_contact_resolution", "csat", "quality_score",
      "schedule_adherence", "data_entry_accuracy"];
    $("team-scorecard-head").replaceChildren(row(["Last 7 days", ...columns.map((c) => FIGURES.find((f) => f[0] === c)[1])]));
    $("team-scorecard").replaceChildren(row([`Team ${team.team}`, ...columns.map((c) => shown(c, team.figures[c]))]),
      ...team.agents.map((a) => row([a.name, ...columns.map((c) => shown(c, a.figures[c]))])));
    const option = (value, text) => { const o = document.createElement("option"); o.value = value; o.textContent = text; return o; };
    $("feedback-to").replaceChildren(option(`team:${team.team}`, `Team ${team.team}`),
      ...team.agents.map((a) => option(`agent:${a.agent_id}`, a.name)));
    quality.team = team;
    $("coaching-agent").replaceChildren(...team.agents.map((a) => option(a.agent_id, a.name)));
    showGaps();
    const coaching = await api("GET", "/v1/quality/coaching");
    $("team-coaching").replaceChildren(...coaching.map((c) => {
      const li = item(`${c.agent_id}: ${c.topic} — ${c.status}${c.overdue ? " (follow-up overdue)" : ""}`
        + (c.scorecard_gaps.length ? `; gaps: ${c.scorecard_gaps.join(", ")}` : ""));
      if (c.status !== "done") li.append(button("Mark done", async () => {
        await api("PATCH", `/v1/quality/coaching/${c.coaching_id}`, {
          status: "done", actions: c.actions.map((a) => ({ ...a, done: true })) });
        refreshTeam();
      }, "secondary"));
      return li;
    }));
  } catch (error) { $("team-quality-error").textContent = error.message; }
}

function gapsOf(agentId) {
  const agent = quality.team && quality.team.agents.find((a) => a.agent_id === agentId);
  return agent ? Object.entries(agent.targets).filter(([, t]) => t.met === false).map(([name]) => name) : [];
}
function showGaps() {
  const gaps = gapsOf($("coaching-agent").value);
  $("coaching-gaps").textContent = gaps.length ? `Off target: ${gaps.join(", ")}` : "On target everywhere measured.";
}
$("coaching-agent").addEventListener("change", showGaps);

$("feedback-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  const [kind, id] = form.get("to").split(":");
  try {
    await api("POST", "/v1/quality/feedback", { [kind === "team" ? "team" : "agent_id"]: id, text: form.get("text") });
    e.target.reset();
    $("team-quality-error").textContent = "";
  } catch (error) { $("team-quality-error").textContent = error.message; }
});

$("coaching-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const form = new FormData(e.target);
  const followUp = form.get("follow_up_at");
  try {
    await api("POST", "/v1/quality/coaching", {
      agent_id: form.get("agent_id"), topic: form.get("topic"), scorecard_gaps: gapsOf(form.get("agent_id")),
      actions: form.get("action") ? [{ text: form.get("action") }] : [],
      follow_up_at: followUp ? new Date(followUp).toISOString() : null });
    e.target.reset();
    refreshTeam();
  } catch (error) { $("team-quality-error").textContent = error.message; }
});

$("performance-days").addEventListener("change", refreshPerformance);
const helloBeforeQuality = handlers.hello;
handlers.hello = (me) => {
  helloBeforeQuality(me);
  $("evaluating").hidden = !me.quality_analyst;
  $("team-quality").hidden = !me.supervisor;
  refreshPerformance();
  refreshTeam();
  refreshCalibrations();
};
handlers.evaluation = (e) => { log(`evaluation ${e.status}: ${e.form_title} ${e.score.toFixed(1)}`); refreshPerformance(); };
handlers.feedback = (f) => { log(`feedback from ${f.author}: ${f.text}`); refreshPerformance(); };
handlers.coaching = (c) => { log(`coaching ${c.status}: ${c.topic}`); refreshPerformance(); };
