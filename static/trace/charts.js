/* TRACE charts: every <canvas data-chart="..." data-source="ID"> is drawn with Chart.js
 * (static/vendor/chart.umd.min.js) from the JSON the page put in <script id="ID"
 * type="application/json"> with Django's json_script. No inline script: the CSP forbids it. */
(function () {
  "use strict";

  var COLORS = {
    brand: "#4f46e5",
    brandSoft: "rgba(79, 70, 229, 0.22)",
    brandFaint: "rgba(79, 70, 229, 0.08)",
    green: "#0f9f6e",
    sky: "#0ea5e9",
    amber: "#f59e0b",
    grid: "#e6e8f0",
    ink: "#4a5063",
  };

  function shortDate(iso) {
    var date = new Date(iso + "T00:00:00Z");
    return date.toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
  }

  var PARTIAL_LABEL = "today (so far)";

  // The x labels; the last one says it is today, still counted, when `data.partial_last`.
  function labelsOf(data) {
    var labels = data.labels.map(shortDate);
    if (data.partial_last && labels.length) {
      labels[labels.length - 1] = PARTIAL_LABEL;
    }
    return labels;
  }

  // Whether point `index` of `data` is the partial day.
  function isPartial(data, index) {
    return Boolean(data.partial_last) && index === data.labels.length - 1;
  }

  // A line whose segment into the partial day is dashed.
  function dashedIntoPartial(data) {
    return {
      borderDash: function (ctx) {
        return isPartial(data, ctx.p1DataIndex) ? [5, 4] : undefined;
      },
    };
  }

  function baseOptions() {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: window.matchMedia("(prefers-reduced-motion: reduce)").matches ? false : { duration: 300 },
      interaction: { mode: "index", intersect: false },
      plugins: {
        legend: { position: "bottom", labels: { color: COLORS.ink, usePointStyle: true, boxHeight: 8 } },
        tooltip: { padding: 10 },
      },
      scales: {
        x: { grid: { display: false }, ticks: { color: COLORS.ink, maxRotation: 0, autoSkipPadding: 16 } },
        y: { beginAtZero: true, grid: { color: COLORS.grid }, ticks: { color: COLORS.ink, precision: 0 } },
      },
    };
  }

  var BUILDERS = {
    // Daily clicks (bars, left axis) against conversions (line, right axis).
    campaign: function (data) {
      var options = baseOptions();
      options.scales.y.title = { display: true, text: "Clicks", color: COLORS.ink };
      options.scales.y1 = {
        beginAtZero: true,
        position: "right",
        grid: { drawOnChartArea: false },
        ticks: { color: COLORS.green, precision: 0 },
        title: { display: true, text: "Conversions", color: COLORS.green },
      };
      return {
        type: "bar",
        data: {
          labels: labelsOf(data),
          datasets: [
            {
              label: "Clicks",
              data: data.clicks,
              // Today's bar is lighter: the day is not over.
              backgroundColor: data.clicks.map(function (_, index) {
                return isPartial(data, index) ? COLORS.brandFaint : COLORS.brandSoft;
              }),
              borderColor: COLORS.brand,
              borderWidth: 1,
              borderRadius: 3,
              yAxisID: "y",
              order: 2,
            },
            {
              type: "line",
              label: "Conversions",
              data: data.conversions,
              borderColor: COLORS.green,
              backgroundColor: COLORS.green,
              borderWidth: 2,
              pointRadius: 2,
              pointStyle: data.conversions.map(function (_, index) {
                return isPartial(data, index) ? "rectRot" : "circle";
              }),
              segment: dashedIntoPartial(data),
              tension: 0.3,
              cubicInterpolationMode: "monotone",
              yAxisID: "y1",
              order: 1,
            },
          ],
        },
        options: options,
      };
    },

    // Distinct active wallets over 1, 7 and 30 days.
    activity: function (data) {
      function line(label, values, color, fill) {
        return {
          label: label,
          data: values,
          borderColor: color,
          backgroundColor: fill ? color + "22" : color,
          fill: fill ? "origin" : false,
          borderWidth: 2,
          pointRadius: 0,
          pointHoverRadius: 4,
          tension: 0.25,
          cubicInterpolationMode: "monotone",
          segment: dashedIntoPartial(data),
        };
      }
      return {
        type: "line",
        data: {
          labels: labelsOf(data),
          datasets: [
            line("DAU", data.dau, COLORS.brand, true),
            line("WAU", data.wau, COLORS.sky, false),
            line("MAU", data.mau, COLORS.amber, false),
          ],
        },
        options: baseOptions(),
      };
    },
  };

  function draw(canvas) {
    var build = BUILDERS[canvas.dataset.chart];
    var source = document.getElementById(canvas.dataset.source);
    if (!build || !source || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    new window.Chart(canvas, build(data));
    canvas.dataset.partialDay = data.partial_last ? "last" : "none";
  }

  function drawAll() {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
