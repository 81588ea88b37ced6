// Stands in for a slow connection: the chat's WebAssembly (`…/*.wasm`) and the site's
// model (`…/model.bin`) are held back until the test lets them through with
// `release("chat")` and `release("model")`. Everything else is fetched as usual.
(function () {
  const fetchNow = window.fetch.bind(window);
  const gates = {};
  function gate(name) {
    if (!gates[name]) {
      let open;
      gates[name] = { promise: new Promise(function (resolve) { open = resolve; }) };
      gates[name].open = open;
    }
    return gates[name];
  }
  window.release = function (name) {
    gate(name).open();
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
