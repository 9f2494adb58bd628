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
  var CONFIG = { displaylogo: false, responsive: true, modeBarButtonsToRemove: ["select2d", "lasso2d"] };

  function draw(id, traces, yTitle) {
    var element = document.getElementById(id);
    if (!traces.length) {
      element.innerHTML = '<div class="chart-empty">' + element.dataset.empty + "</div>";
      return;
    }
    var layout = JSON.parse(JSON.stringify(LAYOUT));
    layout.yaxis.title.text = yTitle;
    window.Plotly.newPlot(element, traces, layout, CONFIG).then(function () {
      element.dataset.drawn = "true";
    });
  }

  function start() {
    var data = JSON.parse(document.getElementById("overview-data").textContent);
    draw("events-chart", data.events_per_minute.map(function (series) {
      return { type: "bar", name: series.dataset, x: series.minutes, y: series.counts };
    }), "events / minute");
    draw("alerts-chart", data.alerts_per_hour.map(function (series) {
      return {
        type: "bar", name: series.level, x: series.hours, y: series.counts,
        marker: { color: LEVEL_COLOURS[series.level] || "#7d8896" }
      };
    }), "alerts / hour");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
