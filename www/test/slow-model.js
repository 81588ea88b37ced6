// Stands in for a slow connection: the site's model (`…/model.bin`) is held back until
// the test calls `releaseModel()`. Everything else is fetched as usual.
(function () {
  const fetchNow = window.fetch.bind(window);
  let release;
  const released = new Promise(function (resolve) {
    release = resolve;
  });
  window.releaseModel = function () {
    release();
  };
  window.fetch = function (input, init) {
    const url = typeof input === "string" ? input : input.url;
    if (new URL(url, location.href).pathname.endsWith("/model.bin")) {
      return released.then(function () {
        return fetchNow(input, init);
      });
    }
    return fetchNow(input, init);
  };
})();
