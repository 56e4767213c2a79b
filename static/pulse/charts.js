/* PULSE charts: every <canvas data-pulse-chart="..." data-source="ID"> is drawn with
 * Chart.js (static/vendor/chart.umd.min.js) from the JSON the page put in
 * <script id="ID" type="application/json"> with Django's json_script (no inline script:
 * the CSP forbids it). Scores are 0–100; a day without a calculation is not drawn. */
(function () {
  "use strict";

  var COLORS = { brand: "#4f46e5", green: "#0f9f6e", sky: "#0ea5e9", amber: "#b45309", grid: "#e6e8f0", ink: "#4a5063" };

  function shortDate(iso) {
    var date = new Date(iso + "T00:00:00Z");
    return date.toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
  }

  function line(label, values, color, fill) {
    return {
      label: label,
      data: values,
      borderColor: color,
      backgroundColor: fill ? color + "22" : color,
      fill: fill ? "origin" : false,
      borderWidth: 2,
      pointRadius: values.length > 40 ? 0 : 2,
      pointHoverRadius: 4,
      spanGaps: true,
      tension: 0.25,
      cubicInterpolationMode: "monotone",
    };
  }

  function options(max) {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : { duration: 300 },
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom", labels: { color: COLORS.ink, usePointStyle: true, boxHeight: 8 } } },
      scales: {
        x: { grid: { display: false }, ticks: { color: COLORS.ink, maxRotation: 0, autoSkipPadding: 16 } },
        y: { beginAtZero: true, max: max, grid: { color: COLORS.grid }, ticks: { color: COLORS.ink } },
      },
    };
  }

  var BUILDERS = {
    // A team's four scores over time, one point per day with a calculation.
    vitality: function (data) {
      return {
        type: "line",
        data: {
          labels: data.labels.map(shortDate),
          datasets: [
            line("Vitality", data.vitality, COLORS.brand, true),
            line("Developer activity", data.developer_activity, COLORS.sky, false),
            line("Team retention", data.team_retention, COLORS.green, false),
            line("Community", data.community, COLORS.amber, false),
          ],
        },
        options: options(100),
      };
    },
    // A contributor's score over time.
    contributor: function (data) {
      return {
        type: "line",
        data: { labels: data.labels.map(shortDate), datasets: [line("Contribution score", data.contribution_score, COLORS.brand, true)] },
        options: options(undefined),
      };
    },
  };

  function draw(canvas) {
    var build = BUILDERS[canvas.dataset.pulseChart];
    var source = document.getElementById(canvas.dataset.source);
    if (!build || !source || typeof window.Chart === "undefined") {
      return;
    }
    new window.Chart(canvas, build(JSON.parse(source.textContent)));
    canvas.dataset.drawn = "true";
  }

  function drawAll() {
    document.querySelectorAll("canvas[data-pulse-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
