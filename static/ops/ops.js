/* The operations page (templates/ops/page.html): draws its charts with Chart.js from the
 * figures the page handed over (json_script "ops-data": no inline script, the CSP forbids
 * it), and keeps the page current from the WebSocket /ws/live: it subscribes to "ops" and
 * applies each {"channel": "ops", "event": "metrics" | "telemetry", "data": ...} message
 * (the API's OperationalMetricsSerializer / TelemetrySerializer output) by drawing the
 * sections again in the page's own markup. Without a socket the page still works: reload.
 *
 * window.fabrkntOps.apply(event, data) is the same entry point, for tests. */
(function () {
  "use strict";

  var COLORS = { brand: "#4f46e5", sky: "#0ea5e9", red: "#b42318", amber: "#b45309", grid: "#e6e8f0", ink: "#4a5063" };
  var RECONNECT_MIN_MS = 1000;
  var RECONNECT_MAX_MS = 30000;

  var source = document.getElementById("ops-data");
  if (!source) {
    return;
  }
  var initial = JSON.parse(source.textContent);
  var ALARMS = initial.alarms;
  var state = { metrics: initial.metrics, telemetry: initial.telemetry };
  var charts = {};

  // --- figures, written as templatetags/ops_format.py writes them ----------------------

  function duration(seconds) {
    if (seconds === null || seconds === undefined) return "—";
    if (seconds < 1) return Math.round(seconds * 1000) + " ms";
    if (seconds < 120) return Math.round(seconds) + " s";
    var minutes = Math.round(seconds / 60);
    if (minutes < 120) return minutes + " min";
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function figure(value, unit) {
    if (value === null || value === undefined) return "—";
    if (unit === "ratio") return (value * 100).toFixed(2) + " %";
    if (unit === "seconds") return duration(value);
    return value.toFixed(0);
  }

  function milliseconds(value) {
    return value === null || value === undefined ? "—" : value.toFixed(1) + " ms";
  }

  function when(iso) {
    return iso ? new Date(iso).toISOString().slice(0, 19).replace("T", " ") : "";
  }

  function alarmOf(name) {
    return ALARMS.filter(function (alarm) { return alarm.name === name; })[0];
  }

  function breached(name, value) {
    var alarm = alarmOf(name);
    if (!alarm || value === null || value === undefined) return false;
    return alarm.comparison === "GreaterThanOrEqualToThreshold" ? value >= alarm.threshold : value > alarm.threshold;
  }

  // --- DOM ----------------------------------------------------------------------------

  // el("td", {class: "num"}, ["text", child...]): attributes set as attributes, text as text.
  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      if (attributes[name] !== null && attributes[name] !== undefined && attributes[name] !== false) {
        node.setAttribute(name, attributes[name] === true ? "" : attributes[name]);
      }
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function muted(text) {
    return el("span", { class: "muted" }, [text]);
  }

  function stateBadge(text) {
    return el("span", { class: "state state--" + String(text).toLowerCase().replace(/[^a-z0-9]+/g, "-") }, [text]);
  }

  function time(iso) {
    return el("time", { datetime: iso }, [when(iso)]);
  }

  function table(label, headings, rows) {
    var head = el("tr", {}, headings.map(function (h) {
      var numeric = h.charAt(0) === "#";
      return el("th", { scope: "col", class: numeric ? "num" : null }, [numeric ? h.slice(1) : h]);
    }));
    return el("div", { class: "table-wrap", tabindex: "0", role: "region", "aria-label": label }, [
      el("table", { class: "table table--compact" }, [
        el("caption", { class: "visually-hidden" }, [label]),
        el("thead", {}, [head]),
        el("tbody", {}, rows),
      ]),
    ]);
  }

  function row(name, value, attributes) {
    return el("div", { class: "components__row" }, [el("dt", {}, [name]), el("dd", attributes || {}, value)]);
  }

  function capfirst(text) {
    return text.charAt(0).toUpperCase() + text.slice(1);
  }

  function section(name, children) {
    var node = document.querySelector('[data-ops-section="' + name + '"]');
    if (node) {
      node.replaceChildren.apply(node, children);
      if (window.htmx) window.htmx.process(node); // the confirm links open as dialogs
    }
    return node;
  }

  // --- sections -----------------------------------------------------------------------

  var STATE_LABELS = { ok: "OK", alarm: "Alarm", insufficient_data: "No data" };

  function renderAlarms() {
    var judged = {};
    ((state.metrics && state.metrics.alarms) || []).forEach(function (s) { judged[s.name] = s; });
    if (state.telemetry) judged[state.telemetry.backup.alarm.name] = state.telemetry.backup.alarm;
    var items = ALARMS.map(function (alarm) {
      var s = judged[alarm.name] || { state: "insufficient_data", value: null };
      return el("li", { class: "alarm alarm--" + s.state, "data-alarm": alarm.name }, [
        el("span", { class: "alarm__state" }, [STATE_LABELS[s.state] || s.state]),
        el("span", { class: "alarm__name" }, [alarm.name]),
        el("span", { class: "alarm__value" }, [figure(s.value, alarm.unit) + " ", muted("/ " + figure(alarm.threshold, alarm.unit))]),
        el("span", { class: "alarm__description muted" }, [alarm.description]),
      ]);
    });
    section("alarms", [el("ul", { class: "alarms" }, items)]);
  }

  function renderWindows(metrics) {
    var rows = metrics.windows.map(function (w) {
      var p99 = w.latency_p99_ms === null ? null : w.latency_p99_ms / 1000;
      return el("tr", { "data-window": String(w.minutes) }, [
        el("th", { scope: "row" }, [w.minutes + " min"]),
        el("td", { class: "num" }, [String(w.requests)]),
        el("td", { class: "num" }, [w.request_rate.toFixed(2)]),
        el("td", { class: "num" }, [milliseconds(w.latency_p50_ms)]),
        el("td", { class: "num" + (breached("http_latency_p99", p99) ? " is-alarm" : "") }, [milliseconds(w.latency_p99_ms)]),
        el("td", { class: "num" }, [String(w.server_errors)]),
        el("td", { class: "num" + (breached("http_5xx_rate", w.error_rate) ? " is-alarm" : "") }, [figure(w.error_rate, "ratio")]),
        el("td", { class: "num" }, [w.click_ingest_rate.toFixed(2)]),
      ]);
    });
    var backlog = metrics.click_backlog === null
      ? "none (without Redis clicks go straight to the database)"
      : el("strong", { "data-testid": "click-backlog" }, [String(metrics.click_backlog)]);
    section("windows", [
      table("Requests and clicks by window", ["Window", "#Requests", "#Per second", "#p50", "#p99", "#5xx", "#5xx share", "#Clicks per second"], rows),
      el("p", { class: "muted" }, ["Click backlog now: ", backlog, metrics.click_backlog === null ? "" : " stream entries", ". A window without requests has no latency (—)."]),
    ]);
  }

  function confirmLink(url, label, danger) {
    return el("a", {
      class: "button button--small " + (danger ? "button--danger" : "button--secondary"),
      href: url, "hx-get": url, "hx-target": "#modal-body", "hx-select": "#confirm", "hx-swap": "innerHTML",
    }, [label]);
  }

  function renderQueues(queues) {
    var node = document.querySelector('[data-ops-section="queues"]');
    if (!node) return;
    if (queues === null) {
      section("queues", [el("p", { class: "notice is-alarm" }, ["The broker cannot be reached: queue depths are unknown."])]);
      return;
    }
    if (!queues.length) {
      section("queues", [el("p", { class: "muted" }, ["No queues: without a broker (CELERY_BROKER_URL) tasks run in-process."])]);
      return;
    }
    function url(kind, name) {
      return node.dataset[kind].replace("__queue__", encodeURIComponent(name));
    }
    var rows = queues.map(function (q) {
      return el("tr", { "data-queue": q.name }, [
        el("th", { scope: "row" }, [q.name]),
        el("td", { class: "num", "data-testid": "queue-depth" }, [String(q.depth)]),
        el("td", { class: "num" }, [q.in_flight === null ? "—" : String(q.in_flight)]),
        el("td", { class: "num" + (breached("dead_letters", q.dead_letter_depth) ? " is-alarm" : ""), "data-testid": "queue-dead-letters" }, [String(q.dead_letter_depth)]),
        el("td", { class: "ops-actions" }, [
          confirmLink(url("retryUrl", q.name), "Retry dead letters", false),
          confirmLink(url("purgeDeadUrl", q.name), "Purge dead letters", true),
          confirmLink(url("purgeUrl", q.name), "Purge", true),
        ]),
      ]);
    });
    section("queues", [table("Queues", ["Queue", "#Waiting", "#In flight", "#Dead letters", "Actions"], rows)]);
  }

  function renderComponents(telemetry) {
    var rows = Object.keys(telemetry.components).map(function (name) {
      var c = telemetry.components[name];
      var value = [stateBadge(c.status)];
      if (c.latency_ms !== null) value.push(" ", muted(c.latency_ms.toFixed(1) + " ms"));
      var node = row(capfirst(name), value);
      node.setAttribute("data-component", name);
      return node;
    });
    section("components", [el("dl", { class: "components" }, rows)]);
  }

  function renderBackup(backup) {
    var content;
    if (!backup.supported) {
      content = el("p", { class: "muted" }, ["Backups run on PostgreSQL. This database is the embedded SQLite default: copy it with ", el("code", {}, ['sqlite3 db.sqlite3 ".backup copy.sqlite3"']), "."]);
    } else if (!backup.readable) {
      content = el("p", { class: "notice is-alarm" }, ["The backups storage cannot be read."]);
    } else if (!backup.latest) {
      content = el("p", { class: "notice is-alarm" }, ["No backup yet: run ", el("code", {}, ["manage.py backup_db"]), " (beat runs it hourly)."]);
    } else {
      var latest = backup.latest;
      content = el("dl", { class: "components" }, [
        row("Newest", [latest.name], { class: "mono" }),
        row("Taken", [time(latest.at), " UTC"]),
        row("Age", [duration(latest.age_seconds) + " ", muted("/ " + figure(backup.alarm.threshold, backup.alarm.unit))], { class: backup.alarm.state === "alarm" ? "is-alarm" : null }),
        row("Size", [latest.size + " bytes"]),
      ]);
    }
    section("backup", [content]);
  }

  function renderWorkers(telemetry) {
    if (telemetry.records === "not configured") {
      section("workers", [el("p", { class: "muted" }, ["No Redis (", el("code", {}, ["REDIS_URL"]), "): workers have nowhere to report, and with no broker either tasks run in the web process, so there are no workers to watch."])]);
      return;
    }
    if (telemetry.records !== "ok") {
      section("workers", [el("p", { class: "notice is-alarm" }, ["The workers' records in Redis are " + telemetry.records + ": workers unknown."])]);
      return;
    }
    if (!telemetry.workers.length) {
      section("workers", [el("p", { class: "muted" }, ["No worker has reported. Start one: ", el("code", {}, ["celery -A fabrknt worker"]), "."])]);
      return;
    }
    var rows = telemetry.workers.map(function (w) {
      return el("tr", { class: w.stale ? "is-alarm" : null }, [
        el("th", { scope: "row" }, [w.hostname + " ", muted("pid " + w.pid)]),
        el("td", {}, [w.queues.join(", ")]),
        el("td", {}, [w.pool + (w.concurrency ? " × " + w.concurrency : "")]),
        el("td", {}, [duration(w.seconds_since_seen) + " ago", w.stale ? " " : null, w.stale ? el("span", { class: "state state--down" }, ["stale"]) : null]),
        el("td", { class: "num" }, [String(w.tasks_run)]),
        el("td", { class: "num" }, [String(w.tasks_active)]),
      ]);
    });
    section("workers", [table("Workers", ["Worker", "Queues", "Pool", "Last seen", "#Tasks run", "#Active"], rows)]);
  }

  function renderSchedules(telemetry) {
    if (telemetry.schedules === null) {
      section("schedules", [el("p", { class: "notice is-alarm" }, ["The database is down: schedules unknown."])]);
      return;
    }
    if (!telemetry.schedules.length) {
      section("schedules", [el("p", { class: "muted" }, ["No schedules yet: beat writes them when it starts (", el("code", {}, ["celery -A fabrknt beat"]), ")."])]);
      return;
    }
    var rows = telemetry.schedules.map(function (s) {
      var result = s.last_result;
      var resultCell = result
        ? [stateBadge(result.status), result.error_class ? " " : null, result.error_class ? el("span", { class: "mono" }, [result.error_class]) : null,
           result.duration_ms !== null ? " " : null, result.duration_ms !== null ? muted(Math.round(result.duration_ms) + " ms") : null]
        : [muted("none recorded")];
      return el("tr", { "data-schedule": s.name, class: s.overdue ? "is-alarm" : null }, [
        el("th", { scope: "row" }, [s.name + " ", el("span", { class: "muted mono" }, [s.task]), s.enabled ? null : " ", s.enabled ? null : el("span", { class: "state state--not-configured" }, ["disabled"])]),
        el("td", {}, [s.schedule]),
        el("td", {}, [s.last_run_at ? time(s.last_run_at) : muted("never")]),
        el("td", {}, resultCell),
        el("td", {}, [s.due_at ? time(s.due_at) : "—", s.overdue ? " " : null, s.overdue ? el("span", { class: "state state--down" }, ["overdue"]) : null]),
      ]);
    });
    section("schedules", [table("Beat schedules", ["Schedule", "Every", "Last run", "Last result", "Next due"], rows)]);
  }

  function renderVersions(telemetry) {
    var rows = Object.keys(telemetry.versions).map(function (name) {
      return row(capfirst(name), [telemetry.versions[name] || "—"], { class: "mono" });
    });
    var pending = telemetry.migrations_pending;
    var text = pending === null ? "unknown (database down)" : pending.length ? pending.join(", ") : "none";
    rows.push(row("Migrations pending", [text], { class: pending && pending.length ? "is-alarm" : null, "data-testid": "migrations" }));
    section("versions", [el("dl", { class: "components" }, rows)]);
  }

  function renderGeneratedAt(iso) {
    var node = document.querySelector('[data-ops="generated-at"]');
    if (node) {
      node.setAttribute("datetime", iso);
      node.textContent = when(iso) + " UTC";
    }
  }

  // --- charts -------------------------------------------------------------------------

  function minuteLabel(iso) {
    return new Date(iso).toISOString().slice(11, 16);
  }

  function dataset(label, values, color, type) {
    return {
      type: type || "line", label: label, data: values, borderColor: color,
      backgroundColor: type === "bar" ? color : color + "22", borderWidth: 2, pointRadius: 2,
      spanGaps: false, tension: 0.2,
    };
  }

  function options() {
    return {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      interaction: { mode: "index", intersect: false },
      plugins: { legend: { position: "bottom", labels: { color: COLORS.ink, usePointStyle: true, boxHeight: 8 } } },
      scales: {
        x: { grid: { display: false }, ticks: { color: COLORS.ink, maxRotation: 0, autoSkipPadding: 16 } },
        y: { beginAtZero: true, grid: { color: COLORS.grid }, ticks: { color: COLORS.ink } },
      },
    };
  }

  // Each chart's labels and datasets from the metrics.
  var CHARTS = {
    requests: function (m) {
      return { labels: m.series.map(function (p) { return minuteLabel(p.minute); }),
        datasets: [dataset("Requests per second", m.series.map(function (p) { return +(p.requests / 60).toFixed(3); }), COLORS.brand)] };
    },
    latency: function (m) {
      var threshold = alarmOf("http_latency_p99").threshold * 1000;
      var limit = dataset("p99 alarm", m.series.map(function () { return threshold; }), COLORS.red);
      limit.borderDash = [6, 4];
      limit.borderWidth = 1;
      return { labels: m.series.map(function (p) { return minuteLabel(p.minute); }),
        datasets: [
          dataset("p50", m.series.map(function (p) { return p.latency_p50_ms; }), COLORS.sky),
          dataset("p99", m.series.map(function (p) { return p.latency_p99_ms; }), COLORS.brand),
          limit,
        ] };
    },
    errors: function (m) {
      return { labels: m.series.map(function (p) { return minuteLabel(p.minute); }),
        datasets: [dataset("5xx answers", m.series.map(function (p) { return p.server_errors; }), COLORS.red, "bar")] };
    },
    backlog: function (m) {
      return { labels: m.series.map(function (p) { return minuteLabel(p.minute); }),
        datasets: [dataset("Click backlog", m.series.map(function (p) { return p.click_backlog; }), COLORS.amber)] };
    },
    queues: function (m) {
      var queues = m.queues || [];
      return { labels: queues.map(function (q) { return q.name; }),
        datasets: [
          dataset("Waiting", queues.map(function (q) { return q.depth; }), COLORS.brand, "bar"),
          dataset("Dead letters", queues.map(function (q) { return q.dead_letter_depth; }), COLORS.red, "bar"),
        ] };
    },
  };

  function drawCharts(metrics) {
    var box = document.querySelector('[data-ops="charts"]');
    var missing = document.querySelector('[data-ops="metrics-missing"]');
    if (box) box.hidden = false;
    if (missing) missing.hidden = true;
    if (typeof window.Chart === "undefined") return;
    document.querySelectorAll("canvas[data-ops-chart]").forEach(function (canvas) {
      var name = canvas.dataset.opsChart;
      var data = CHARTS[name](metrics);
      if (charts[name]) {
        charts[name].data.labels = data.labels;
        charts[name].data.datasets = data.datasets;
        charts[name].update("none");
      } else {
        charts[name] = new window.Chart(canvas, { type: name === "queues" || name === "errors" ? "bar" : "line", data: data, options: options() });
        canvas.dataset.drawn = "true";
      }
    });
  }

  // --- events -------------------------------------------------------------------------

  // What each section was last drawn from: a section is drawn again only when it changed,
  // so a button an operator is about to press stays put between updates.
  var drawnFrom = {};

  function draw(name, input, render) {
    var key = JSON.stringify(input);
    if (drawnFrom[name] === key) return;
    drawnFrom[name] = key;
    render(input);
  }

  function apply(event, data) {
    if (!data) return false;
    if (event === "metrics") {
      state.metrics = data;
      drawCharts(data);
      draw("windows", { windows: data.windows, click_backlog: data.click_backlog }, renderWindows);
      draw("queues", data.queues, renderQueues);
    } else if (event === "telemetry") {
      state.telemetry = data;
      draw("components", { components: data.components }, renderComponents);
      draw("backup", data.backup, renderBackup);
      draw("workers", { records: data.records, workers: data.workers }, renderWorkers);
      draw("schedules", { schedules: data.schedules }, renderSchedules);
      draw("versions", { versions: data.versions, migrations_pending: data.migrations_pending }, renderVersions);
    } else {
      return false;
    }
    var alarms = { metrics: state.metrics && state.metrics.alarms, backup: state.telemetry && state.telemetry.backup.alarm };
    draw("alarms", alarms, renderAlarms);
    renderGeneratedAt(data.generated_at);
    return true;
  }

  // --- the socket ---------------------------------------------------------------------

  var indicator = document.querySelector('[data-ops="live"]');
  var indicatorText = document.querySelector('[data-ops="live-text"]');

  function setLive(live) {
    if (!indicator) return;
    indicator.classList.toggle("is-live", live);
    indicator.dataset.live = live ? "true" : "false";
    indicatorText.textContent = live ? "Live" : "Not live: reload for the latest figures.";
  }

  var attempts = 0;
  var stopped = false;

  function reconnectLater() {
    if (stopped) return;
    var delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * Math.pow(2, attempts));
    attempts += 1;
    window.setTimeout(connect, delay / 2 + Math.random() * delay / 2); // jittered
  }

  function connect() {
    if (typeof window.WebSocket !== "function") return; // stays "not live"
    var scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    var socket;
    try {
      socket = new window.WebSocket(scheme + "//" + window.location.host + "/ws/live");
    } catch (error) {
      reconnectLater();
      return;
    }
    socket.addEventListener("open", function () {
      socket.send(JSON.stringify({ subscribe: "ops" }));
    });
    socket.addEventListener("message", function (message) {
      var body;
      try {
        body = JSON.parse(message.data);
      } catch (error) {
        return;
      }
      if (body.subscribed === "ops") {
        attempts = 0;
        setLive(true);
      } else if (body.error) {
        stopped = true; // refused (no longer staff, signed out): asking again will not help
        socket.close();
      } else if (body.channel === "ops") {
        apply(body.event, body.data);
      }
    });
    socket.addEventListener("close", function () {
      setLive(false);
      reconnectLater();
    });
  }

  window.fabrkntOps = { apply: apply };
  if (state.metrics) drawCharts(state.metrics);
  setLive(false);
  connect();
})();
