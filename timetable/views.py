"""Timetable pages: the calendar (branch, room, teacher, class; week and day), a teacher's
own schedule, the term planner, a lesson's page (move, cancel, leave, make-up) and the
iCalendar feed. Every change calls timetable.services, the same door as API and admin.
"""
from __future__ import annotations

import datetime as dt
import json

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from crm import permissions
from crm.models import Branch
from crm.roles import Role
from students.models import Attendance, ClassGroup, ClassSession
from students.services import session_roster

from . import services
from .access import can_schedule, scope_sessions
from .forms import CancelForm, LeaveForm, MoveForm, RuleForm, rule_initial, teachers_for
from .models import CalendarFeed, LeaveRequest, Room, ScheduleRule, Term
from .services.conflicts import person

CALENDAR_ROLES = frozenset({Role.TEACHER, Role.FRONT_DESK, Role.COUNSELOR, Role.MANAGER,
                            Role.HEAD_OFFICE})


def _role(request: HttpRequest) -> str:
    role = permissions.role_of(request.user)
    if role not in CALENDAR_ROLES:
        raise PermissionDenied(_("This account has no staff role."))
    return role


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


def _filters(request: HttpRequest) -> dict[str, int | None]:
    return {k: _int(request.GET.get(k)) for k in ("branch", "room", "teacher", "class_group")}


def _refused(request: HttpRequest, exc: Exception) -> None:
    for message in getattr(exc, "messages", [str(exc)]):
        messages.error(request, message)


# ------------------------------------------------------------------------ calendars
@login_required
def calendar(request: HttpRequest, mine: bool = False) -> HttpResponse:
    """Week or day view of lessons for a branch, room, teacher or class (FullCalendar)."""
    role = _role(request)
    user = request.user
    chosen = _filters(request)
    if mine or role == Role.TEACHER:
        mine = True
        chosen = {"branch": None, "room": None, "teacher": user.pk, "class_group": None}
    branches = permissions.scope_branches(user, Branch.objects.filter(is_active=True))
    rooms = permissions.scope_by_branch(user, Room.objects.filter(is_active=True))
    groups = permissions.scope_by_branch(user, ClassGroup.objects.filter(is_active=True))
    teachers = teachers_for(user) if not mine else get_user_model().objects.none()
    if chosen["branch"]:
        rooms = rooms.filter(branch_id=chosen["branch"])
        groups = groups.filter(branch_id=chosen["branch"])
        teachers = teachers.filter(staff_profile__branch_id=chosen["branch"])
    try:
        day = dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = timezone.localdate()
    view = request.GET.get("view") or ("day" if mine else "week")
    feeds = CalendarFeed.objects.filter(teacher=user, revoked_at__isnull=True) if mine else []
    return render(request, "timetable/calendar.html", {
        "mine": mine, "chosen": chosen, "branches": branches, "rooms": rooms.order_by("name"),
        "groups": groups.order_by("name"), "teachers": teachers,
        "day": day, "view": "timeGridDay" if view == "day" else "timeGridWeek",
        "can_edit": role in {Role.MANAGER, Role.HEAD_OFFICE},
        "events_url": reverse("timetable:events"), "feeds": feeds,
        "config": {"eventsUrl": reverse("timetable:events"),
                   "moveUrl": reverse("timetable:move", args=[0]),
                   "filters": {k: v for k, v in chosen.items() if v},
                   "initialDate": day.isoformat(),
                   "initialView": "timeGridDay" if view == "day" else "timeGridWeek",
                   "editable": role in {Role.MANAGER, Role.HEAD_OFFICE},
                   "locale": "zh-cn" if request.LANGUAGE_CODE.startswith("zh") else "en",
                   "movedText": _("Lesson moved; the families are being told."),
                   "refusedText": _("Not moved:")},
    })


@login_required
@require_GET
def events(request: HttpRequest) -> JsonResponse:
    """FullCalendar's event feed: ?start=&end= (ISO) plus the calendar's filters."""
    role = _role(request)
    try:
        start = dt.date.fromisoformat(request.GET.get("start", "")[:10])
        end = dt.date.fromisoformat(request.GET.get("end", "")[:10])
    except ValueError:
        return JsonResponse({"error": _("start and end must be dates.")}, status=400)
    if (end - start).days > 62:
        return JsonResponse({"error": _("Ask for at most two months at a time.")}, status=400)
    qs = scope_sessions(request.user, ClassSession.objects.filter(date__gte=start, date__lt=end))
    f = _filters(request)
    if f["branch"]:
        qs = qs.filter(class_group__branch_id=f["branch"])
    if f["room"]:
        qs = qs.filter(slot__room_id=f["room"])
    if f["teacher"]:
        qs = qs.filter(Q(teacher_id=f["teacher"])
                       | Q(teacher__isnull=True, class_group__teacher_id=f["teacher"]))
    if f["class_group"]:
        qs = qs.filter(class_group_id=f["class_group"])
    editable = role in {Role.MANAGER, Role.HEAD_OFFICE}
    out = []
    for s in services.sessions_with_slots(qs).order_by("date", "start_time")[:2000]:
        teacher = s.teacher or s.class_group.teacher
        roll_call = reverse("students:roll_call", args=[s.pk])
        out.append({
            "id": str(s.pk), "title": s.class_group.name,
            "start": dt.datetime.combine(s.date, s.start_time).isoformat(),
            "end": dt.datetime.combine(s.date, s.end_time).isoformat(),
            # One click from a lesson to its roll call for the teacher; staff get its page.
            "url": roll_call if role == Role.TEACHER else reverse("timetable:lesson",
                                                                  args=[s.pk]),
            "editable": editable and not s.has_roll_call,
            "classNames": ["lesson-taken"] if s.has_roll_call else [],
            "extendedProps": {"room": s.room, "teacher": person(teacher) if teacher else "",
                              "course": s.class_group.course.name, "rollCall": roll_call},
        })
    return JsonResponse(out, safe=False)


@login_required
@require_POST
def move_json(request: HttpRequest, pk: int) -> JsonResponse:
    """Drag and drop on the calendar: the same session_move (and conflict check) as forms."""
    _role(request)
    lesson = get_object_or_404(scope_sessions(request.user, ClassSession.objects.all()), pk=pk)
    try:
        body = json.loads(request.body or b"{}")
        date = dt.date.fromisoformat(body["date"])
        start = dt.time.fromisoformat(body["start_time"])
        end = dt.time.fromisoformat(body["end_time"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"ok": False, "messages": [_("Send the date, start and end times.")]},
                            status=400)
    try:
        services.session_move(session=lesson, actor=request.user, date=date, start_time=start,
                              end_time=end, reason=str(body.get("reason", ""))[:200],
                              override_reason=str(body.get("override_reason", ""))[:200])
    except services.ConflictError as exc:
        return JsonResponse({"ok": False, "messages": exc.messages}, status=409)
    except (ValidationError, PermissionDenied) as exc:
        return JsonResponse({"ok": False, "messages": getattr(exc, "messages", [str(exc)])},
                            status=403 if isinstance(exc, PermissionDenied) else 400)
    return JsonResponse({"ok": True})


# ------------------------------------------------------------------------ term planner
@login_required
def plan(request: HttpRequest) -> HttpResponse:
    """Build a term's timetable rule by rule; a conflict is shown with its suggestion."""
    role = _role(request)
    if role not in {Role.MANAGER, Role.HEAD_OFFICE}:
        raise PermissionDenied(_("Only managers and head office plan the timetable."))
    user = request.user
    edit = None
    if request.GET.get("edit"):
        edit = get_object_or_404(permissions.scope_by_branch(
            user, ScheduleRule.objects.all(), "class_group__branch"), pk=_int(request.GET["edit"]))
    if request.method == "POST" and request.POST.get("end"):
        rule = get_object_or_404(permissions.scope_by_branch(
            user, ScheduleRule.objects.all(), "class_group__branch"), pk=_int(request.POST["end"]))
        try:
            result = services.rule_end(rule=rule, actor=user)
        except (ValidationError, PermissionDenied) as exc:
            _refused(request, exc)
        else:
            messages.success(request, _("Rule ended: %(n)d future lessons removed.")
                             % {"n": result.removed})
        return redirect("timetable:plan")
    form = RuleForm(request.POST or None, user=user,
                    initial=rule_initial(edit) if edit else None)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        try:
            rule, result = services.rule_save(actor=user, rule=edit, **data)
        except services.ConflictError as exc:
            form.add_error(None, ValidationError(exc.messages))
        except PermissionDenied as exc:
            form.add_error(None, str(exc))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _(
                "%(rule)s saved: %(created)d lessons written, %(updated)d updated, "
                "%(skipped)d closed days skipped.") % {
                "rule": rule, "created": result.created, "updated": result.updated,
                "skipped": len(result.skipped)})
            return redirect("timetable:plan")
    rules = (permissions.scope_by_branch(user, ScheduleRule.objects.filter(is_active=True),
                                         "class_group__branch")
             .select_related("class_group__teacher__staff_profile", "room",
                             "teacher__staff_profile", "term")
             .order_by("class_group__name", "weekday", "start_time"))
    return render(request, "timetable/plan.html", {
        "form": form, "rules": rules, "edit": edit, "terms": Term.objects.all()[:10]})


# ------------------------------------------------------------------------ one lesson
@login_required
def lesson(request: HttpRequest, pk: int) -> HttpResponse:
    """A lesson: who comes, move (调课) or cancel it, record a leave, book a make-up."""
    role = _role(request)
    user = request.user
    s = get_object_or_404(services.sessions_with_slots(
        scope_sessions(user, ClassSession.objects.all())), pk=pk)
    roster = session_roster(s)
    leaves = {lr.student_id: lr for lr in LeaveRequest.objects.filter(session=s)
              .select_related("attendance__makeup__session__class_group")}
    scheduler = can_schedule(user, s.class_group.branch_id)
    slot = getattr(s, "slot", None)
    move_form = MoveForm(user=user, initial={
        "date": s.date, "start_time": s.start_time, "end_time": s.end_time,
        "room": slot.room_id if slot else None})
    cancel_form = CancelForm()
    leave_form = LeaveForm(students=[x for x in roster if x.pk not in leaves])
    if request.method == "POST":
        what = request.POST.get("action")
        try:
            if what == "move":
                move_form = MoveForm(request.POST, user=user)
                if move_form.is_valid():
                    d = move_form.cleaned_data
                    services.session_move(
                        session=s, actor=user, date=d["date"], start_time=d["start_time"],
                        end_time=d["end_time"], room=d["room"], reason=d["reason"],
                        override_reason=d["override_reason"])
                    messages.success(request, _("Lesson moved; the families are being told."))
                    return redirect("timetable:lesson", pk=s.pk)
            elif what == "cancel":
                cancel_form = CancelForm(request.POST)
                if cancel_form.is_valid():
                    services.session_cancel(session=s, actor=user,
                                            reason=cancel_form.cleaned_data["reason"])
                    messages.success(request, _("Lesson cancelled; the families are being "
                                                "told."))
                    return redirect("timetable:calendar")
            elif what == "leave":
                leave_form = LeaveForm(request.POST, students=roster)
                if leave_form.is_valid():
                    student = next(x for x in roster
                                   if x.pk == leave_form.cleaned_data["student"])
                    services.leave_request(session=s, student=student, actor=user,
                                           reason=leave_form.cleaned_data["reason"])
                    messages.success(request, _("Leave recorded for %(name)s.")
                                     % {"name": student.name_zh})
                    return redirect("timetable:lesson", pk=s.pk)
            elif what == "makeup":
                leave = get_object_or_404(LeaveRequest, session=s,
                                          pk=_int(request.POST.get("leave")))
                target = get_object_or_404(scope_sessions(user, ClassSession.objects.all()),
                                           pk=_int(request.POST.get("target")))
                services.leave_makeup(leave=leave, session=target, actor=user)
                messages.success(request, _("Make-up lesson booked; the family is being told."))
                return redirect("timetable:lesson", pk=s.pk)
        except (ValidationError, PermissionDenied) as exc:
            _refused(request, exc)
    recorded = dict(Attendance.objects.filter(session=s).values_list("student_id", "status"))
    rows = [{"student": x, "leave": leaves.get(x.pk), "status": recorded.get(x.pk, "")}
            for x in roster]
    options = {lr.pk: services.makeup_options(lr, limit=5) for lr in leaves.values()
               if lr.attendance_id and not hasattr(lr.attendance, "makeup")}
    for row in rows:
        leave = row["leave"]
        row["options"] = options.get(leave.pk, []) if leave else []
    return render(request, "timetable/lesson.html", {
        "s": s, "slot": slot, "rows": rows, "scheduler": scheduler,
        "takes_leave": role in {Role.FRONT_DESK, Role.COUNSELOR, Role.MANAGER,
                                Role.HEAD_OFFICE},
        "move_form": move_form, "cancel_form": cancel_form, "leave_form": leave_form,
        "changes": s.changes.select_related("actor")[:10],
        "teacher": person(s.teacher or s.class_group.teacher)
        if (s.teacher or s.class_group.teacher) else "",
    })


# ------------------------------------------------------------------------ iCalendar
@login_required
@require_POST
def feeds(request: HttpRequest) -> HttpResponse:
    """Make or revoke one's own calendar feed (the link is shown on one's schedule)."""
    _role(request)
    try:
        if request.POST.get("revoke"):
            feed = get_object_or_404(CalendarFeed, teacher=request.user,
                                     pk=_int(request.POST["revoke"]))
            services.feed_revoke(feed=feed, actor=request.user)
            messages.success(request, _("Calendar link revoked: it no longer works."))
        else:
            services.feed_create(actor=request.user)
            messages.success(request, _("Calendar link made: add it to your phone's calendar."))
    except PermissionDenied as exc:
        _refused(request, exc)
    return redirect("timetable:mine")


def ical(request: HttpRequest, token: str) -> HttpResponse:
    """No login: the secret token is the key (calendar apps cannot log in)."""
    feed = services.feed_for_token(token)
    if feed is None:
        raise Http404
    body = services.feed_ics(feed, host=request.get_host())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response
