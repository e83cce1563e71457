// A single-use link carries its token in the URL fragment (#token=...), which the browser
// never sends: no server or proxy log sees it. This copies it into the form's field, which
// a POST sends in its body, and takes it out of the address bar and the history.
// A field marked data-fragment-token="keep" also keeps the token in this tab's session
// storage, so that the page still has it after a sign-in that comes back to it.
(function () {
  "use strict";
  var field = document.querySelector("input[data-fragment-token]");
  if (!field) { return; }
  var key = "campus-link-token:" + window.location.pathname;
  var keep = field.getAttribute("data-fragment-token") === "keep";
  var match = window.location.hash.match(/^#token=([A-Za-z0-9_.\-]+)$/);
  if (!match) {
    if (keep && !field.value && window.sessionStorage.getItem(key)) {
      field.value = window.sessionStorage.getItem(key);
    }
    return;
  }
  field.value = match[1];
  if (keep) { window.sessionStorage.setItem(key, match[1]); }
  window.history.replaceState(null, "", window.location.pathname);
})();
