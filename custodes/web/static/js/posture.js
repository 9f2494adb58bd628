// Draws the posture trend with plotly.js (as the overview does): open findings per run, by area.
(function () {
  "use strict";
  var AREA_COLOURS = { accounts: "#e0531f", privileged: "#b3122e", devices: "#3a8fd0" };
  var LAYOUT = {
    margin: { l: 48, r: 16, t: 8, b: 40 },
    paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
    font: { family: "system-ui, sans-serif", size: 12, color: "#3d4756" },
    xaxis: { type: "category", gridcolor: "#eef1f5", title: { text: "run" } },
    yaxis: { rangemode: "tozero", gridcolor: "#eef1f5", title: { text: "open findings" } },
    legend: { orientation: "h", y: -0.25 },
    barmode: "stack", hovermode: "x unified"
  };
  var CONFIG = { displaylogo: false, responsive: true };

  function render(data) {
    var element = document.getElementById("posture-chart");
    if (!data.runs.length) {
      element.innerHTML = '<div class="chart-empty">' + element.dataset.empty + "</div>";
      return;
    }
    var labels = data.runs.map(function (run) { return "#" + run.id + " " + run.ran_at.slice(0, 16); });
    var traces = Object.keys(data.areas).map(function (area) {
      var classes = data.classes.filter(function (item) { return item.area === area; });
      var totals = data.runs.map(function (_run, index) {
        return classes.reduce(function (sum, item) { return sum + item.trend[index]; }, 0);
      });
      return { type: "bar", name: data.areas[area], x: labels, y: totals,
               marker: { color: AREA_COLOURS[area] || "#7d8896" } };
    });
    element.innerHTML = "";
    window.Plotly.react(element, traces, LAYOUT, CONFIG).then(function () {
      element.dataset.drawn = "true";
    });
  }

  function start() {
    render(JSON.parse(document.getElementById("posture-data").textContent));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
