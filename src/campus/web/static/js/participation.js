// Participation: the results chart, drawn from the JSON block the page carries (no inline script).
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("results-chart");
    var source = document.getElementById("results-chart-data");
    if (!canvas || !source || typeof window.Chart === "undefined") { return; }
    var data;
    try { data = JSON.parse(source.textContent); } catch (error) { return; }
    if (!data.labels || !data.labels.length) { return; }
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{ label: data.label, data: data.values, backgroundColor: "#0b5a6b" }]
      },
      options: {
        indexAxis: "y",
        responsive: true,
        animation: false,
        scales: { x: { beginAtZero: true, ticks: { precision: 0 } } },
        plugins: { legend: { display: false } }
      }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else { draw(); }
})();
