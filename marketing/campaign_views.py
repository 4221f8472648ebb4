"""Campaign pages for managers and head office: list, create, edit, detail (segment,
audience preview, results, handoffs) and the messaging handoff.

Every write goes through `services.campaign_save` / `campaign_handoff`: the branch rule
(a manager's campaign is their branch's) and the segment checks live there, so these
pages and the API refuse exactly the same things.
"""
from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.models import Branch
from crm.permissions import role_of, scope_branches
from crm.roles import Role
from crm.views import paginate

from . import selectors, services
from .forms import CampaignForm
from .models import Campaign
from .views import _errors, managers_only

FORM_FIELDS = ("code", "name", "kind", "branch", "channel", "contact_channel", "starts_on",
               "ends_on", "cost", "target_periods", "target_grades", "target_segments",
               "exam_from", "exam_until", "message", "is_active")


def _form(request: HttpRequest, **kwargs: Any) -> CampaignForm:
    """Head office picks the branch (or none: every branch); a manager's is fixed."""
    branches = (scope_branches(request.user, Branch.objects.filter(is_active=True))
                if role_of(request.user) == Role.HEAD_OFFICE else None)
    return CampaignForm(request.POST or None, branches=branches, **kwargs)


def _initial(campaign: Campaign) -> dict[str, Any]:
    return {f: getattr(campaign, f) for f in FORM_FIELDS}


def _scoped(request: HttpRequest, pk: int) -> Campaign:
    qs = selectors.scope_campaigns(request.user, Campaign.objects.select_related(
        "branch", "channel", "created_by"))
    return get_object_or_404(qs, pk=pk)


def _save(request: HttpRequest, form: CampaignForm, campaign: Campaign | None
          ) -> Campaign | None:
    data = {k: v for k, v in form.cleaned_data.items() if k in form.fields}
    try:
        return services.campaign_save(actor=request.user, data=data, campaign=campaign)
    except ValidationError as exc:
        _errors(form, exc)
        return None


@managers_only
def campaign_list(request: HttpRequest) -> HttpResponse:
    """All visible campaigns with their results (one query whatever the number)."""

    qs = selectors.with_results(selectors.scope_campaigns(request.user).select_related(
        "branch", "channel"))
    page = paginate(request, qs, 25)
    rows = [(c, selectors.results_of(c)) for c in page]
    return render(request, "marketing/campaign_list.html", {"rows": rows, "page": page})


@managers_only
def campaign_create(request: HttpRequest) -> HttpResponse:
    form = _form(request)
    if request.method == "POST" and form.is_valid():
        campaign = _save(request, form, None)
        if campaign is not None:
            messages.success(request, _("Campaign “%(name)s” created.") % {"name": campaign})
            return redirect("marketing:campaign-detail", pk=campaign.pk)
    return render(request, "marketing/campaign_form.html", {"form": form, "campaign": None},
                  status=400 if request.method == "POST" else 200)


@managers_only
def campaign_edit(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _scoped(request, pk)
    form = _form(request, initial=_initial(campaign))
    if request.method == "POST" and form.is_valid():
        saved = _save(request, form, campaign)
        if saved is not None:
            messages.success(request, _("Campaign saved."))
            return redirect("marketing:campaign-detail", pk=saved.pk)
    return render(request, "marketing/campaign_form.html",
                  {"form": form, "campaign": campaign},
                  status=400 if request.method == "POST" else 200)


@managers_only
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The segment, the audience it reaches now, the results and what was handed over."""
    campaign = _scoped(request, pk)
    annotated = selectors.with_results(Campaign.objects.filter(pk=campaign.pk)).get()
    from lifecycle.periods import Period
    from lifecycle.value import Segment
    from students.choices import Grade

    def labels(codes: list[str], choices: Any) -> list[str]:
        names = dict(choices)
        return [str(names.get(c, c)) for c in codes or []]

    return render(request, "marketing/campaign_detail.html", {
        "campaign": campaign,
        "results": selectors.results_of(annotated),
        "audience": selectors.audience_size(campaign, request.user),
        "periods": labels(campaign.target_periods, Period.choices),
        "grades": labels(campaign.target_grades, Grade.choices),
        "segments": labels(campaign.target_segments, Segment.choices),
        "handoffs": campaign.handoffs.select_related("actor")[:20],
    })


@require_POST
@managers_only
def campaign_handoff(request: HttpRequest, pk: int) -> HttpResponse:
    """Queue the campaign message for its audience (consent re-checked at send time)."""
    campaign = _scoped(request, pk)
    try:
        handoff = services.campaign_handoff(campaign=campaign, actor=request.user,
                                            text=request.POST.get("text", ""))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(n)d parents queued for %(channel)s; %(s)d skipped "
                                    "(no address).") % {"n": handoff.recipients,
                                                        "channel": handoff.channel,
                                                        "s": handoff.skipped})
    return redirect("marketing:campaign-detail", pk=campaign.pk)
