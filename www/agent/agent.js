// Baton agent console: the built-in human queue, live.
// Text from customers is always inserted with textContent, never as HTML.
(function () {
  "use strict";
  var REASONS = {
    sensitive_intent: "Sensitive topic",
    frustration: "Customer is frustrated",
    explicit_request: "Asked for a person",
    repeated_failure: "Answers didn't help",
    out_of_scope: "Bot couldn't answer",
  };
  var form = document.getElementById("connect");
  var siteInput = document.getElementById("site");
  var tokenInput = document.getElementById("token");
  var list = document.getElementById("waiting");
  var statusLine = document.getElementById("status");
  var count = document.getElementById("count");
  var empty = document.getElementById("empty");
  var template = document.getElementById("entry");
  var timer = null;

  // `cargo xtask dev` prints a link with the development token in the fragment
  // (never sent to the server); keep it for this tab and drop it from the address bar.
  var fromLink = /^#token=([A-Za-z0-9_-]+)$/.exec(location.hash);
  if (fromLink) {
    sessionStorage.setItem("baton.agentToken", fromLink[1]);
    history.replaceState(null, "", location.pathname);
  }
  tokenInput.value = sessionStorage.getItem("baton.agentToken") || "";
  siteInput.value = sessionStorage.getItem("baton.site") || siteInput.value;

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    sessionStorage.setItem("baton.agentToken", tokenInput.value);
    sessionStorage.setItem("baton.site", siteInput.value);
    refresh();
  });
  if (tokenInput.value) refresh();

  function refresh() {
    clearTimeout(timer);
    fetch("/v1/agent/queue?site=" + encodeURIComponent(siteInput.value), {
      headers: { authorization: "Bearer " + tokenInput.value },
    })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (result) {
        if (!result.ok) {
          statusLine.textContent = "Could not load the queue: " + result.body.error.message;
          return;
        }
        render(result.body.waiting);
        statusLine.textContent = "Live · updated " + new Date().toLocaleTimeString();
        timer = setTimeout(refresh, 3000);
      })
      .catch(function () {
        statusLine.textContent = "Offline; retrying…";
        timer = setTimeout(refresh, 5000);
      });
  }

  function render(waiting) {
    count.textContent = String(waiting.length);
    empty.hidden = waiting.length > 0;
    list.replaceChildren();
    waiting.forEach(function (entry, index) {
      var item = template.content.firstElementChild.cloneNode(true);
      item.dataset.conversation = entry.conversation_id;
      var urgent = entry.reasons.indexOf("sensitive_intent") >= 0 || entry.reasons.indexOf("frustration") >= 0;
      item.classList.toggle("urgent", urgent);
      item.querySelector(".priority").textContent = "#" + (index + 1) + (urgent ? " · priority" : "");
      item.querySelector(".intent").textContent = entry.intent
        ? entry.intent.intent.replace(/_/g, " ") + " (" + Math.round(entry.intent.confidence * 100) + "%)"
        : "intent unknown";
      var age = item.querySelector(".age");
      age.dateTime = new Date(entry.created_at_ms).toISOString();
      age.textContent = ago(entry.created_at_ms);
      item.querySelector(".summary").textContent = entry.summary || "(no summary)";
      var reasons = item.querySelector(".reasons");
      entry.reasons.forEach(function (reason) {
        var li = document.createElement("li");
        li.textContent = REASONS[reason] || reason;
        reasons.appendChild(li);
      });
      item.querySelector(".open").addEventListener("click", function () { showPacket(entry.conversation_id); });
      item.querySelector(".meta").textContent = "Conversation " + entry.conversation_id.slice(0, 8) + " · " + (entry.language || "?");
      list.appendChild(item);
    });
  }

  function showPacket(conversationId) {
    fetch("/v1/agent/packet?site=" + encodeURIComponent(siteInput.value) +
          "&conversation=" + encodeURIComponent(conversationId), {
      headers: { authorization: "Bearer " + tokenInput.value },
    })
      .then(function (response) { return response.json(); })
      .then(function (view) {
        if (view.error) { statusLine.textContent = "Could not open the packet: " + view.error.message; return; }
        var section = document.getElementById("packet");
        var packet = view.packet;
        section.dataset.conversation = view.conversation_id;
        section.querySelector(".packet-summary").textContent = packet.summary || "(no summary)";
        var reasons = section.querySelector(".packet-reasons");
        reasons.replaceChildren();
        (packet.reasons.length ? packet.reasons : ["customer_choice"]).forEach(function (reason) {
          var li = document.createElement("li");
          li.textContent = REASONS[reason] || "Chose to talk to a person";
          reasons.appendChild(li);
        });
        var mood = packet.sentiment.map(function (s) { return s < -0.3 ? "upset" : s > 0.3 ? "positive" : "neutral"; });
        section.querySelector(".packet-meta").textContent =
          "Answers already shown: " + (packet.answers_shown.join(", ").replace(/_/g, " ") || "none") +
          " · Mood over the conversation: " + (mood.join(" → ") || "unknown") +
          " · Language: " + (packet.language || "?");
        var transcript = section.querySelector(".transcript");
        transcript.replaceChildren();
        packet.transcript.forEach(function (line) {
          var li = document.createElement("li");
          li.className = "line from-" + line.author;
          var who = document.createElement("strong");
          who.textContent = line.author === "customer" ? "Customer" : line.author === "bot" ? "Bot" : line.author;
          li.appendChild(who);
          li.appendChild(document.createTextNode(" " + line.text));
          transcript.appendChild(li);
        });
        section.hidden = false;
        section.focus();
      })
      .catch(function () { statusLine.textContent = "Offline; could not open the packet."; });
  }

  function ago(ms) {
    var seconds = Math.max(0, Math.round((Date.now() - ms) / 1000));
    if (seconds < 60) return seconds + " s waiting";
    var minutes = Math.round(seconds / 60);
    if (minutes < 60) return minutes + " min waiting";
    return Math.round(minutes / 60) + " h waiting";
  }
})();
