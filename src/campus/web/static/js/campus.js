// Campus: small behaviours, no inline script (the CSP forbids it).
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  // htmx requests carry the CSRF token as a header.
  document.addEventListener("htmx:configRequest", function (event) {
    if (meta) { event.detail.headers["X-CSRF-Token"] = meta.getAttribute("content"); }
  });
  // Menu groups: one open at a time; a click elsewhere or Escape closes them.
  var groups = document.querySelectorAll(".menu-group details");
  groups.forEach(function (group) {
    group.addEventListener("toggle", function () {
      if (!group.open) { return; }
      groups.forEach(function (other) { if (other !== group) { other.open = false; } });
    });
  });
  document.addEventListener("click", function (event) {
    groups.forEach(function (group) { if (!group.contains(event.target)) { group.open = false; } });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    groups.forEach(function (group) {
      if (group.open) { group.open = false; group.querySelector("summary").focus(); }
    });
  });
  // The menu button (narrow screens): the stylesheet hides the menu only once this runs.
  document.documentElement.classList.add("js");
  var header = document.querySelector(".site-header");
  var toggle = document.querySelector(".menu-toggle");
  if (header && toggle) {
    toggle.addEventListener("click", function () {
      var open = header.classList.toggle("menu-open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }
  // On a phone, a table wider than the screen becomes one card a row, each cell under its
  // column's name; a table still wider than its box scrolls inside it, and the keyboard
  // reaches it to scroll it.
  var phone = window.matchMedia("(max-width: 48rem)");
  var colon = document.documentElement.lang === "fr" ? "\u202f: " : ": ";
  function asCards(table) {
    var names = [];
    table.querySelectorAll("thead tr:first-child > *").forEach(function (cell) {
      for (var i = 0; i < (cell.colSpan || 1); i++) { names.push(cell.textContent.trim()); }
    });
    table.querySelectorAll("tbody tr").forEach(function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.children, function (cell) {
        var name = names[column];
        if (name && !cell.hasAttribute("data-label")) { cell.setAttribute("data-label", name + colon); }
        column += cell.colSpan || 1;
      });
    });
    table.classList.add("as-cards");
  }
  function tooWide(table) {
    return table.getBoundingClientRect().width > table.parentElement.clientWidth + 1;
  }
  function fitTables(root) {
    root.querySelectorAll("main table").forEach(function (table) {
      if (phone.matches && !table.classList.contains("as-cards") && tooWide(table) &&
          table.querySelector("thead")) {
        asCards(table);
      }
      if (tooWide(table) || table.scrollWidth > table.clientWidth + 1) {
        table.classList.add("scroll-x");
        if (!table.hasAttribute("tabindex")) { table.setAttribute("tabindex", "0"); }
      }
    });
  }
  fitTables(document);
  document.addEventListener("htmx:afterSettle", function () { fitTables(document); });
  // Elements with data-confirm ask before submitting.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) { event.preventDefault(); }
  });
})();
