// The embed tag of www/test/elsewhere.html, pointing at the edge's other address (the
// port is the test edge's, known only at run time).
var tag = document.createElement("script");
tag.src = "http://127.0.0.1:" + location.port + "/widget.js";
tag.async = true;
tag.dataset.site = "elsewhere";
document.body.appendChild(tag);
