"""The counselor's at-risk list: accounts in 危险期 or approaching it, with the reasons."""
from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from crm import permissions
from crm.models import Branch
from crm.views import paginate
from lifecycle.explain import reason_texts, segment_label
from lifecycle.periods import MAINTENANCE_PERIODS, Period
from lifecycle.value import Segment
from parents.phones import display_phone, mask_phone
from students.choices import Grade
from students.views import staff_required
from workspace import selectors as dashboard

from .access import scores_required

AT_RISK_PAGE_SIZE = 25


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
    scores_required(user)
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
        s.reasons = reason_texts(s.risk_factors)
        s.segment_label = segment_label(s.segment)
        s.days_since_contact = ((now - s.last_contact_at).days
                                if s.last_contact_at is not None else None)
        if s.decider_phone:
            s.decider_phone_shown = (display_phone(s.decider_phone) if full_contact
                                     else mask_phone(s.decider_phone))
    return render(request, "workspace/work/at_risk.html", {
        "form": form, "page": page, "margin": dashboard.APPROACH_MARGIN,
        "rising": dashboard.RISING_POINTS,
    })
