/* Switchboard web chat widget: plain JavaScript, no dependencies.
 *
 * Embed:  <script src="https://<intake>/chat/widget.js" data-entry="acme-web"></script>
 * (on the demo page, ?entry=acme-web names the entry point instead).
 *
 * The chat survives a reload or a dropped connection: its session and secret are kept in the
 * page's sessionStorage and the widget reconnects, asking for every line after the last it shows.
 * A message is shown as sent once the centre acknowledged it, and re-sent (with the same id) until
 * then, so a message typed during an outage is neither lost nor doubled.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = new URL(script.src, location.href);
  var entry = script.getAttribute("data-entry") ||
    new URLSearchParams(location.search).get("entry") || "";
  var storeKey = "switchboard-chat:" + base.host + ":" + entry;
  var saved = JSON.parse(sessionStorage.getItem(storeKey) || "{}");
  var seen = 0;              // the last line shown: a new page shows the whole chat again
  var pending = {};           // message id -> text, until acknowledged
  var socket = null;
  var retryMs = 500;
  var typingSent = 0;

  var box = document.createElement("section");
  box.id = "switchboard-chat";
  box.setAttribute("aria-label", "Chat with us");
  box.innerHTML =
    '<style>#switchboard-chat{position:fixed;right:1em;bottom:1em;width:20em;font:14px sans-serif;' +
    'background:#fff;border:1px solid #889;border-radius:.5em;box-shadow:0 2px 8px #0003}' +
    '#switchboard-chat header{background:#235;color:#fff;padding:.5em;border-radius:.5em .5em 0 0}' +
    '#switchboard-chat ol{list-style:none;margin:0;padding:.5em;height:16em;overflow-y:auto}' +
    '#switchboard-chat li{margin:.25em 0;padding:.3em .5em;border-radius:.4em;max-width:85%}' +
    '#switchboard-chat li.customer{background:#def;margin-left:auto}' +
    '#switchboard-chat li.agent{background:#eee}' +
    '#switchboard-chat li.sending{opacity:.6}' +
    '#switchboard-chat form{display:flex;border-top:1px solid #ccc}' +
    '#switchboard-chat input{flex:1;border:0;padding:.5em}' +
    '#switchboard-chat .status{font-size:12px;color:#666;padding:0 .5em}</style>' +
    '<header>Chat with us</header><ol class="lines" aria-live="polite"></ol>' +
    '<div class="status" role="status"></div>' +
    '<form><input name="text" autocomplete="off" maxlength="2000" ' +
    'placeholder="Type a message" aria-label="Message"><button>Send</button></form>';
  document.body.appendChild(box);
  var lines = box.querySelector(".lines");
  var status = box.querySelector(".status");
  var form = box.querySelector("form");
  var input = form.querySelector("input");

  function save() {
    sessionStorage.setItem(storeKey, JSON.stringify(saved));
  }

  function show(from, text, id, seq) {
    var existing = id ? lines.querySelector('[data-id="' + id + '"]') : null;
    var item = existing || document.createElement("li");
    item.className = from + (seq ? "" : " sending");
    item.textContent = text;
    if (id) item.setAttribute("data-id", id);
    if (seq) item.setAttribute("data-seq", String(seq));
    if (!existing) lines.appendChild(item);
    lines.scrollTop = lines.scrollHeight;
  }

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  }

  function connect() {
    var url = new URL("/v1/chat/ws", base);
    url.protocol = base.protocol === "https:" ? "wss:" : "ws:";
    socket = new WebSocket(url);
    socket.onopen = function () {
      retryMs = 500;
      send({type: "hello", entry: entry, session: saved.session, secret: saved.secret,
            after: seen});
    };
    socket.onmessage = function (message) {
      var frame = JSON.parse(message.data);
      if (frame.type === "welcome") {
        if (frame.secret) { saved.session = frame.session; saved.secret = frame.secret; save(); }
        status.textContent = "";
        Object.keys(pending).forEach(function (id) {
          send({type: "message", id: id, text: pending[id]});
        });
      } else if (frame.type === "line") {
        if (frame.seq <= seen) return;
        seen = frame.seq;
        if (frame.from === "agent") { send({type: "delivered", seq: frame.seq}); status.textContent = ""; }
        if (lines.querySelector('[data-seq="' + frame.seq + '"]')) return;
        if (frame.from === "customer") {
          var mine = Array.prototype.find.call(lines.querySelectorAll("li.customer.sending"),
            function (item) { return item.textContent === frame.text; });
          if (mine) { mine.className = "customer"; mine.setAttribute("data-seq", String(frame.seq)); return; }
        }
        show(frame.from, frame.text, null, frame.seq);
      } else if (frame.type === "ack") {
        delete pending[frame.id];
        var sent = lines.querySelector('[data-id="' + frame.id + '"]');
        if (!sent) return;
        if (lines.querySelector('[data-seq="' + frame.seq + '"]') && !sent.hasAttribute("data-seq")) {
          sent.remove();  // its line came first (the centre masked a number in it)
        } else {
          sent.className = "customer"; sent.setAttribute("data-seq", String(frame.seq));
        }
      } else if (frame.type === "ended") {
        saved = {}; save();  // the next message starts a new chat
        status.textContent = "The agent has closed this chat. Send a message to start a new one.";
        socket.close();
      } else if (frame.type === "typing") {
        status.textContent = "An agent is typing…";
      } else if (frame.type === "error") {
        status.textContent = frame.reason;
        if (/not yours|has ended/.test(frame.reason)) { saved = {}; seen = 0; save(); }
      }
    };
    socket.onclose = function () {
      if (saved.session) status.textContent = "Reconnecting…";
      setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, 10000);
    };
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) return;
    var id = Date.now().toString(36) + Math.random().toString(36).slice(2, 8);
    pending[id] = text;
    show("customer", text, id, null);
    input.value = "";
    send({type: "message", id: id, text: text});
  });
  input.addEventListener("input", function () {
    if (Date.now() - typingSent > 3000) { typingSent = Date.now(); send({type: "typing"}); }
  });
  connect();
})();
