/* The timetable calendar: FullCalendar (vendored) over /timetable/events/; dragging a
   lesson posts to its move endpoint, which runs the same conflict check as every form.
   A refused move goes back where it was and the conflict (who, when, a suggestion) shows. */
(function () {
  "use strict";
  var el = document.getElementById("calendar");
  var cfgEl = document.getElementById("calendar-config");
  if (!el || !cfgEl || !window.FullCalendar) { return; }
  var cfg = JSON.parse(cfgEl.textContent);
  var alertBox = document.getElementById("calendar-alert");
  var okBox = document.getElementById("calendar-ok");
  var csrf = (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1] || "";

  function show(box, text) {
    alertBox.classList.add("d-none");
    okBox.classList.add("d-none");
    box.textContent = text;
    box.classList.remove("d-none");
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function isoDate(d) { return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()); }
  function hm(d) { return pad(d.getHours()) + ":" + pad(d.getMinutes()); }

  function move(info) {
    var ev = info.event;
    var body = { date: isoDate(ev.start), start_time: hm(ev.start), end_time: hm(ev.end) };
    fetch(cfg.moveUrl.replace("/0/", "/" + ev.id + "/"), {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(body)
    }).then(function (r) { return r.json().then(function (data) { return [r.ok, data]; }); })
      .then(function (res) {
        if (res[0]) { show(okBox, cfg.movedText); return; }
        info.revert();
        show(alertBox, cfg.refusedText + " " + (res[1].messages || []).join(" "));
      })
      .catch(function () { info.revert(); show(alertBox, cfg.refusedText); });
  }

  var calendar = new FullCalendar.Calendar(el, {
    initialView: cfg.initialView,
    initialDate: cfg.initialDate,
    locale: cfg.locale,
    firstDay: 1,
    allDaySlot: false,
    slotMinTime: "07:00:00",
    slotMaxTime: "22:00:00",
    height: "auto",
    nowIndicator: true,
    headerToolbar: { left: "prev,next today", center: "title", right: "timeGridWeek,timeGridDay" },
    editable: cfg.editable,
    eventDurationEditable: cfg.editable,
    events: { url: cfg.eventsUrl, extraParams: cfg.filters },
    eventDidMount: function (arg) {
      var p = arg.event.extendedProps;
      arg.el.setAttribute("data-lesson", arg.event.id);
      arg.el.title = [arg.event.title, p.course, p.room, p.teacher].filter(Boolean).join(" · ");
    },
    eventDrop: move,
    eventResize: move
  });
  calendar.render();
  window.timetableCalendar = calendar;
})();
