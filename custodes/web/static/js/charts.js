// Draws the overview charts with plotly.js (served from the plotly package, no CDN).
(function () {
  "use strict";
  var LEVEL_COLOURS = {
    critical: "#b3122e", high: "#e0531f", medium: "#d99a06", low: "#3a8fd0", informational: "#7d8896"
  };
  var LAYOUT = {
    margin: { l: 48, r: 16, t: 8, b: 40 },
    paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
    font: { family: "system-ui, sans-serif", size: 12, color: "#3d4756" },
    xaxis: { type: "date", gridcolor: "#eef1f5" },
    yaxis: { rangemode: "tozero", gridcolor: "#eef1f5", title: { text: "" } },
    legend: { orientation: "h", y: -0.2 },
    barmode: "stack", hovermode: "x unified"
  };
  var MINUTE_MS = 60 * 1000, HOUR_MS = 60 * MINUTE_MS;
  var CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] };

  var REFRESH_MS = 60 * 1000;

  function draw(id, traces, yTitle, range) {
    var element = document.getElementById(id);
    if (!traces.length) {
      window.Plotly.purge(element);
      element.innerHTML = '<div class="chart-empty">' + element.dataset.empty + "</div>";
      return;
    }
    if (!element.classList.contains("js-plotly-plot")) {
      element.innerHTML = "";
    }
    var layout = JSON.parse(JSON.stringify(LAYOUT));
    layout.yaxis.title.text = yTitle;
    layout.xaxis.range = range;
    window.Plotly.react(element, traces, layout, CONFIG).then(function () {
      element.dataset.drawn = "true";
    });
  }

  function render(data) {
    var range = [data.since, data.until];  // the whole window, even where nothing happened
    draw("events-chart", data.events_per_minute.map(function (series) {
      return {
        type: "bar", name: series.dataset, x: series.minutes,
        y: series.counts.map(function (count) { return count / data.bucket_minutes; }),
        width: MINUTE_MS * data.bucket_minutes * 0.9, offset: 0
      };
    }), "events / minute", range);
    draw("alerts-chart", data.alerts_per_hour.map(function (series) {
      return {
        type: "bar", name: series.level, x: series.hours, y: series.counts,
        width: HOUR_MS * 0.9, offset: 0,
        marker: { color: LEVEL_COLOURS[series.level] || "#7d8896" }
      };
    }), "alerts / hour", range);
    document.getElementById("events-total").textContent = data.events_total;
    Object.keys(data.open_alerts).forEach(function (level) {
      var tile = document.getElementById("open-" + level);
      if (tile) { tile.textContent = data.open_alerts[level]; }
    });
  }

  // The page's own data first, then the same JSON from the API every minute.
  function refresh() {
    return fetch("/api/overview" + window.location.search, { headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status === 401) { window.location.reload(); return null; }
        return response.ok ? response.json() : null;
      })
      .then(function (data) { if (data) { render(data); } })
      .catch(function () { /* the next refresh tries again */ });
  }

  function start() {
    render(JSON.parse(document.getElementById("overview-data").textContent));
    window.setInterval(refresh, REFRESH_MS);
    window.custodesOverview = { refresh: refresh };  // lets a test refresh without waiting
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
