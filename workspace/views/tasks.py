"""My retention tasks: the counselor's queue; changes go through lifecycle.retention."""
from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
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

from crm import permissions
from crm.roles import Role
from crm.views import paginate
from lifecycle.explain import segment_label
from lifecycle.models import RetentionTask
from lifecycle.retention import task_complete, task_skip, task_snooze, tasks_visible_to
from students.models import Interaction
from students.models.engagement import Counterpart
from students.views import staff_required
from workspace import selectors as dashboard

from .access import task_workers_only

TASK_PAGE_SIZE = 50


def _task_or_404(user: Any, pk: int) -> RetentionTask:
    task_workers_only(user)
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
    task_workers_only(user)
    try:
        counselor_id = int(request.GET.get("counselor") or 0) or None
    except ValueError:
        counselor_id = None
    qs = dashboard.my_tasks(user, counselor_id=counselor_id)
    page = paginate(request, qs, TASK_PAGE_SIZE)
    return render(request, "workspace/work/tasks.html", {
        "page": page, "counselor_id": counselor_id, **_row_context()})


@staff_required
@require_GET
def task_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One task: what to do, whom to talk to, why it was opened (the factors at the time,
    worded now in the viewer's language) and the actions."""
    task = _task_or_404(request.user, pk)
    segment = (task.evidence or {}).get("segment") if isinstance(task.evidence, dict) else ""
    return render(request, "workspace/work/task_detail.html", {
        "task": task, "segment_label": segment_label(segment),
        "risk": (task.evidence or {}).get("risk") if isinstance(task.evidence, dict) else None,
        **_row_context()})


def _row_response(request: HttpRequest, task: RetentionTask, error: str = "") -> HttpResponse:
    return render(request, "workspace/work/_task_row.html", {"task": task, "error": error,
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
