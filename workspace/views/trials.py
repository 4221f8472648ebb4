"""Trial lessons as workspace pages: book a seat or a slot, list them, record the outcome.

Writes go through marketing.services.trials (trial_book / trial_record_outcome), which
move the prospect's funnel stage from the outcome. Front desk, counselors, managers and
head office book trials and record outcomes (DOMAIN.md §8); teachers do not.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import permissions
from crm.roles import Role
from marketing.models import TrialLesson
from marketing.services import trial_book as book
from marketing.services import trial_record_outcome
from marketing.services.trials import NEXT_OUTCOMES
from students.views import staff_required, visible_student
from workspace.service_forms import TrialForm, TrialOutcomeForm

from .complaints import _form_errors

TRIAL_ROLES = frozenset({Role.FRONT_DESK, Role.COUNSELOR, Role.MANAGER, Role.HEAD_OFFICE})
LIST_DAYS_BACK = 7
LIST_DAYS_AHEAD = 14


def _allowed(user: Any) -> None:
    if permissions.role_of(user) not in TRIAL_ROLES:
        raise PermissionDenied(_("Your role does not book trial lessons."))


def trials_visible(user: Any) -> QuerySet:
    return (permissions.scope_by_student(user, TrialLesson.objects.all())
            .select_related("student", "course", "session__class_group",
                            "teacher__staff_profile", "parent"))


@staff_required
def trial_list(request: HttpRequest) -> HttpResponse:
    """Trials waiting for their outcome (past and today's) and the upcoming ones."""
    user = request.user
    _allowed(user)
    today = timezone.localdate()
    qs = trials_visible(user)
    pending = list(qs.filter(outcome=TrialLesson.Outcome.BOOKED, date__lte=today,
                             date__gte=today - dt.timedelta(days=LIST_DAYS_BACK)))
    upcoming = list(qs.filter(date__gt=today, date__lte=today + dt.timedelta(
        days=LIST_DAYS_AHEAD)).exclude(outcome=TrialLesson.Outcome.NOT_INTERESTED))
    recent = list(qs.exclude(outcome=TrialLesson.Outcome.BOOKED)
                  .filter(date__gte=today - dt.timedelta(days=LIST_DAYS_BACK))
                  .order_by("-outcome_at", "-id")[:30])
    return render(request, "workspace/service/trial_list.html", {
        "pending": pending, "upcoming": upcoming, "recent": recent, "today": today})


@staff_required
def trial_book(request: HttpRequest, pk: int) -> HttpResponse:
    """Book a trial for a student: the courses fitting the grade are offered first."""
    user = request.user
    _allowed(user)
    student = visible_student(user, pk)
    form = TrialForm(request.POST or None, student=student)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            trial = book(student=student, course=d["course"], actor=user,
                         session=d.get("session"), date=d.get("date"),
                         start_time=d.get("start_time"), end_time=d.get("end_time"),
                         teacher=d.get("teacher"), booked_with=d["booked_with"],
                         parent=d.get("parent"), note=d.get("note", ""))
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Trial lesson for %(name)s booked on %(date)s.")
                             % {"name": student, "date": trial.date.isoformat()})
            return redirect("service:trial", pk=trial.pk)
    return render(request, "workspace/service/trial_form.html",
                  {"student": student, "form": form})


@staff_required
def trial_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One trial: where and with whom; record how it went (moves the funnel)."""
    user = request.user
    _allowed(user)
    trial = get_object_or_404(trials_visible(user), pk=pk)
    choices = [(o, TrialLesson.Outcome(o).label) for o in TrialLesson.Outcome.values
               if o in NEXT_OUTCOMES[trial.outcome]]
    form = TrialOutcomeForm(request.POST or None, choices=choices) if choices else None
    if request.method == "POST":
        if form is None:
            messages.info(request, _("This trial's outcome is final."))
            return redirect("service:trial", pk=trial.pk)
        if form.is_valid():
            try:
                trial_record_outcome(trial=trial, outcome=form.cleaned_data["outcome"],
                                     actor=user, note=form.cleaned_data["note"])
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Outcome recorded."))
                return redirect("service:trial", pk=trial.pk)
    prospect = getattr(trial.student, "prospect", None)
    return render(request, "workspace/service/trial_detail.html", {
        "trial": trial, "form": form, "prospect": prospect})
