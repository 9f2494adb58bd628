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

  function draw(id, traces, yTitle, range) {
    var element = document.getElementById(id);
    if (!traces.length) {
      element.innerHTML = '<div class="chart-empty">' + element.dataset.empty + "</div>";
      return;
    }
    var layout = JSON.parse(JSON.stringify(LAYOUT));
    layout.yaxis.title.text = yTitle;
    layout.xaxis.range = range;
    window.Plotly.newPlot(element, traces, layout, CONFIG).then(function () {
      element.dataset.drawn = "true";
    });
  }

  function start() {
    var data = JSON.parse(document.getElementById("overview-data").textContent);
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
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
