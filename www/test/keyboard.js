// Stands in for a phone's on-screen keyboard, which headless browsers do not have: the
// page's visual viewport becomes one the test can shrink and scroll, as a keyboard does,
// while the layout viewport (what 100vh and 100dvh measure) stays as it is.
(function () {
  var viewport = new EventTarget();
  viewport.offsetLeft = 0;
  viewport.offsetTop = 0;
  viewport.pageLeft = 0;
  viewport.pageTop = 0;
  viewport.scale = 1;
  viewport.width = window.innerWidth;
  viewport.height = window.innerHeight;
  Object.defineProperty(window, "visualViewport", { value: viewport, configurable: true });
  // Opens a keyboard `height` px tall; `scrolled` px of the page move up under it, as
  // iOS does when it brings a focused field into view.
  window.__showKeyboard = function (height, scrolled) {
    viewport.height = window.innerHeight - height;
    viewport.offsetTop = scrolled || 0;
    viewport.dispatchEvent(new Event("resize"));
    viewport.dispatchEvent(new Event("scroll"));
  };
})();
