// Draws a timeline's steps on a zoomable time axis with plotly.js; a click opens that step.
(function () {
  "use strict";
  var COLOURS = {
    "failed-logons": "#e0531f", logon: "#3a8fd0", "explicit-credentials": "#8a5da8",
    service: "#b3122e", process: "#d99a06", "credential-access": "#7a0019",
    upload: "#5d8a2d", network: "#7d8896", vpn: "#2f6fb3", activity: "#a0a8b4"
  };

  function draw() {
    var data = JSON.parse(document.getElementById("timeline-data").textContent);
    var element = document.getElementById("timeline-chart");
    if (!data.steps.length) {
      element.innerHTML = '<div class="chart-empty">' + element.dataset.empty + "</div>";
      return;
    }
    var traces = {};
    data.steps.forEach(function (step) {
      var trace = traces[step.activity] || (traces[step.activity] = {
        type: "scatter", mode: "markers", name: step.activity, x: [], y: [], text: [],
        customdata: [], marker: { color: COLOURS[step.activity] || "#666", size: 9 },
        hovertemplate: "%{text}<br>%{x}<extra></extra>"
      });
      step.times.forEach(function (time) {
        trace.x.push(time);
        trace.y.push(step.number);
        trace.text.push(step.number + ". " + step.label);
        trace.customdata.push(step.number);
      });
    });
    var layout = {
      margin: { l: 40, r: 16, t: 8, b: 40 }, height: 320,
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      font: { family: "system-ui, sans-serif", size: 12, color: "#3d4756" },
      xaxis: { type: "date", range: [data.since, data.until], gridcolor: "#eef1f5" },
      yaxis: { title: { text: "step" }, autorange: "reversed", gridcolor: "#eef1f5" },
      legend: { orientation: "h", y: -0.25 }, hovermode: "closest", dragmode: "zoom"
    };
    var config = { displaylogo: false, responsive: true };
    window.Plotly.newPlot(element, Object.values(traces), layout, config).then(function () {
      element.dataset.drawn = "true";
    });
    element.on("plotly_click", function (event) {
      var number = event.points[0].customdata;
      var step = document.getElementById("step-" + number);
      if (step) {
        step.querySelector("details").open = true;
        step.scrollIntoView({ behavior: "smooth", block: "center" });
      }
    });
  }

  document.addEventListener("DOMContentLoaded", draw);
})();
