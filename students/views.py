"""Staff pages on student accounts: the list, the account 360° page, logging contacts and
booking trial lessons. Rows are always scoped by crm.permissions (another branch's
student is a 404, not a 403: we do not confirm it exists)."""
from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, DecimalField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from crm import permissions
from crm.roles import Role
from crm.views import paginate
from lifecycle.explain import with_reasons
from lifecycle.forms import ChangePeriodForm
from lifecycle.periods import Period, allowed_targets
from lifecycle.scorecard import score_card
from lifecycle.selectors import pattern_of_student, timeline
from lifecycle.services import account_transition, can_transition
from parents.phones import display_phone, mask_phone, mask_text
from students.models import Attendance, ClassSession, ExamScore, Payment, Refund, Student
from students.selectors import (
    ATTENDANCE_WEEKS,
    account_figures,
    attendance_since,
    contract_balances,
    student_list,
    with_figures,
)
from students.services import roll_call_take, session_roster

from .filters import StudentListFilter
from .forms import InteractionForm, StudentFilterForm

PAGE_SIZE = 25


def staff_required(view):
    """Logged in and holding a staff role; anyone else gets the 403 page."""

    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if permissions.role_of(request.user) is None:
            raise PermissionDenied(_("Your account has no staff role."))
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def visible_student(user: Any, pk: int) -> Student:
    qs = permissions.scope_students(
        user, Student.objects.select_related("branch", "counselor", "source"))
    return get_object_or_404(qs, pk=pk)


@staff_required
def student_list_view(request: HttpRequest) -> HttpResponse:
    """Students in the user's scope with hours left and attendance (fixed query count)."""
    form = StudentFilterForm(request.GET or None)
    q = period = ""
    if form.is_valid():
        q, period = form.cleaned_data["q"], form.cleaned_data["period"]
    narrow = StudentListFilter(request.GET or None, user=request.user,
                               queryset=student_list(user=request.user, search=q,
                                                     period=period or None))
    qs = with_figures(narrow.qs, weeks=ATTENDANCE_WEEKS)
    page = paginate(request, qs.order_by("name_pinyin", "id"), PAGE_SIZE)
    return render(request, "students/student_list.html",
                  {"form": form, "page": page, "filters": narrow.form})


def _weekly_attendance(student: Student, today: dt.date) -> dict[str, Any]:
    """Attended / late / leave / absent per week over the window of the attendance rate
    (students.selectors.attendance_since: the same days as the list's rate), one query;
    the headline rate is the one selector's (account_figures), not recounted here."""
    first = attendance_since(ATTENDANCE_WEEKS, today=today)
    rows = (Attendance.objects.filter(student=student, date__gte=first)
            .order_by().values("date", "status").annotate(n=Count("pk")))
    keys = ("attended", "late", "leave", "absent")
    series = {k: [0] * ATTENDANCE_WEEKS for k in keys}
    for row in rows:
        # Weeks counted back from today, so the last bar ends today (the window's days
        # split into 12 blocks of 7; today's block is the last, the first day the oldest).
        week = min((row["date"] - first).days // 7, ATTENDANCE_WEEKS - 1)
        if row["status"] in series:
            series[row["status"]][week] += row["n"]
    figures = account_figures(student)
    return {
        "labels": [formats.date_format(first + dt.timedelta(weeks=i), "m-d")
                   for i in range(ATTENDANCE_WEEKS)],
        "datasets": [
            {"key": "attended", "label": _("Attended"), "data": series["attended"]},
            {"key": "late", "label": _("Late"), "data": series["late"]},
            {"key": "leave", "label": _("On leave"), "data": series["leave"]},
            {"key": "absent", "label": _("Absent"), "data": series["absent"]},
        ],
        "rate": figures["attendance_rate"],
        "remaining_hours": figures["remaining_hours"],
        "total": sum(sum(v) for v in series.values()),
    }


def _exam_trend(scores: list[ExamScore]) -> dict[str, Any]:
    """Percent of full marks per subject over time, oldest first (for a line chart)."""
    dates = sorted({s.exam_date for s in scores})
    per_subject: dict[str, dict[dt.date, float]] = defaultdict(dict)
    names: dict[str, str] = {}
    for s in scores:
        per_subject[s.subject][s.exam_date] = round(s.percent, 1)
        names[s.subject] = s.get_subject_display()
    return {
        "labels": [d.isoformat() for d in dates],
        "datasets": [{"label": names[subj], "data": [points.get(d) for d in dates]}
                     for subj, points in sorted(per_subject.items())],
    }


def _guardians(student: Student, user: Any) -> list[dict[str, Any]]:
    """Guardians with contacts shown in full or masked (teachers) — crm.permissions decides."""
    full = permissions.can_see_contact(user)
    out = []
    for g in student.guardianships.select_related("parent").order_by("-is_primary_contact",
                                                                     "id"):
        p = g.parent
        out.append({
            "g": g, "parent": p,
            "phone": display_phone(p.phone) if full else mask_phone(p.phone),
            "wechat": p.wechat_id if full else mask_text(p.wechat_id),
        })
    return out


def _contracts(student: Student, user: Any) -> list[Any]:
    qs = contract_balances(student.contracts.select_related("course", "class_group"))
    if permissions.can_see_money(user):
        money = DecimalField(max_digits=12, decimal_places=2)
        paid = (Payment.objects.filter(contract=OuterRef("pk")).order_by().values("contract")
                .annotate(t=Sum("amount")).values("t"))
        qs = qs.annotate(paid=Coalesce(Subquery(paid, output_field=money),
                                       Value(Decimal("0")), output_field=money))
    return list(qs.order_by("-signed_on", "-id"))


def _complaints(student: Student) -> list[Any]:
    """The latest complaints, each knowing whether it is past its resolve-by time."""
    now = timezone.now()
    rows = list(student.complaints.select_related("parent", "owner__staff_profile")[:20])
    for c in rows:
        c.overdue = c.status != c.Status.RESOLVED and c.sla_due < now
    return rows


@staff_required
def student_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The account 360° page: student and guardians, period and timeline, hours, charts,
    contacts, complaints and surveys. Money only for can_see_money, scores only for
    can_see_scores, contacts masked unless can_see_contact."""
    user = request.user
    student = visible_student(user, pk)
    today = timezone.localdate()
    contracts = _contracts(student, user)
    # Front desk sees no scores, exam results included (README, Roles and permissions).
    scores = (list(student.exam_scores.order_by("exam_date", "id")[:60])
              if permissions.can_see_exam_scores(user) else [])
    attendance = _weekly_attendance(student, today)
    sees_scores = permissions.can_see_scores(user)
    context = {
        "student": student,
        "guardians": _guardians(student, user),
        "consents": list(student.consents.order_by("-given_at")),
        "contracts": contracts,
        "remaining_hours": attendance["remaining_hours"],
        "attendance": attendance,
        "exam_trend": _exam_trend(scores),
        "latest_scores": list(reversed(scores[-8:])),
        "interactions": list(student.interactions.select_related("parent", "staff")[:20]),
        "complaints": _complaints(student),
        "surveys": list(student.surveys.select_related("parent")[:10]),
        # Reasons worded now, for this viewer: no score for front desk and teachers.
        "timeline": with_reasons(timeline(student)[:50], scores=sees_scores),
        "pattern": pattern_of_student(student),
        "can_log": permissions.can_log_interaction(user),
        "can_see_exam_scores": permissions.can_see_exam_scores(user),
        "now": timezone.now(),
    }
    if can_transition(user):
        form = ChangePeriodForm(targets=allowed_targets(student.period, student.previous_period))
        form.fields["to_period"].widget.attrs["class"] = "form-select form-select-sm"
        context["period_form"] = form
    context["charts"] = {"attendance": {k: v for k, v in attendance.items()
                                        if k in ("labels", "datasets")},
                         "exams": context["exam_trend"]}
    if permissions.can_see_money(user):
        context["refunds"] = list(Refund.objects.filter(contract__student=student)
                                  .select_related("contract"))
    card = score_card(student, user=user)  # None for roles that do not see scores
    if card is not None:
        context["card"] = card
        context["risk_chart"] = {"labels": card.trend["labels"], "data": card.trend["data"],
                                 "label": _("Risk score")}
    return render(request, "students/student_detail.html", context)


@staff_required
def change_period(request: HttpRequest, pk: int) -> HttpResponse:
    """Manual period change from the account page: legal targets only, reason required.

    Goes through lifecycle.services.account_transition like every other move; a stale
    page (someone moved the account meanwhile) is refused rather than applied.
    """
    if not can_transition(request.user):
        raise PermissionDenied(_("Your role cannot change lifecycle periods."))
    student = visible_student(request.user, pk)
    if request.method != "POST":
        return redirect("students:detail", pk=student.pk)
    form = ChangePeriodForm(request.POST, targets=allowed_targets(student.period,
                                                                  student.previous_period))
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect("students:detail", pk=student.pk)
    try:
        account_transition(student=student, to_period=form.cleaned_data["to_period"],
                           actor=request.user, trigger="manual",
                           reason=form.cleaned_data["reason"], evidence={"source": "account page"},
                           expected_from=request.POST.get("expected_from") or student.period)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("Period changed to %(p)s.")
                         % {"p": Period(form.cleaned_data["to_period"]).label})
        if form.cleaned_data["to_period"] == Period.TERMINATION:
            # DOMAIN.md §6: a termination is followed by the exit interview and its reason.
            return redirect("marketing:exit-interview", student_pk=student.pk)
    return redirect("students:detail", pk=student.pk)


def _interaction_allowed(request: HttpRequest) -> None:
    if not permissions.can_log_interaction(request.user):
        raise PermissionDenied(_("Your role cannot log contacts."))


@staff_required
def interaction_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Log a visit or call with the student or one parent."""
    student = visible_student(request.user, pk)
    _interaction_allowed(request)
    form = InteractionForm(request.POST or None, student=student)
    if request.method == "POST" and form.is_valid():
        form.instance.staff = request.user
        form.save()
        messages.success(request, _("Contact with %(name)s logged.") % {"name": student})
        return redirect("students:detail", pk=student.pk)
    return render(request, "students/interaction_form.html", {"student": student, "form": form})


@staff_required
def trial_book(request: HttpRequest, pk: int) -> HttpResponse:
    """Trials are real bookings now (a seat or a slot with a teacher and an outcome): the
    old address leads to the workspace's booking page."""
    student = visible_student(request.user, pk)
    return redirect("service:trial_book", pk=student.pk)


# --- roll call (课消) ----------------------------------------------------------------------

ROLL_CALL_ROLES = frozenset({Role.TEACHER, Role.FRONT_DESK, Role.MANAGER, Role.HEAD_OFFICE})


def _sessions_for(user: Any) -> Any:
    """Lessons whose roll call this user may take: a teacher's own classes, a branch's
    lessons for its front desk and manager, everything for head office."""
    qs = ClassSession.objects.select_related("class_group__course", "class_group__branch",
                                             "teacher")
    role = permissions.role_of(user)
    if role == Role.HEAD_OFFICE:
        return qs
    qs = qs.filter(class_group__branch=permissions.branch_of(user))
    if role == Role.TEACHER:
        return qs.filter(Q(class_group__teacher=user) | Q(teacher=user))
    return qs


def _roll_call_allowed(request: HttpRequest) -> None:
    if permissions.role_of(request.user) not in ROLL_CALL_ROLES:
        raise PermissionDenied(_("Only teachers, front desk, managers and head office take "
                                 "roll call."))


@staff_required
def session_list(request: HttpRequest) -> HttpResponse:
    """The lessons of a day (today by default) with how many were marked, for roll call."""
    _roll_call_allowed(request)
    try:
        day = dt.date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        day = timezone.localdate()
    sessions = (_sessions_for(request.user).filter(date=day)
                .annotate(marked=Count("attendances")).order_by("start_time", "id"))
    return render(request, "students/session_list.html", {
        "day": day, "sessions": sessions,
        "prev_day": day - dt.timedelta(days=1), "next_day": day + dt.timedelta(days=1),
    })


@staff_required
def roll_call(request: HttpRequest, pk: int) -> HttpResponse:
    """Take or correct a whole lesson's roll call in one screen (one transaction).

    Writes go through students.services.roll_call_take: it checks the role, the roster
    and the hours policy, reverses corrected entries and notifies parents after commit.
    """
    _roll_call_allowed(request)
    session = get_object_or_404(_sessions_for(request.user), pk=pk)
    recorded = dict(session.attendances.values_list("student_id", "status"))
    roster = {s.pk: s for s in session_roster(session)}
    extra = Student.objects.filter(pk__in=set(recorded) - set(roster))
    students = sorted([*roster.values(), *extra], key=lambda s: (s.name_pinyin, s.pk))
    if request.method == "POST":
        all_present = "all_present" in request.POST
        marks = {s.pk: request.POST[f"status_{s.pk}"] for s in students
                 if request.POST.get(f"status_{s.pk}") and not all_present}
        try:
            result = roll_call_take(session=session, marks=marks, all_present=all_present,
                                    actor=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("Roll call saved: %(n)d students.")
                             % {"n": len(result.attendances)})
            for warning in result.warnings:
                messages.warning(request, warning)
            return redirect("students:roll_call", pk=session.pk)
    rows = [{"student": s, "status": recorded.get(s.pk, "")} for s in students]
    return render(request, "students/roll_call.html", {
        "session": session, "rows": rows, "statuses": Attendance.Status.choices,
    })
