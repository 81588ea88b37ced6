// The docs' pattern for a script that may run before the widget tag, and what the
// page hears, for tests: console warnings, and each event the chat sends.
window.__warnings = [];
window.__events = [];
(function () {
  var original = console.warn;
  console.warn = function () {
    window.__warnings.push(Array.prototype.map.call(arguments, String).join(" "));
    return original.apply(console, arguments);
  };
})();
function setUpChat() {
  ["open", "close", "message"].forEach(function (event) {
    Baton.on(event, function () { window.__events.push(event); });
  });
}
if (window.Baton) setUpChat();
else window.addEventListener("baton:ready", setUpChat);
