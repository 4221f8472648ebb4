/* The account page's risk trend (lifecycle.scorecard): stored scores as a line, from
   <script id="risk-chart-data" type="application/json">. Chart.js is vendored. */
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("risk-chart");
    var source = document.getElementById("risk-chart-data");
    if (!canvas || !source || typeof Chart === "undefined") return;
    var trend = JSON.parse(source.textContent);
    new Chart(canvas, {
      type: "line",
      data: { labels: trend.labels, datasets: [{ label: trend.label, data: trend.data, borderColor: "#fd7e14", backgroundColor: "#fd7e14", stepped: true }] },
      options: { maintainAspectRatio: false, plugins: { legend: { display: false } }, scales: { y: { min: 0, max: 100 } } }
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", draw);
  else draw();
})();
