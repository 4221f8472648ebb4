"""Complaints and satisfaction surveys as workspace pages (issue #24).

Writes go through students.services.engagement (complaint_open / complaint_update /
survey_record), the same door as the API and the admin. Who may do what follows today's
role permissions: the engagement models are counselors', managers' and head office's
(crm.roles); front desk and teachers are refused. Rows are scoped by crm.permissions.
"""
from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from crm import permissions
from crm.roles import Role
from crm.views import paginate
from students.models import Complaint, Interaction, SatisfactionSurvey
from students.services.engagement import complaint_open, complaint_update, survey_record
from students.views import staff_required, visible_student
from workspace.service_forms import ComplaintForm, ComplaintUpdateForm, SurveyForm

PAGE_SIZE = 30


def _need(user: Any, perm: str, message: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied(message)


def can_assign(user: Any) -> bool:
    """Handing a complaint to someone else is a manager's (or head office's) call."""
    return permissions.role_of(user) in {Role.MANAGER, Role.HEAD_OFFICE}


def _form_errors(form: Any, exc: ValidationError) -> None:
    """Service errors onto the form's fields (or the form) so the page names the field."""
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, exc)


def complaints_visible(user: Any) -> QuerySet:
    """Complaints of the students the user sees, open and late ones first (one query)."""
    now = timezone.now()
    qs = permissions.scope_by_student(user, Complaint.objects.all())
    return (qs.select_related("student", "parent", "owner__staff_profile")
            .annotate(overdue=Case(When(~Q(status=Complaint.Status.RESOLVED), sla_due__lt=now,
                                        then=Value(1)), default=Value(0),
                                   output_field=IntegerField()),
                      resolved=Case(When(status=Complaint.Status.RESOLVED, then=Value(1)),
                                    default=Value(0), output_field=IntegerField()))
            .order_by("resolved", "-overdue", "sla_due", "-id"))


@staff_required
def complaint_list(request: HttpRequest) -> HttpResponse:
    """Open complaints with their SLA clock (late ones flagged), then resolved ones."""
    user = request.user
    _need(user, "students.view_complaint", _("Your role does not handle complaints."))
    qs = complaints_visible(user)
    show = request.GET.get("show", "open")
    if show == "open":
        qs = qs.exclude(status=Complaint.Status.RESOLVED)
    elif show == "overdue":
        qs = qs.filter(overdue=1)
    if request.GET.get("mine"):
        qs = qs.filter(owner=user)
    page = paginate(request, qs, PAGE_SIZE)
    return render(request, "workspace/service/complaint_list.html", {
        "page": page, "show": show, "mine": bool(request.GET.get("mine")),
        "now": timezone.now()})


@staff_required
def complaint_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Enter a complaint for a student: who raised it, what about, who owns it."""
    user = request.user
    _need(user, "students.add_complaint", _("Your role cannot enter complaints."))
    student = visible_student(user, pk)
    form = ComplaintForm(request.POST or None, student=student)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            complaint = complaint_open(
                student=student, category=d["category"], description=d["description"],
                raised_by=d["raised_by"], parent=d.get("parent"), owner=d.get("owner"),
                actor=user)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Complaint recorded; to be resolved by %(due)s.")
                             % {"due": timezone.localtime(complaint.sla_due)
                                .strftime("%Y-%m-%d %H:%M")})
            return redirect("service:complaint", pk=complaint.pk)
    return render(request, "workspace/service/complaint_form.html",
                  {"student": student, "form": form})


@staff_required
def complaint_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One complaint: its SLA clock and history; assign, work on, resolve or re-open it."""
    user = request.user
    _need(user, "students.view_complaint", _("Your role does not handle complaints."))
    complaint = get_object_or_404(complaints_visible(user), pk=pk)
    may_change = user.has_perm("students.change_complaint")
    assign = can_assign(user)
    form = None
    if may_change:
        form = ComplaintUpdateForm(request.POST or None, complaint=complaint,
                                   can_assign=assign)
    if request.method == "POST":
        if form is None:
            raise PermissionDenied(_("Your role cannot change complaints."))
        if form.is_valid():
            d = form.cleaned_data
            kwargs: dict[str, Any] = {"status": d["status"], "resolution": d["resolution"]}
            if assign:
                kwargs["owner"] = d.get("owner")
            try:
                complaint_update(complaint=complaint, actor=user, **kwargs)
            except ValidationError as exc:
                _form_errors(form, exc)
            else:
                messages.success(request, _("Complaint saved."))
                return redirect("service:complaint", pk=complaint.pk)
    return render(request, "workspace/service/complaint_detail.html", {
        "complaint": complaint, "form": form, "now": timezone.now()})


def _log_survey_call(survey: SatisfactionSurvey, user: Any) -> None:
    """The call the answer was taken on is a contact like any other (it counts for the
    scan's days since the last contact and answers a pending follow-up). Once per survey:
    a repeated submit finds the survey it already recorded, and its call."""
    summary = _("Satisfaction survey: %(overall)s/5") % {"overall": survey.overall}
    if survey.comment:
        summary += f"\n{survey.comment}"
    Interaction.objects.get_or_create(
        student=survey.student, occurred_at=survey.surveyed_at, channel=Interaction.Channel.CALL,
        with_whom=survey.respondent, parent=survey.parent,
        defaults={"staff": user, "summary": summary,
                  "sentiment": (Interaction.Sentiment.POSITIVE if survey.overall >= 4
                                else Interaction.Sentiment.NEGATIVE if survey.overall <= 2
                                else Interaction.Sentiment.NEUTRAL)})


@staff_required
def survey_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Record a satisfaction answer taken on a call: the student's or one parent's."""
    user = request.user
    _need(user, "students.add_satisfactionsurvey",
          _("Your role cannot record satisfaction surveys."))
    student = visible_student(user, pk)
    form = SurveyForm(request.POST or None, student=student)
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            with transaction.atomic():
                survey = survey_record(
                    student=student, respondent=d["respondent"], parent=d.get("parent"),
                    overall=d["overall"], teaching=d.get("teaching"), service=d.get("service"),
                    environment=d.get("environment"), recommend=d.get("recommend"),
                    comment=d.get("comment", ""), actor=user)
                if d.get("log_call"):
                    _log_survey_call(survey, user)
        except ValidationError as exc:
            _form_errors(form, exc)
        else:
            messages.success(request, _("Survey answer recorded."))
            return redirect("students:detail", pk=student.pk)
    return render(request, "workspace/service/survey_form.html",
                  {"student": student, "form": form})
