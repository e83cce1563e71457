// Campus dashboard charts: reads the JSON data block and draws with the vendored Chart.js.
// No inline script: the CSP forbids it; the data block is type="application/json".
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || typeof window.Chart === "undefined") { return; }
  var data;
  try { data = JSON.parse(source.textContent); } catch (error) { return; }
  var labels = data.labels;
  var palette = ["#0b5a6b", "#a4161a", "#1d6b34", "#6b4e0b", "#4a5260", "#5b2a86", "#b35900"];

  function column(rows, key) { return rows.map(function (row) { return row[key]; }); }

  function draw(name, config) {
    var canvas = document.querySelector('canvas[data-chart="' + name + '"]');
    if (!canvas) { return; }
    config.options = Object.assign({ responsive: true, animation: false }, config.options || {});
    new window.Chart(canvas, config);
  }

  draw("members", {
    type: "bar",
    data: {
      labels: labels.kinds,
      datasets: [
        { label: labels.organisations, data: column(data.members_by_kind, "organisations"), backgroundColor: palette[0] },
        { label: labels.people, data: column(data.members_by_kind, "people"), backgroundColor: palette[2] }
      ]
    }
  });
  draw("events", {
    type: "bar",
    data: {
      labels: labels.months,
      datasets: [
        { label: labels.events, data: column(data.by_month, "events"), backgroundColor: palette[4], yAxisID: "y1" },
        { label: labels.registered, data: column(data.by_month, "registered"), backgroundColor: palette[0] },
        { label: labels.attended, data: column(data.by_month, "attended"), backgroundColor: palette[2] }
      ]
    },
    options: { scales: { y: { beginAtZero: true }, y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } } } }
  });
  draw("funds", {
    type: "line",
    data: {
      labels: labels.months,
      datasets: [{ label: labels.funds, data: column(data.by_month, "funds_eur"), borderColor: palette[1], backgroundColor: palette[1] }]
    },
    options: { scales: { y: { beginAtZero: true } } }
  });
  draw("deals", {
    type: "bar",
    data: {
      labels: labels.months,
      datasets: [
        { label: labels.contracts, data: column(data.by_month, "contracts"), backgroundColor: palette[3] },
        { label: labels.partnerships, data: column(data.by_month, "partnerships"), backgroundColor: palette[5] }
      ]
    },
    options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
  });
})();
