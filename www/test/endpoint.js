// Embeds the widget with data-endpoint taken from ?endpoint= (tests point it at a
// proxy they can take down, to check that no message is lost while the edge is away).
(function () {
  "use strict";
  var endpoint = new URLSearchParams(location.search).get("endpoint");
  var tag = document.createElement("script");
  tag.src = "/widget.js";
  tag.async = true;
  tag.dataset.site = "demo";
  if (endpoint) tag.dataset.endpoint = endpoint;
  document.head.appendChild(tag);
})();
