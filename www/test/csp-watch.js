// Records Content-Security-Policy violations so tests can assert there are none.
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " " + (event.blockedURI || "inline"));
});
// Records errors the page's scripts report, for the same reason.
window.__errors = [];
window.addEventListener("error", function (event) { window.__errors.push(String(event.message)); });
window.addEventListener("unhandledrejection", function (event) { window.__errors.push(String(event.reason)); });
(function () {
  var original = console.error;
  console.error = function () {
    window.__errors.push(Array.prototype.map.call(arguments, String).join(" "));
    return original.apply(console, arguments);
  };
})();
