"""Counselor and manager work pages (issue #6): the at-risk list, my retention tasks and
the stage dashboard. Reads live in crm.dashboard; task changes go through
lifecycle.retention services."""
from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from crm import dashboard, permissions
from crm.models import Branch
from crm.roles import Role
from crm.views import paginate
from lifecycle.models import RetentionTask
from lifecycle.periods import MAINTENANCE_PERIODS, Period
from lifecycle.retention import task_complete, task_skip, task_snooze, tasks_visible_to
from lifecycle.value import PHASES, Segment
from parents.phones import display_phone, mask_phone
from students.choices import Grade
from students.models import Interaction
from students.models.engagement import Counterpart
from students.selectors import renewal_rates
from students.views import staff_required

AT_RISK_PAGE_SIZE = 25
TASK_PAGE_SIZE = 50
WINDOWS = (7, 30, 90, 365)
RATE_MONTHS = 6


def _scores_required(user: Any) -> None:
    if not permissions.can_see_scores(user):
        raise PermissionDenied(_("Your role does not see scores."))


def _managers_only(user: Any) -> None:
    if permissions.role_of(user) not in {Role.MANAGER, Role.HEAD_OFFICE}:
        raise PermissionDenied(_("The dashboard is for branch managers and head office."))


# --- at-risk list -----------------------------------------------------------------------

class AtRiskFilterForm(forms.Form):
    period = forms.ChoiceField(label=gettext_lazy("Period"), required=False, choices=[
        ("", gettext_lazy("All periods")),
        *[(p, Period(p).label) for p in Period.values if p in MAINTENANCE_PERIODS]])
    segment = forms.ChoiceField(label=gettext_lazy("Value segment"), required=False,
                                choices=[("", gettext_lazy("All segments")), *Segment.choices])
    grade = forms.ChoiceField(label=gettext_lazy("Grade"), required=False,
                              choices=[("", gettext_lazy("All grades")), *Grade.choices])
    branch = forms.ModelChoiceField(label=gettext_lazy("Branch"), required=False,
                                    queryset=Branch.objects.none(),
                                    empty_label=gettext_lazy("All branches"))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if permissions.sees_all_branches(user):
            self.fields["branch"].queryset = Branch.objects.filter(is_active=True).order_by("code")
        else:
            del self.fields["branch"]


@staff_required
@require_GET
def at_risk_list(request: HttpRequest) -> HttpResponse:
    """My accounts in at_risk or approaching it, riskiest x most valuable first."""
    user = request.user
    _scores_required(user)
    form = AtRiskFilterForm(request.GET or None, user=user)
    filters: dict[str, Any] = {}
    if form.is_valid():
        data = form.cleaned_data
        filters = {"period": data["period"], "segment": data["segment"], "grade": data["grade"]}
        if data.get("branch"):
            filters["branch_id"] = data["branch"].pk
    page = paginate(request, dashboard.at_risk_accounts(user, **filters), AT_RISK_PAGE_SIZE)
    now = timezone.now()
    full_contact = permissions.can_see_contact(user)
    for s in page.object_list:
        s.reasons = dashboard.top_reasons(s.risk_factors)
        s.days_since_contact = ((now - s.last_contact_at).days
                                if s.last_contact_at is not None else None)
        if s.decider_phone:
            s.decider_phone_shown = (display_phone(s.decider_phone) if full_contact
                                     else mask_phone(s.decider_phone))
    return render(request, "work/at_risk.html", {
        "form": form, "page": page, "margin": dashboard.APPROACH_MARGIN,
        "rising": dashboard.RISING_POINTS,
    })


# --- my tasks ---------------------------------------------------------------------------

def _task_or_404(user: Any, pk: int) -> RetentionTask:
    if permissions.role_of(user) not in {Role.COUNSELOR, Role.MANAGER, Role.HEAD_OFFICE}:
        raise PermissionDenied(_("Your role does not work retention tasks."))
    return get_object_or_404(_workable(user), pk=pk)


def _workable(user: Any) -> QuerySet:
    """The tasks a user may act on here: a counselor only their own."""
    qs = tasks_visible_to(user).select_related("student", "playbook", "target_parent",
                                                         "assignee")
    if permissions.role_of(user) == Role.COUNSELOR:
        qs = qs.filter(assignee=user)
    return qs


class SnoozeForm(forms.Form):
    """The day a task is put off until; the reason and the date's bounds are the
    service's rules (lifecycle.retention.task_snooze), so they are not repeated here."""

    until = forms.DateField(label=gettext_lazy("Until"), error_messages={
        "required": gettext_lazy("Choose the day to put it off until."),
        "invalid": gettext_lazy("Choose the day to put it off until.")})


def _row_context() -> dict[str, Any]:
    """What every task row needs besides the task: clocks, channels, the earliest snooze."""
    return {"now": timezone.now(), "end_of_today": dashboard.end_of_today(),
            "tomorrow": timezone.localdate() + dt.timedelta(days=1),
            "channels": Interaction.Channel.choices}


@staff_required
@require_GET
def task_list(request: HttpRequest) -> HttpResponse:
    """Open tasks: due today or overdue first, then upcoming (managers may pick a counselor)."""
    user = request.user
    if permissions.role_of(user) not in {Role.COUNSELOR, Role.MANAGER, Role.HEAD_OFFICE}:
        raise PermissionDenied(_("Your role does not work retention tasks."))
    try:
        counselor_id = int(request.GET.get("counselor") or 0) or None
    except ValueError:
        counselor_id = None
    qs = dashboard.my_tasks(user, counselor_id=counselor_id)
    page = paginate(request, qs, TASK_PAGE_SIZE)
    return render(request, "work/tasks.html", {
        "page": page, "counselor_id": counselor_id, **_row_context()})


def _row_response(request: HttpRequest, task: RetentionTask, error: str = "") -> HttpResponse:
    return render(request, "work/_task_row.html", {"task": task, "error": error,
                                                   **_row_context()})


def _error_text(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _done(request: HttpRequest, task: RetentionTask) -> RetentionTask:
    """Complete the task and, when asked, log the contact in the same transaction."""
    outcome = request.POST.get("outcome", "")
    log = request.POST.get("log_interaction") in {"1", "on", "true"}
    channel = request.POST.get("channel") or Interaction.Channel.CALL
    if log and channel not in Interaction.Channel.values:
        raise ValidationError(_("Choose how you contacted them."))
    with transaction.atomic():
        done = task_complete(task=task, user=request.user, outcome=outcome)
        if log:
            to_parent = (task.target_parent_id is not None
                         and task.target != RetentionTask.Target.STUDENT)
            Interaction.objects.create(
                student_id=task.student_id,
                with_whom=Counterpart.PARENT if to_parent else Counterpart.STUDENT,
                parent_id=task.target_parent_id if to_parent else None,
                channel=channel, staff=request.user, occurred_at=timezone.now(),
                summary=f"{task.playbook.title}: {outcome.strip()}")
    return done


def _snooze(request: HttpRequest, task: RetentionTask) -> RetentionTask:
    """Put the task off until a later day, with a reason (it stays open, off today's list)."""
    form = SnoozeForm(request.POST)
    if not form.is_valid():
        raise ValidationError([str(m) for errors in form.errors.values() for m in errors])
    return task_snooze(task=task, user=request.user, until=form.cleaned_data["until"],
                       reason=request.POST.get("reason", ""))


@staff_required
@require_POST
def task_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Done (with an outcome, optionally logging the contact), skip (with a reason) or
    snooze (until a day, with a reason).

    htmx gets the updated row back; a plain form post is redirected to the list with a
    message."""
    task = _task_or_404(request.user, pk)
    try:
        if action == "done":
            updated = _done(request, task)
            note = _("Done: %(task)s") % {"task": task.playbook.title}
        elif action == "snooze":
            updated = _snooze(request, task)
            note = _("Put off until %(day)s: %(task)s") % {
                "day": date_format(updated.snoozed_until, "SHORT_DATE_FORMAT"),
                "task": task.playbook.title}
        else:
            updated = task_skip(task=task, user=request.user,
                                reason=request.POST.get("reason", ""))
            note = _("Skipped: %(task)s") % {"task": task.playbook.title}
    except ValidationError as exc:
        if request.htmx:
            return _row_response(request, task, error=_error_text(exc))
        messages.error(request, _error_text(exc))
        return redirect(_back(request))
    if request.htmx:
        updated = _workable(request.user).get(pk=updated.pk)
        return _row_response(request, updated)
    messages.success(request, note)
    return redirect(_back(request))


def _back(request: HttpRequest) -> str:
    url = reverse("work:tasks")
    nxt = request.POST.get("next", "")
    return nxt if nxt.startswith(url) else url


# --- stage dashboard --------------------------------------------------------------------

def _window(request: HttpRequest) -> int:
    try:
        days = int(request.GET.get("days") or 30)
    except ValueError:
        days = 30
    return min(max(days, 1), 365)


def _period_list() -> list[tuple[str, str]]:
    return [(p, str(label)) for p, label in Period.choices]


@staff_required
@require_GET
def stage_dashboard(request: HttpRequest) -> HttpResponse:
    """Per branch, side by side: periods, flows, churn, the 12 types, renewal and retention
    rates, patterns, task workload and complaint SLA. A fixed number of queries."""
    user = request.user
    _managers_only(user)
    days = _window(request)
    now = timezone.now()
    since = now - dt.timedelta(days=days)
    branches = dashboard.dashboard_branches(user)
    ids = [b.pk for b in branches]
    periods = _period_list()

    # Periods, the type matrix and patterns come from the nightly snapshot when the
    # user sees whole branches (one query for all three); live otherwise.
    snaps = dashboard.branch_snapshots(user, ids)
    pc = dashboard.period_counts(user, ids, snaps)
    counts = pc["counts"]
    period_table = [{"code": code, "label": label,
                     "cells": [counts[b.pk].get(code, 0) for b in branches],
                     "total": sum(counts[b.pk].get(code, 0) for b in branches)}
                    for code, label in periods]
    branch_totals = [sum(counts[b.pk].values()) for b in branches]

    flow = dashboard.flows(user, ids, since=since)
    pairs = sorted({pair for b in ids for pair in flow[b]},
                   key=lambda p: ([c for c, _l in periods].index(p[0]),
                                  [c for c, _l in periods].index(p[1])))
    labels = dict(periods)
    flow_table = [{"from": f, "to": t, "from_label": labels[f], "to_label": labels[t],
                   "cells": [flow[b].get((f, t), 0) for b in ids],
                   "total": sum(flow[b].get((f, t), 0) for b in ids)} for f, t in pairs]
    churn = dashboard.churn_by_period(flow)
    churn_table = [{"code": code, "label": label, "cells": [churn[b].get(code, 0) for b in ids],
                    "total": sum(churn[b].get(code, 0) for b in ids)}
                   for code, label in periods
                   if code in MAINTENANCE_PERIODS]

    types = dashboard.type_matrix(user, ids, snaps)
    matrix = types["cells"]
    phase_labels = {"expected": _("Expected"), "maintenance": _("Maintenance"),
                    "recovery": _("Recovery")}
    type_table = [{"segment": s, "segment_label": str(Segment(s).label), "phase": p,
                   "phase_label": phase_labels[p],
                   "cells": [matrix[b][f"{s}.{p}"] for b in ids],
                   "total_n": sum(matrix[b][f"{s}.{p}"]["n"] for b in ids),
                   "total_revenue": sum(matrix[b][f"{s}.{p}"]["revenue"] for b in ids)}
                  for s in Segment.values for p in PHASES]

    today = timezone.localdate()
    months = dashboard.month_starts(today, RATE_MONTHS)
    renewals = renewal_rates(user, start=months[0], end=today, by="branch")
    renewal_by = {(r["key"], r["month"]): r for r in renewals}
    retention = dashboard.retention_rates(user, ids, counts, months=months)
    rate_table = []
    for i, m in enumerate(months):
        rate_table.append({"month": m, "cells": [{
            "renewal": renewal_by.get((b, m)), "retention": retention[b][i]} for b in ids]})

    pattern_data = dashboard.patterns(user, ids, snaps)
    pattern = pattern_data["counts"]
    pattern_rows = [{"code": code, "label": label,
                     "cells": [pattern[b][code] for b in ids]}
                    for code, label in (("I", _("I early abort")), ("II", _("II mid-way")),
                                        ("III", _("III early exit")),
                                        ("IV", _("IV long-term")),
                                        ("", _("Open (not ended, not mature)")))]
    workload = dashboard.task_workload(user, ids, since=since)
    complaints = dashboard.complaint_sla(user, ids, since=since)
    complaint_rows = [{"branch": b, **complaints[b.pk]} for b in branches]

    chart = {
        "branches": [b.name for b in branches],
        "periods": [{"code": code, "label": label,
                     "data": [counts[b.pk].get(code, 0) for b in branches]}
                    for code, label in periods],
        "churn": [{"code": r["code"], "label": r["label"], "data": r["cells"]}
                  for r in churn_table],
        "months": [m.strftime("%Y-%m") for m in months],
        "retention": [{"branch": b.name,
                       "data": [None if r["rate"] is None else round(r["rate"] * 100, 1)
                                for r in retention[b.pk]]} for b in branches],
        "renewal": [{"branch": b.name,
                     "data": [None if renewal_by.get((b.pk, m)) is None
                              or renewal_by[(b.pk, m)]["rate"] is None
                              else round(renewal_by[(b.pk, m)]["rate"] * 100, 1)
                              for m in months]} for b in branches],
    }
    return render(request, "work/dashboard.html", {
        "branches": branches, "days": days, "windows": WINDOWS,
        "sources": [pc["source"].get(b.pk) for b in branches],
        "period_as_of": [pc["as_of"].get(b.pk) for b in branches],
        "type_as_of": [types["as_of"].get(b.pk) for b in branches],
        "pattern_as_of": [pattern_data["as_of"].get(b.pk) for b in branches],
        "snapshot_at": max((t for t in [*pc["as_of"].values(), *types["as_of"].values(),
                                        *pattern_data["as_of"].values()] if t), default=None),
        "period_table": period_table, "branch_totals": branch_totals,
        "grand_total": sum(branch_totals),
        "flow_table": flow_table, "churn_table": churn_table, "type_table": type_table,
        "rate_table": rate_table, "pattern_rows": pattern_rows, "workload": workload,
        "complaint_rows": complaint_rows, "chart": chart,
        "show_branch_links": permissions.sees_all_branches(user),
    })

