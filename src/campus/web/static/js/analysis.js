// Charts of checked outputs: reads the specs from data-charts (no inline script, CSP-safe).
// A suppressed cell has no bar (its value is null, never 0): the chart writes the spec's
// `suppressed_label` ("supprimé") where its bar would stand.
(function () {
  "use strict";
  var suppressedLabels = {
    id: "suppressedLabels",
    afterDatasetsDraw: function (chart, _args, options) {
      var indexes = options.indexes || [];
      if (!indexes.length) return;
      var ctx = chart.ctx;
      var x = chart.scales.x;
      var y = chart.scales.y;
      ctx.save();
      ctx.fillStyle = "#4a5260";
      ctx.font = "italic 12px system-ui, sans-serif";
      ctx.textAlign = "center";
      ctx.textBaseline = "bottom";
      indexes.forEach(function (index) {
        ctx.fillText(options.text, x.getPixelForValue(index), y.getPixelForValue(0) - 4);
      });
      ctx.restore();
    }
  };
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
          options: {
            parsing: true,
            scales: { x: { type: "linear", title: { display: true, text: spec.x_label || "" } }, y: { min: 0, max: 1 } }
          }
        });
      } else {
        new window.Chart(canvas, {
          type: "bar",
          data: { labels: spec.labels, datasets: [{ label: spec.title, data: spec.values, backgroundColor: "#0b5a6b" }] },
          options: {
            scales: { y: { beginAtZero: true } },
            plugins: {
              legend: { display: false },
              suppressedLabels: { indexes: spec.suppressed || [], text: spec.suppressed_label || "" }
            }
          },
          plugins: [suppressedLabels]
        });
      }
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-charts]").forEach(draw);
  });
})();
