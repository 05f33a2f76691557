/**
 * The dashboard's browser script (plain ES2020, no build step): every few seconds it reads
 * /status, /status/history and /status/runs from this server and redraws the page. It never
 * asks for a token, and it only ever talks to the server that served it.
 */
export const DASHBOARD_JS = String.raw`"use strict";
(function () {
  var REFRESH_MS = 5000;
  var PALETTE = ["#3b6fd8", "#e8743b", "#19a979", "#ed4a7b", "#945ecf", "#13a4b4", "#d4a72c",
    "#6f8cad", "#bf399e", "#8bb439", "#f25c54", "#4f5f77"];
  var charts = {};

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) { node.appendChild(child); });
    return node;
  }
  function num(n) { return n === null || n === undefined ? "?" : Number(n).toLocaleString("en-US"); }
  function size(bytes) {
    if (bytes < 1000) return bytes + " B";
    var units = ["kB", "MB", "GB", "TB"], value = bytes, i = -1;
    do { value /= 1000; i++; } while (value >= 1000 && i < units.length - 1);
    return value.toFixed(value >= 100 ? 0 : 1) + " " + units[i];
  }
  function ago(iso) {
    if (!iso) return "–";
    var s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (s < 60) return s + " s ago";
    if (s < 3600) return Math.floor(s / 60) + " min ago";
    return Math.floor(s / 3600) + " h ago";
  }
  function clock(date) { return date.toLocaleTimeString("en-GB", { hour12: false }); }
  function time(iso) {
    if (!iso) return "never";
    var date = new Date(iso);
    var today = date.toDateString() === new Date().toDateString();
    return today ? clock(date) : date.toLocaleDateString("en-GB") + " " + clock(date);
  }
  function css(name) { return getComputedStyle(document.documentElement).getPropertyValue(name).trim(); }
  function getJson(path) {
    return fetch(path, { headers: { Accept: "application/json" } }).then(function (res) {
      if (!res.ok) throw new Error(path + " answered " + res.status);
      return res.json();
    });
  }
  function fill(tbody, rows, columns) {
    tbody.replaceChildren();
    if (rows.length === 0) {
      tbody.appendChild(el("tr", {}, [el("td", { class: "empty", colspan: String(columns), text: "nothing yet" })]));
    }
    rows.forEach(function (row) { tbody.appendChild(row); });
  }

  function tile(label, value) {
    return el("div", { class: "tile" }, [el("div", { class: "label", text: label }), el("div", { class: "value", text: value })]);
  }

  function renderStatus(status, history) {
    var kafka = document.getElementById("kafka");
    kafka.className = "badge " + (status.kafka.connected ? "up" : "down");
    kafka.textContent = "Kafka " + (status.kafka.connected ? "up" : "down" + (status.kafka.error ? ": " + status.kafka.error : ""));
    kafka.title = status.kafka.brokers.join(", ") + (status.kafka.error ? " – " + status.kafka.error : "");
    // Shown only with SCHEMA_REGISTRY_URL: registry feeds wait while it is down.
    var registry = document.getElementById("registry"), sr = status.schemaRegistry;
    registry.hidden = !sr;
    if (sr) {
      registry.className = "badge " + (sr.connected ? "up" : "down");
      registry.textContent = "Registry " + (sr.connected ? "up" : "down");
      registry.title = sr.url + (sr.error ? " – " + sr.error : "");
    }
    var running = status.running;
    document.getElementById("running").textContent = running ? "running: " + running.job : "";

    var live = (history && history.feeds) || {};
    var rows = 0, bytes = 0, lag = 0, quarantined = 0, lagKnown = true;
    var trs = status.feeds.map(function (feed) {
      var f = live[feed.name] || {};
      rows += feed.warehouseRows; bytes += feed.lake.bytes; quarantined += f.quarantined || 0;
      if (feed.lag === null) lagKnown = false; else lag += feed.lag;
      return el("tr", { "data-feed": feed.name }, [
        el("td", feed.error ? { class: "down", title: feed.error, text: feed.name + " – " + feed.error } : { text: feed.name }),
        el("td", { class: "kind", text: feed.kind }),
        el("td", { class: "num", text: num(feed.lag) }),
        el("td", { class: "num", text: num(feed.lake.files) }),
        el("td", { class: "num", text: size(feed.lake.bytes) }),
        el("td", { class: "num", "data-rows": String(feed.warehouseRows), text: num(feed.warehouseRows) }),
        el("td", { class: "num", text: history ? num(f.quarantined || 0) : "–" }),
        el("td", { title: f.lastRecordAt || "", text: ago(f.lastRecordAt) }),
      ]);
    });
    fill(document.querySelector("#feeds tbody"), trs, 8);

    var pipeline = status.jobs.filter(function (j) { return j.job === "pipeline"; })[0];
    var lakeColumns = (history && history.lake) || {};
    var perMinute = Object.keys(lakeColumns).reduce(function (sum, feed) {
      var column = lakeColumns[feed];
      return sum + (column.length ? column[column.length - 1] : 0);
    }, 0);
    document.getElementById("tiles").replaceChildren(
      tile("Feeds", num(status.feeds.length)),
      tile("Warehouse rows", num(rows)),
      tile("Lake size", size(bytes)),
      tile("Kafka lag", lagKnown ? num(lag) : "?"),
      tile("Into the lake", num(perMinute) + " / min"),
      tile("Quarantined", num(quarantined + ((history && history.processorRejected) || 0))),
      tile("Next pipeline run", pipeline && pipeline.nextRun ? time(pipeline.nextRun) : "–"),
    );
  }

  function renderRuns(runs) {
    var trs = runs.map(function (run) {
      var c = run.counts;
      var counts = [
        c.rows_inserted ? num(c.rows_inserted) + " new" : "",
        c.rows_updated ? num(c.rows_updated) + " updated" : "",
        c.rows_deleted_by_load ? num(c.rows_deleted_by_load) + " deleted" : "",
        c.rows_rejected ? num(c.rows_rejected) + " rejected" : "",
        c.partitions_deleted ? num(c.partitions_deleted) + " partitions and " + num(c.rows_deleted || 0) + " rows past retention" : "",
      ].filter(Boolean).join(" · ");
      if (!counts && c.rows_loaded) counts = num(c.rows_loaded) + " rows";
      return el("tr", { "data-run": String(run.id), title: "trigger: " + run.trigger + (run.error ? " – " + run.error : "") }, [
        el("td", { class: "num", text: String(run.id) }),
        el("td", { text: run.job }),
        el("td", { text: time(run.startedAt) }),
        el("td", { class: run.outcome, text: run.outcome }),
        el("td", { class: "num", text: run.durationMs === null ? "–" : (run.durationMs / 1000).toFixed(2) + " s" }),
        el("td", { class: "muted wrap", title: JSON.stringify(c), text: counts || "nothing new" }),
      ]);
    });
    fill(document.querySelector("#runs tbody"), trs, 6);
  }

  function chart(id, series, data) {
    var box = document.getElementById(id);
    var width = Math.max(box.clientWidth, 200);
    var key = series.map(function (s) { return s.label; }).join("|");
    if (charts[id] && charts[id].key === key) {
      charts[id].plot.setData(data);
      if (charts[id].width !== width) { charts[id].plot.setSize({ width: width, height: 220 }); charts[id].width = width; }
      return;
    }
    if (charts[id]) charts[id].plot.destroy();
    var axis = { stroke: css("--muted"), grid: { stroke: css("--line"), width: 1 }, ticks: { stroke: css("--line") } };
    // 70 px between time ticks: uPlot's default 50 lets "17:43:15" labels run into each other.
    var hours = Object.assign({
      space: 70,
      values: function (u, splits) {
        var short = splits.length > 1 && splits[splits.length - 1] - splits[0] > 300;
        var format = short ? { hour: "2-digit", minute: "2-digit" } : { hour: "2-digit", minute: "2-digit", second: "2-digit" };
        return splits.map(function (t) { return new Date(t * 1000).toLocaleTimeString("en-GB", format); });
      },
    }, axis);
    var plot = new uPlot({
      width: width, height: 220,
      scales: { x: { time: true }, y: { range: function (u, min, max) { return [0, Math.max(max * 1.1, 5)]; } } },
      axes: [hours, Object.assign({ size: 50 }, axis)],
      series: [{}].concat(series.map(function (s, i) {
        return { label: s.label, stroke: s.color || PALETTE[i % PALETTE.length], width: 2, points: { show: false } };
      })),
      legend: { live: false },
    }, data, box);
    charts[id] = { key: key, plot: plot, width: width };
  }

  function renderCharts(history) {
    var h = history || { times: [], lake: {}, processorIn: [], processorOut: [] };
    var xs = h.times.map(function (t) { return Date.parse(t) / 1000; });
    var feeds = Object.keys(h.lake).sort();
    chart("chart-lake", feeds.map(function (f) { return { label: f }; }),
      [xs].concat(feeds.map(function (f) { return h.lake[f]; })));
    document.getElementById("processor-note").textContent = history && !history.processor
      ? "not run by this serve (--no-process)" : "records per minute in and out, last hour";
    chart("chart-processor", [{ label: "in", color: "#3b6fd8" }, { label: "out", color: "#19a979" }],
      [xs, h.processorIn, h.processorOut]);
  }

  function refresh() {
    Promise.all([
      getJson("/status"),
      getJson("/status/history").catch(function () { return null; }),
      getJson("/status/runs?limit=8"),
    ]).then(function (all) {
      renderStatus(all[0], all[1]);
      renderCharts(all[1]);
      renderRuns(all[2].runs);
      document.getElementById("updated").textContent = "updated " + new Date().toLocaleTimeString("en-GB", { hour12: false }) + " · every " + REFRESH_MS / 1000 + " s";
      document.body.setAttribute("data-loaded", "true");
    }).catch(function (error) {
      document.getElementById("updated").textContent = "cannot reach the service: " + error.message;
    }).finally(function () { setTimeout(refresh, REFRESH_MS); });
  }
  refresh();
})();
`;
