/* K12 CRM page behaviour: formset "add another" rows and Chart.js charts.
   No framework; data for charts comes from <script type="application/json"> (json_script). */
(function () {
  "use strict";

  // Formsets: clone the <template> holding empty_form, replace __prefix__, bump TOTAL_FORMS.
  function renumber(container) {
    container.querySelectorAll(".formset-row .row-number").forEach(function (el, i) {
      el.textContent = String(i + 1);
    });
  }
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-add-row]");
    if (!button) return;
    var prefix = button.dataset.addRow;
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var max = document.getElementById("id_" + prefix + "-MAX_NUM_FORMS");
    var index = parseInt(total.value, 10);
    if (max && index >= parseInt(max.value, 10)) return;
    var html = document.getElementById(button.dataset.template).innerHTML.replace(/__prefix__/g, String(index));
    var container = document.getElementById(button.dataset.target);
    container.insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
    renumber(container);
    var first = container.lastElementChild.querySelector("input, select");
    if (first) first.focus();
  });

  // Close the live search results with Escape or a click elsewhere.
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { var box = document.getElementById("search-live"); if (box) box.innerHTML = ""; }
  });
  document.addEventListener("click", function (event) {
    var box = document.getElementById("search-live");
    if (box && !event.target.closest(".nav-search")) box.innerHTML = "";
  });

  function readJSON(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  var PERIOD_COLOURS = {
    prospecting: "#6c757d", socialization: "#0dcaf0", growth: "#20c997", maturity: "#198754",
    at_risk: "#fd7e14", termination: "#dc3545", lapsed: "#343a40"
  };
  var STATUS_COLOURS = { attended: "#198754", late: "#ffc107", leave: "#0dcaf0", absent: "#dc3545" };
  var SERIES = ["#0d6efd", "#6610f2", "#d63384", "#fd7e14", "#20c997", "#6f42c1", "#198754", "#dc3545"];

  function drawCharts() {
    if (typeof Chart === "undefined") return;
    var charts = readJSON("chart-data");
    if (charts) {
      var att = document.getElementById("attendance-chart");
      if (att) {
        new Chart(att, {
          type: "bar",
          data: {
            labels: charts.attendance.labels,
            datasets: charts.attendance.datasets.map(function (d) {
              return { label: d.label, data: d.data, backgroundColor: STATUS_COLOURS[d.key], stack: "s" };
            })
          },
          options: { maintainAspectRatio: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } }
        });
      }
      var exam = document.getElementById("exam-chart");
      if (exam) {
        new Chart(exam, {
          type: "line",
          data: {
            labels: charts.exams.labels,
            datasets: charts.exams.datasets.map(function (d, i) {
              return { label: d.label, data: d.data, borderColor: SERIES[i % SERIES.length], backgroundColor: SERIES[i % SERIES.length], spanGaps: true, tension: 0.2 };
            })
          },
          options: { maintainAspectRatio: false, scales: { y: { min: 0, max: 100 } } }
        });
      }
    }
    var periods = readJSON("period-data");
    var pc = document.getElementById("period-chart");
    if (periods && pc) {
      new Chart(pc, {
        type: "bar",
        data: {
          labels: periods.map(function (p) { return p.label; }),
          datasets: [{ data: periods.map(function (p) { return p.n; }), backgroundColor: periods.map(function (p) { return PERIOD_COLOURS[p.code]; }) }]
        },
        options: { maintainAspectRatio: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } }
      });
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawCharts);
  else drawCharts();
})();
