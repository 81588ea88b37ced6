// Stands in for a slow connection: the chat's WebAssembly (`…/*.wasm`) and the site's
// model (`…/model.bin`) are held back until the test lets them through with
// `release("chat")` and `release("model")`, or fails them as a dropped connection would
// with `fail("chat")` (what is asked for after that is held back again). Everything else
// is fetched as usual.
(function () {
  const fetchNow = window.fetch.bind(window);
  const gates = {};
  function gate(name) {
    if (!gates[name]) {
      let open, drop;
      gates[name] = {
        promise: new Promise(function (resolve, reject) { open = resolve; drop = reject; }),
      };
      gates[name].open = open;
      gates[name].drop = drop;
    }
    return gates[name];
  }
  window.release = function (name) {
    gate(name).open();
  };
  window.fail = function (name) {
    gate(name).drop(new TypeError("Failed to fetch (the test dropped the connection)"));
    delete gates[name];
  };
  window.fetch = function (input, init) {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    const path = new URL(url, location.href).pathname;
    const held = path.endsWith(".wasm") ? "chat" : path.endsWith("/model.bin") ? "model" : null;
    if (held) {
      return gate(held).promise.then(function () {
        return fetchNow(input, init);
      });
    }
    return fetchNow(input, init);
  };
})();
