/* A listing's score components as horizontal bars: <canvas data-source="ID"> drawn with
 * Chart.js (static/vendor/chart.umd.min.js) from the JSON the page put in
 * <script id="ID" type="application/json"> (json_script; the CSP allows no inline
 * script). Each bar is the component's points out of its maximum. */
(function () {
  "use strict";

  if (!window.Chart) {
    return;
  }
  var INK = "#4a5063";
  document.querySelectorAll("canvas[data-source]").forEach(function (canvas) {
    var source = document.getElementById(canvas.dataset.source);
    if (!source) {
      return;
    }
    var data = JSON.parse(source.textContent);
    var reduced = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: "Points", data: data.scores, backgroundColor: "#4f46e5", borderRadius: 3 },
          { label: "Maximum", data: data.maxima, backgroundColor: "#e6e8f0", borderRadius: 3, grouped: false, order: 1 },
        ],
      },
      options: {
        indexAxis: "y",
        responsive: true,
        maintainAspectRatio: false,
        animation: reduced ? false : { duration: 300 },
        plugins: { legend: { display: false } },
        scales: {
          x: { beginAtZero: true, ticks: { color: INK } },
          y: { ticks: { color: INK } },
        },
      },
    });
  });
})();
