// The analytics dashboard's charts (issue 18). The data comes from {{ …|json_script }} blocks named by each
// canvas's data-chart attribute; no inline scripts (CSP). Every chart has a table with the same numbers.
(function () {
  "use strict";
  var COLORS = ["#0f766e", "#b45309", "#7c3aed", "#be123c"];

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source || typeof window.Chart === "undefined") return;
    var spec = JSON.parse(source.textContent);
    var datasets = spec.series.map(function (series, index) {
      var color = COLORS[index % COLORS.length];
      return {
        label: series.label,
        data: series.data,
        borderColor: color,
        backgroundColor: spec.type === "bar" ? color : color + "33",
        spanGaps: false,
        tension: 0.2,
      };
    });
    new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: true,
        aspectRatio: window.innerWidth < 600 ? 1.2 : 2.5,
        animation: false,
        indexAxis: spec.type === "bar" ? "y" : "x",
        plugins: { legend: { display: spec.series.length > 1 } },
        scales: { x: { beginAtZero: true }, y: { beginAtZero: true } },
      },
    });
    canvas.setAttribute("data-drawn", "true");
  }

  function start() {
    var canvases = document.querySelectorAll("canvas[data-chart]");
    for (var i = 0; i < canvases.length; i++) draw(canvases[i]);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
