// Embeds the widget with data-endpoint taken from ?endpoint= (tests point it at a
// proxy they can take down, to check that no message is lost while the edge is away)
// and data-site from ?site= (default "demo"; tests use sites of their own).
(function () {
  "use strict";
  var params = new URLSearchParams(location.search);
  var endpoint = params.get("endpoint");
  var tag = document.createElement("script");
  tag.src = "/widget.js";
  tag.async = true;
  tag.dataset.site = params.get("site") || "demo";
  if (endpoint) tag.dataset.endpoint = endpoint;
  document.head.appendChild(tag);
})();
