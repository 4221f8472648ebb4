"""Referral pages (DOMAIN.md §6: word of mouth outweighs everything): the list, recording
who referred whom from a page, and moving the reward along.

Front desk, counselors, managers and head office record referrals (front desk hears
"my neighbour sent us" first); reward changes are money, so not front desk. The rules
are in `services.referral_record` / `referral_reward_set` / `referral_update`.
"""
from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.permissions import scope_students
from crm.views import paginate
from students.models import Student

from . import selectors, services
from .forms import ReferralForm, RewardStatusForm
from .models import Referral, RewardPolicy
from .views import _errors, role_required

LOOKUP_LIMIT = 10
# Fields picked by searching (a select of 100,000 students would not do).
LOOKUP_FIELDS = ("referred", "referrer_student", "referrer_parent")


_recorder = role_required(selectors.can_record_referrals,
                          gettext_lazy("Your role may not record referrals."))


def _pools(user: Any) -> dict[str, QuerySet]:
    return {"referred": scope_students(user, Student.objects.select_related("branch")),
            "referrer_student": selectors.referrer_students(user).select_related("branch"),
            "referrer_parent": selectors.referrer_parents(user),
            "staff": selectors.referrer_staff(user)}


@_recorder
def referral_list(request: HttpRequest) -> HttpResponse:
    """Visible referrals, newest first, filterable by reward status and referrer kind."""

    status, kind = request.GET.get("status", ""), request.GET.get("kind", "")
    qs = selectors.referral_list(request.user, status=status, kind=kind)
    return render(request, "marketing/referral_list.html", {
        "page": paginate(request, qs, 25), "status": status, "kind": kind,
        "statuses": Referral.RewardStatus.choices, "kinds": Referral.Kind.choices})


@_recorder
def referral_create(request: HttpRequest) -> HttpResponse:
    """Record who referred a student; `?student=` comes from the account page."""
    pools = _pools(request.user)
    initial = {"referred": request.GET.get("student") or None}
    form = ReferralForm(request.POST or None, initial=initial, referred=pools["referred"],
                        students=pools["referrer_student"], parents=pools["referrer_parent"],
                        staff=pools["staff"])
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            referral = services.referral_record(
                actor=request.user, referred=data["referred"], kind=data["kind"],
                referrer_student=data["referrer_student"],
                referrer_parent=data["referrer_parent"],
                referrer_staff=data["referrer_staff"], referrer_name=data["referrer_name"],
                referrer_phone=data["referrer_phone"], reward_policy=data["reward_policy"],
                note=data["note"])
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, _("Referral recorded: %(r)s.") % {"r": referral})
            return redirect("marketing:referral-detail", pk=referral.pk)
    # The chosen rows are shown again as checked options (and a preset ?student=).
    chosen: dict[str, Any] = {}
    for field in LOOKUP_FIELDS:
        value = form[field].value()
        if value and str(value).isdigit():
            chosen[field] = pools[field].filter(pk=int(value)).first()
    return render(request, "marketing/referral_form.html", {"form": form, "chosen": chosen},
                  status=400 if request.method == "POST" else 200)


@_recorder
def referral_lookup(request: HttpRequest) -> HttpResponse:
    """htmx: the first matches for a referral form's student or parent field, as radio
    options named after the field (so picking one is the form's value, no script)."""
    field = request.GET.get("field", "")
    if field not in LOOKUP_FIELDS:
        raise PermissionDenied(_("Unknown field."))
    q = (request.GET.get("q") or request.GET.get(f"q_{field}") or "").strip()
    rows: list[Any] = []
    if q:
        qs = _pools(request.user)[field]
        if field == "referrer_parent":
            digits = "".join(ch for ch in q if ch.isdigit())
            cond = Q(name__icontains=q)
            if len(digits) >= 4:
                cond |= Q(phone__contains=digits)
            qs = qs.filter(cond).order_by("name", "pk")
        else:
            from students.selectors import search_q

            qs = qs.filter(search_q(q)).order_by("name_pinyin", "pk")
        rows = list(qs[:LOOKUP_LIMIT])
    return render(request, "marketing/_referral_lookup.html",
                  {"field": field, "rows": rows, "q": q})


@_recorder
def referral_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One referral: the reward's next allowed statuses, and its policy while pending."""
    referral = get_object_or_404(selectors.referral_list(request.user), pk=pk)
    allowed = [(s, label) for s, label in Referral.RewardStatus.choices
               if s in services.REWARD_NEXT.get(referral.reward_status, frozenset())]
    can_reward = selectors.can_set_rewards(request.user)
    status_form = RewardStatusForm(request.POST if "status" in request.POST else None,
                                   allowed=allowed)
    if request.method == "POST":
        try:
            if "status" in request.POST:
                if not can_reward:
                    raise PermissionDenied(_("Your role may not change referral rewards."))
                if status_form.is_valid():
                    services.referral_reward_set(referral=referral, actor=request.user,
                                                 status=status_form.cleaned_data["status"])
                    messages.success(request, _("Reward status changed."))
                    return redirect("marketing:referral-detail", pk=referral.pk)
            else:
                policy_id = request.POST.get("reward_policy") or None
                policy = (get_object_or_404(RewardPolicy, pk=policy_id)
                          if policy_id else None)
                services.referral_update(referral=referral, actor=request.user,
                                         reward_policy=policy,
                                         note=request.POST.get("note", ""))
                messages.success(request, _("Referral saved."))
                return redirect("marketing:referral-detail", pk=referral.pk)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
    return render(request, "marketing/referral_detail.html", {
        "referral": referral, "status_form": status_form if can_reward and allowed else None,
        "policies": RewardPolicy.objects.filter(is_active=True),
        "editable": referral.reward_status == Referral.RewardStatus.PENDING,
    }, status=400 if request.method == "POST" else 200)
