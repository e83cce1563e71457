// A single-use link carries its token in the URL fragment (#token=...), which the browser
// never sends: no server or proxy log sees it. This copies it into the form's field, which
// a POST sends in its body, and takes it out of the address bar and the history.
(function () {
  "use strict";
  var field = document.querySelector("input[data-fragment-token]");
  var match = window.location.hash.match(/^#token=([A-Za-z0-9_.\-]+)$/);
  if (!field || !match) { return; }
  field.value = match[1];
  window.history.replaceState(null, "", window.location.pathname);
})();
