// Campus: small behaviours, no inline script (the CSP forbids it).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  // htmx requests carry the CSRF token as a header.
  document.addEventListener("htmx:configRequest", function (event) {
    if (meta) { event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content"); }
  });
  // Elements with data-confirm ask before submitting.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
})();
