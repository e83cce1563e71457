// Charts of checked outputs: reads the specs from data-charts (no inline script, CSP-safe).
(function () {
  "use strict";
  function draw(box) {
    var specs;
    try { specs = JSON.parse(box.getAttribute("data-charts") || "[]"); } catch (e) { return; }
    if (!window.Chart || !specs.length) return;
    specs.forEach(function (spec) {
      var figure = document.createElement("figure");
      var caption = document.createElement("figcaption");
      caption.textContent = spec.title;
      var canvas = document.createElement("canvas");
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", spec.title);
      figure.appendChild(caption);
      figure.appendChild(canvas);
      box.appendChild(figure);
      if (spec.type === "line") {
        var datasets = Object.keys(spec.series).map(function (name) {
          return { label: name, data: spec.series[name], stepped: true, fill: false };
        });
        new window.Chart(canvas, {
          type: "line",
          data: { datasets: datasets },
          options: { parsing: true, scales: { x: { type: "linear", title: { display: true, text: "days" } }, y: { min: 0, max: 1 } } }
        });
      } else {
        new window.Chart(canvas, {
          type: "bar",
          data: { labels: spec.labels, datasets: [{ label: spec.title, data: spec.values }] },
          options: { plugins: { legend: { display: false } } }
        });
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-charts]").forEach(draw);
  });
})();
