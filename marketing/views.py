"""Marketing pages: the public enquiry page (no login) with its QR code, the staff's
prospect pools and pipeline, campaigns, and the managers' analytics.

Rows are always scoped through crm.permissions / the marketing selectors (another
branch's prospect is a 404); analytics and campaigns are for managers and head office.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm import permissions
from crm.models import Branch
from crm.roles import Role
from crm.views import paginate

from . import selectors, services
from .forms import (
    EnquiryForm,
    ExitInterviewForm,
    StageForm,
    TierOverrideForm,
    WindowForm,
    seconds_since,
    started_token,
)
from .models import Campaign, Pool, Prospect
from .services.prospects import NEXT_STAGES


def staff_required(view: Any) -> Any:
    """Logged in and holding a staff role; anyone else gets the 403 page."""

    @login_required
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if permissions.role_of(request.user) is None:
            raise PermissionDenied(_("Your account has no staff role."))
        return view(request, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def role_required(allowed: Any, message: Any) -> Any:
    """A staff view that also needs `allowed(user)`; otherwise 403 with `message`."""
    def decorate(view: Any) -> Any:
        @staff_required
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not allowed(request.user):
                raise PermissionDenied(message)
            return view(request, *args, **kwargs)

        wrapped.__name__ = view.__name__
        wrapped.__doc__ = view.__doc__
        return wrapped
    return decorate


managers_only = role_required(selectors.can_see_analytics,
                              gettext_lazy("This page is for managers and head office."))


def _errors(form: Any, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errs in exc.message_dict.items():
            form.add_error(field if field in form.fields else None, errs)
    else:
        form.add_error(None, exc.messages)


# --- public enquiry page ----------------------------------------------------------------

def _client_ip(request: HttpRequest) -> str:
    # Behind the reverse proxy the first X-Forwarded-For hop is the visitor.
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    return forwarded.split(",")[0].strip() or request.META.get("REMOTE_ADDR", "")


def _campaign_for(branch: Branch, code: str) -> Campaign | None:
    if not code:
        return None
    return (Campaign.objects.filter(code=code, is_active=True)
            .filter(branch__in=[branch]).first()
            or Campaign.objects.filter(code=code, is_active=True, branch__isnull=True).first())


def enquiry(request: HttpRequest, branch_code: str) -> HttpResponse:
    """The page a parent reaches from a poster's QR code or a link (no login).

    Spam: a honeypot field, a minimum fill time (signed timestamp) and per-address and
    per-phone limits per hour (Django cache). Duplicates: a known phone is attached to
    its family, never registered twice (see services.enquiries).
    """
    branch = get_object_or_404(Branch, code=branch_code, is_active=True)
    campaign = _campaign_for(branch, request.GET.get("c", ""))
    policy = selectors.policy_for(branch.pk)
    context: dict[str, Any] = {"branch": branch, "campaign": campaign}
    if request.method != "POST":
        form = EnquiryForm(initial={"started": started_token()})
        return render(request, "marketing/enquiry.html", {**context, "form": form})
    form = EnquiryForm(request.POST)
    if request.POST.get("website"):
        # A bot: thank it like a person and keep nothing.
        return render(request, "marketing/enquiry_thanks.html", context)
    if services.enquiry_rate_exceeded(f"ip:{_client_ip(request)}",
                                       policy.enquiry_limit_per_hour):
        return render(request, "marketing/enquiry.html", {
            **context, "form": form, "refused": _("Too many enquiries from this connection. "
                                                  "Please try again later or call us.")},
            status=429)
    if form.is_valid():
        elapsed = seconds_since(form.cleaned_data["started"])
        phone_key = f"phone:{form.cleaned_data['phone'].replace(' ', '')}"
        if elapsed is None or elapsed < policy.enquiry_min_seconds:
            form.add_error(None, _("Please check your details and send the form again."))
        elif services.enquiry_rate_exceeded(phone_key, policy.enquiry_limit_per_hour):
            return render(request, "marketing/enquiry.html", {
                **context, "form": form, "refused": _("We already have several enquiries "
                                                      "from this phone; we will call you.")},
                status=429)
        else:
            data = {k: form.cleaned_data[k] for k in ("parent_name", "phone", "child_name",
                                                      "grade", "message", "consent_contact")}
            try:
                services.enquiry_submit(branch=branch, campaign=campaign, **data)
            except ValidationError as exc:
                _errors(form, exc)
            else:
                return render(request, "marketing/enquiry_thanks.html", context)
    form.data = form.data.copy()
    form.data["started"] = started_token()
    return render(request, "marketing/enquiry.html", {**context, "form": form}, status=400)


def _enquiry_url(request: HttpRequest, branch: Branch, campaign_code: str) -> str:
    url = reverse("marketing:enquiry", args=[branch.code])
    if campaign_code:
        url += f"?c={campaign_code}"
    return request.build_absolute_uri(url)


def enquiry_qr(request: HttpRequest, branch_code: str) -> HttpResponse:
    """The enquiry link as an SVG QR code (drawn locally with segno; no external service)."""
    import io

    import segno

    branch = get_object_or_404(Branch, code=branch_code, is_active=True)
    out = io.BytesIO()
    segno.make(_enquiry_url(request, branch, request.GET.get("c", "")), error="m").save(
        out, kind="svg", scale=8, border=2)
    return HttpResponse(out.getvalue(), content_type="image/svg+xml")


@staff_required
def enquiry_poster(request: HttpRequest, branch_code: str) -> HttpResponse:
    """A printable page with the QR code (staff print it for the front desk and posters)."""
    branch = get_object_or_404(permissions.scope_branches(request.user, Branch.objects.all()),
                               code=branch_code)
    code = request.GET.get("c", "")
    return render(request, "marketing/enquiry_poster.html", {
        "branch": branch, "campaign": _campaign_for(branch, code),
        "url": _enquiry_url(request, branch, code),
        "qr": reverse("marketing:enquiry-qr", args=[branch.code]) + (f"?c={code}" if code
                                                                      else "")})


# --- prospects ---------------------------------------------------------------------------

@staff_required
def prospect_list(request: HttpRequest) -> HttpResponse:
    """The pools: my leads, the branch's public pool, everything visible; plus the alert."""

    pool = request.GET.get("pool", "")
    user = request.user
    if pool == "mine":
        qs = selectors.prospect_list(user, owner_id=user.pk)
    elif pool == Pool.PUBLIC:
        qs = selectors.public_pool(user)
    else:
        qs = selectors.prospect_list(user, stage=request.GET.get("stage", ""),
                                     tier=request.GET.get("tier", ""))
    return render(request, "marketing/prospect_list.html", {
        "page": paginate(request, qs, 25), "pool": pool,
        "unassigned": selectors.unassigned_new_lead_count(user),
        "held": services.private_lead_count(user),
        "cap": selectors.policy_for(getattr(permissions.branch_of(user), "pk", None))
        .private_pool_cap,
        "is_counselor": permissions.role_of(user) == Role.COUNSELOR,
    })


def _visible_prospect(user: Any, pk: int) -> Prospect:
    qs = selectors.scope_prospects(user, Prospect.objects.select_related(
        "student", "student__branch", "owner", "campaign"))
    return get_object_or_404(qs, pk=pk)


@staff_required
def prospect_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One prospect: the pipeline timeline and the next steps the table allows."""
    prospect = _visible_prospect(request.user, pk)
    allowed = sorted(NEXT_STAGES[prospect.stage] | (
        {"enrolled"} if prospect.stage != "enrolled" else set()))
    stage_form = StageForm(request.POST or None, allowed=allowed, prefix="stage")
    tier_form = TierOverrideForm(prefix="tier")
    if request.method == "POST" and stage_form.is_valid():
        data = stage_form.cleaned_data
        try:
            services.prospect_advance(
                prospect=prospect, stage=data["stage"], actor=request.user, on=data["on"],
                note=data["note"], lost_reason=data["lost_reason"],
                next_follow_up=data["next_follow_up"])
        except ValidationError as exc:
            _errors(stage_form, exc)
        else:
            messages.success(request, _("Stage recorded."))
            return redirect("marketing:prospect-detail", pk=prospect.pk)
    return render(request, "marketing/prospect_detail.html", {
        "prospect": prospect, "steps": prospect.steps.select_related("actor"),
        "stage_form": stage_form, "tier_form": tier_form,
        "enquiries": prospect.student.enquiries.all()[:10],
    })


@require_POST
@staff_required
def prospect_claim(request: HttpRequest, pk: int) -> HttpResponse:
    prospect = _visible_prospect(request.user, pk)
    try:
        services.prospect_claim(prospect=prospect, counselor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The lead is now in your private pool."))
    return redirect("marketing:prospect-detail", pk=prospect.pk)


@require_POST
@staff_required
def prospect_release(request: HttpRequest, pk: int) -> HttpResponse:
    prospect = _visible_prospect(request.user, pk)
    if prospect.owner_id != request.user.pk and not selectors.can_see_analytics(request.user):
        raise PermissionDenied(_("Only the owner or a manager can release this lead."))
    services.prospect_release(prospect=prospect, actor=request.user,
                              reason=request.POST.get("reason", ""))
    messages.success(request, _("The lead is back in the public pool."))
    return redirect("marketing:prospect-detail", pk=prospect.pk)


@require_POST
@staff_required
def prospect_tier(request: HttpRequest, pk: int) -> HttpResponse:
    prospect = _visible_prospect(request.user, pk)
    if permissions.role_of(request.user) not in {Role.COUNSELOR, Role.MANAGER,
                                                 Role.HEAD_OFFICE}:
        raise PermissionDenied(_("Your role may not do this."))
    form = TierOverrideForm(request.POST, prefix="tier")
    if form.is_valid():
        try:
            services.prospect_tier_override(prospect=prospect, tier=form.cleaned_data["tier"],
                                            reason=form.cleaned_data["reason"],
                                            actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Tier saved."))
    else:
        messages.error(request, _("Give a reason for the tier."))
    return redirect("marketing:prospect-detail", pk=prospect.pk)


@staff_required
def exit_interview(request: HttpRequest, student_pk: int) -> HttpResponse:
    """Record the exit interview of a terminated or lapsed account (DOMAIN.md §6): a
    reason from the managed list and what they said; back to the account afterwards."""
    from students.models import Student

    from .services.recovery import INTERVIEW_ROLES, exit_interview_due

    if permissions.role_of(request.user) not in INTERVIEW_ROLES:
        raise PermissionDenied(_("Your role may not hold exit interviews."))
    student = get_object_or_404(permissions.scope_students(request.user, Student.objects.all()),
                                pk=student_pk)
    form = ExitInterviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.exit_interview_record(student=student, interviewer=request.user,
                                           reason=form.cleaned_data["reason"],
                                           detail=form.cleaned_data["detail"],
                                           held_on=form.cleaned_data["held_on"])
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("Exit interview recorded."))
            return redirect("students:detail", pk=student.pk)
    return render(request, "marketing/exit_interview.html", {
        "student": student, "form": form, "due": exit_interview_due(student)},
        status=400 if request.method == "POST" else 200)


# --- campaigns and analytics -------------------------------------------------------------

@managers_only
def campaign_export(request: HttpRequest, pk: int) -> HttpResponse:
    """The audience as CSV (recorded as a handoff and audited)."""
    campaign = get_object_or_404(selectors.scope_campaigns(request.user), pk=pk)
    text = services.campaign_export(campaign=campaign, actor=request.user)
    response = HttpResponse("\ufeff" + text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="audience-{campaign.code}.csv"'
    return response


def _window(request: HttpRequest) -> tuple[dt.date, dt.date, WindowForm]:
    form = WindowForm(request.GET or None)
    today = timezone.localdate()
    since, until = today - dt.timedelta(days=365), today
    if form.is_valid():
        since = form.cleaned_data["since"] or since
        until = form.cleaned_data["until"] or until
    return since, until, form


@managers_only
def churn(request: HttpRequest) -> HttpResponse:
    """Losses by reason, period, branch, counselor, grade and pattern, month by month."""
    since, until, form = _window(request)
    data = selectors.churn_analysis(request.user, since=since, until=until)
    return render(request, "marketing/churn.html", {
        "form": form, "data": data, "since": since, "until": until,
        "dimensions": [("by_reason", _("By reason")), ("by_period", _("By period lost in")),
                       ("by_pattern", _("By lifecycle pattern")), ("by_branch", _("By branch")),
                       ("by_counselor", _("By counselor")), ("by_grade", _("By grade"))],
        "candidates": selectors.win_back_candidates(request.user)[:50],
    })


@managers_only
def funnel(request: HttpRequest) -> HttpResponse:
    """Conversion by source and campaign, time to convert, acquisition vs retention cost."""
    since, until, form = _window(request)
    return render(request, "marketing/funnel.html", {
        "form": form, "since": since, "until": until,
        "by_source": selectors.funnel(request.user, since=since, until=until, by="source"),
        "by_campaign": selectors.funnel(request.user, since=since, until=until,
                                        by="campaign"),
        "costs": selectors.acquisition_vs_retention(request.user, since=since, until=until),
    })
