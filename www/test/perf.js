// Records every long task (> 50 ms on the main thread) from the start of the page, for
// `cargo xtask bench widget`. Loaded first, before anything else on the page.
(function () {
  "use strict";
  window.__longTasks = [];
  try {
    new PerformanceObserver(function (list) {
      list.getEntries().forEach(function (entry) {
        window.__longTasks.push({ start: entry.startTime, duration: entry.duration });
      });
    }).observe({ type: "longtask", buffered: true });
  } catch (e) {
    window.__longTasks = null; // this browser cannot observe long tasks
  }
  // ?busy=N blocks the main thread for N ms after load: the benchmark's calibration,
  // proving that a long task would be seen.
  var busy = Number(new URLSearchParams(location.search).get("busy"));
  if (busy > 0) {
    addEventListener("load", function () {
      var until = performance.now() + busy;
      while (performance.now() < until) { /* block */ }
    });
  }
})();
