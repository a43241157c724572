// Products and knowledge beside the contact: suggested articles and the queue's script, knowledge
// search, retention offers for a customer who wants to leave, and an order built with the customer
// (supply, payment, credit check, agreement); a team leader's discounts to approve. Loaded after
// desktop.js, whose `api`, `session`, `log`, `row` and `$` it uses. Everything is the catalogue's,
// asked through the desktop for the person signed in; card details go straight through to it.
"use strict";

const provision = { contactId: null, article: null, products: [], order: null, lines: [] };
const dollars = (cents) => `$${(cents / 100).toFixed(2)}`;
const price = (amount) => `$${Number(amount).toFixed(2)}`;
const spoken = (text) => text.replaceAll("{agent}", (session.agent && session.agent.name) || "");
const orderForm = () => $("order-form");
const field = (name) => orderForm().elements[name];

function item(text, ...buttons) {
  const li = document.createElement("li");
  const span = document.createElement("span");
  span.textContent = text;
  li.append(span, ...buttons);
  return li;
}

function button(label, onClick, attrs = {}) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  Object.entries(attrs).forEach(([k, v]) => b.setAttribute(k, v));
  b.addEventListener("click", onClick);
  return b;
}

function articleItem(a) {
  const li = item(`${a.title} (${a.kind}) — ${a.excerpt}`,
    button("Open", () => openArticle(a.article_id), { "data-article": a.article_id }));
  li.dataset.article = a.article_id;
  return li;
}

async function openArticle(articleId) {
  try {
    const a = await api("GET", `/v1/catalogue/knowledge/articles/${encodeURIComponent(articleId)}`);
    provision.article = a;
    $("article-title").textContent = a.title;
    const steps = (a.steps || []).map((s) => `${s.step}: ${spoken(s.text)}`).join("\n");
    $("article-body").textContent = [a.body, steps].filter(Boolean).join("\n\n");
    $("article").hidden = false;
    $("article").focus();
  } catch (error) { log(`article not opened: ${error.message}`); }
}

$("article-used").addEventListener("click", async () => {
  if (!provision.article || !session.current) return;
  try {
    await api("POST", `/v1/catalogue/knowledge/articles/${encodeURIComponent(provision.article.id)}/used`,
              { contact_id: session.current });
    log(`"${provision.article.title}" recorded on the contact`);
  } catch (error) { log(`not recorded: ${error.message}`); }
});

$("knowledge-search").addEventListener("submit", async (e) => {
  e.preventDefault();
  const q = new FormData(e.target).get("q");
  try {
    const found = await api("GET", `/v1/catalogue/knowledge/search?q=${encodeURIComponent(q)}`);
    $("knowledge-results").replaceChildren(...(found.results.length ? found.results.map(articleItem)
      : [item("Nothing found")]));
  } catch (error) { log(`search failed: ${error.message}`); }
});

async function loadProvision(contact) {
  const fresh = provision.contactId !== contact.contact_id;
  provision.contactId = contact.contact_id;
  try {
    const s = await api("GET", `/v1/catalogue/contacts/${contact.contact_id}/suggestions`);
    $("suggested").replaceChildren(...s.articles.map(articleItem));
    $("script-steps").replaceChildren(...s.scripts.map((script) => {
      const box = document.createElement("div");
      const h = document.createElement("h3"); h.textContent = `Script: ${script.title}`;
      const ol = document.createElement("ol");
      ol.append(...script.steps.map((step) => item(`${step.step.replaceAll("_", " ")}: ${spoken(step.text)}`)));
      box.append(h, ol);
      return box;
    }));
    $("retention").hidden = !s.retention.cancellation;
    $("retention").open = s.retention.cancellation;
    $("retention-reason").replaceChildren(...s.retention.reasons.map((r) => new Option(r, r)));
    const sold = await api("GET", `/v1/catalogue/products?queue_id=${encodeURIComponent(contact.queue_id || "")}`);
    provision.products = sold.products;
    $("products").replaceChildren(...sold.products.map(productRow));
  } catch (error) { log(`product and knowledge panel: ${error.message}`); }
  if (fresh) {
    provision.order = null; provision.lines = [];
    orderForm().reset();
    field("payment").dispatchEvent(new Event("change"));
    field("name").value = contact.customer_name || "";
    field("phone").value = contact.customer_phone || "";
    await resumeOrder(contact.contact_id);
    showOrder();
  }
}

async function resumeOrder(contactId) {
  // An order still open on this contact (the page was reloaded, or the contact reopened) is
  // carried on where it was.
  try {
    const mine = await api("GET", `/v1/catalogue/orders?contact_id=${contactId}`);
    const open = mine.orders.find((o) => !["placed", "cancelled"].includes(o.status));
    if (!open) return;
    provision.order = await api("GET", `/v1/catalogue/orders/${open.order_id}`);
    provision.lines = open.lines.map((l) => ({ product_id: l.product_id, plan_id: l.plan_id, quantity: l.quantity }));
    field("name").value = open.customer.name;
    field("discount_percent").value = open.discount_percent;
    field("discount_reason").value = open.discount_reason || "";
  } catch (error) { log(`open order not resumed: ${error.message}`); }
}

function productRow(p) {
  const plan = document.createElement("select");
  plan.setAttribute("aria-label", `Plan for ${p.name}`);
  plan.append(...p.plans.map((x) => new Option(`${x.name} (${price(x.monthly)} a month${x.term_months ? `, ${x.term_months} months` : ""})`, x.id)));
  const tr = row([`${p.name}: ${p.description}`, price(p.price), ""]);
  tr.children[2].append(plan.options.length ? plan : "–");
  const add = button("Add to order", () => addLine(p.id, plan.value || null), { "data-product": p.id });
  const cell = document.createElement("td"); cell.append(add); tr.append(cell);
  return tr;
}

async function addLine(productId, planId) {
  const same = provision.lines.find((l) => l.product_id === productId && l.plan_id === planId);
  if (same) same.quantity += 1; else provision.lines.push({ product_id: productId, plan_id: planId, quantity: 1 });
  await priceOrder();
}

async function ensureOrder() {
  if (provision.order) return provision.order;
  const f = orderForm().elements;
  provision.order = await api("POST", "/v1/catalogue/orders", { contact_id: session.current, customer: {
    name: f.name.value, phone: f.phone.value || null, type: f.type.value, state: f.state.value || null } });
  return provision.order;
}

async function orderStep(path, body, method = "POST") {
  try {
    const order = await ensureOrder();
    provision.order = await api(method, `/v1/catalogue/orders/${order.order_id}/${path}`, body);
    $("order-error").textContent = "";
  } catch (error) { $("order-error").textContent = error.message; }
  showOrder();
}

async function priceOrder() {
  if (!provision.lines.length) return;
  await orderStep("lines", { lines: provision.lines, discount_percent: Number(field("discount_percent").value || 0),
                             discount_reason: field("discount_reason").value || null }, "PUT");
}

function showOrder() {
  const o = provision.order;
  $("order-status").textContent = o ? `(${o.status.replaceAll("_", " ")})` : "";
  $("order-lines").replaceChildren(...(o ? o.lines : []).map((l, i) => {
    const tr = row([l.name, l.plan_id || "", String(l.quantity), dollars(l.amount_cents), dollars(l.monthly_cents)]);
    const cell = document.createElement("td");
    cell.append(button("Remove", async () => { provision.lines.splice(i, 1); await priceOrder(); }));
    tr.append(cell);
    return tr;
  }));
  $("order-total").textContent = o ? `${dollars(o.total_cents)} up front, ${dollars(o.monthly_cents)} a month` : "–";
  $("order-blockers").replaceChildren(...(o ? o.blockers : []).map((b) => item(b)));
  $("credit-check").hidden = !(o && o.needs.credit_check);
  const credit = o && o.credit;
  $("credit-result").textContent = credit ? `${credit.decision}: ${credit.reason} (ref ${credit.reference})` : "";
  if (o && o.status === "placed") {
    log(`order placed${o.job_id ? `; installation job ${o.job_id}` : ""}`);
  }
}

field("discount_percent").addEventListener("change", priceOrder);
field("payment").addEventListener("change", () => {
  orderForm().querySelectorAll("[data-pay]").forEach((part) => { part.hidden = part.dataset.pay !== field("payment").value; });
});
$("order-supply").addEventListener("click", () => {
  const f = orderForm().elements, how = f.supply.value;
  const body = { method: how };
  if (how !== "none") body.window = { start: iso(f.window_start.value), end: iso(f.window_end.value) };
  if (how !== "none" && f.address.value) body.site = { address: f.address.value, lat: Number(f.lat.value), lon: Number(f.lon.value) };
  orderStep("supply", body, "PUT");
});
$("order-payment").addEventListener("click", async () => {
  const f = orderForm().elements, how = f.payment.value;
  const body = { method: how };
  if (how === "card") body.card = { number: f.card_number.value, expiry: f.card_expiry.value, name: f.name.value,
                                    security_code: f.card_code.value || null };
  if (how === "direct_debit") body.direct_debit = { account_name: f.account_name.value, bsb: f.bsb.value,
                                                    account_number: f.account_number.value };
  if (how === "payment_plan") body.instalments = Number(f.instalments.value);
  if (how === "invoice") body.invoice_to = f.invoice_to.value || null;
  await orderStep("payment", body);
  f.card_number.value = ""; f.card_code.value = ""; f.account_number.value = "";  // never kept in the page
});
$("order-credit").addEventListener("click", () => {
  const f = orderForm().elements;
  orderStep("credit-check", { name: f.name.value, date_of_birth: f.date_of_birth.value, address: f.applicant_address.value });
});
orderForm().addEventListener("submit", (e) => {
  e.preventDefault();
  const f = orderForm().elements;
  orderStep("place", { customer_agreed: f.customer_agreed.checked, statement: f.statement.value });
});

$("retention-form").addEventListener("submit", async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const leaving = { reason: f.get("reason"), tenure_months: Number(f.get("tenure_months")),
                    monthly_value: f.get("monthly_value"), contract_ends: f.get("contract_ends") || null };
  try {
    const found = await api("POST", "/v1/catalogue/retention/suggest", leaving);
    $("retention-offers").replaceChildren(...(found.offers.length ? found.offers.map((o) => item(
      `${o.name}${o.description ? ` — ${o.description}` : ""}`,
      ...["accepted", "declined"].map((answer) => button(answer === "accepted" ? "Customer accepted" : "Customer declined",
        async () => {
          try {
            await api("POST", "/v1/catalogue/retention/offers", { ...leaving, contact_id: session.current, offer_id: o.id, answer });
            log(`retention offer ${o.name}: ${answer}`);
          } catch (error) { log(`not recorded: ${error.message}`); }
        }, { "data-offer": o.id, "data-answer": answer })))) : [item("No offer fits this customer")]));
  } catch (error) { log(`retention offers: ${error.message}`); }
});

async function refreshApprovals() {
  try {
    const waiting = await api("GET", "/v1/catalogue/orders?status=awaiting_approval");
    $("approval-list").replaceChildren(...waiting.orders.map((o) => item(
      `${o.author}: ${o.discount_percent}% off ${dollars(o.total_cents)} — ${o.discount_reason || ""}`,
      button("Approve", async () => {
        try { await api("POST", `/v1/catalogue/orders/${o.order_id}/approve`); refreshApprovals(); }
        catch (error) { $("approvals-error").textContent = error.message; }
      }, { "data-order": o.order_id }))));
  } catch (error) { $("approvals-error").textContent = error.message; }
}
$("approvals-refresh").addEventListener("click", refreshApprovals);

const openContactBeforeCatalogue = openContact;
openContact = async (contactId) => {  // eslint-disable-line no-global-assign
  const contact = await openContactBeforeCatalogue(contactId);  // the contact it read
  if (contact && session.current === contactId) await loadProvision(contact);
};
const helloBeforeCatalogue = handlers.hello;
handlers.hello = (me) => {
  helloBeforeCatalogue(me);
  $("approvals").hidden = !me.supervisor;
  if (me.supervisor) refreshApprovals();
};
