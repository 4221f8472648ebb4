"""Prospect reads: the pools, the unassigned-leads alert, follow-ups due, referrals."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from crm.permissions import branch_of, role_of, scope_by_student
from crm.roles import Role
from parents.models import Guardianship
from students.models import Payment, Refund

from ..models import Pool, Prospect, Referral, Stage
from .facts import paid_contracts
from .policy import policies_by_branch


def scope_prospects(user: Any, qs: QuerySet | None = None) -> QuerySet:
    """Prospects of the students the user may see (crm.permissions decides)."""
    qs = Prospect.objects.all() if qs is None else qs
    return scope_by_student(user, qs)


def prospect_list(user: Any, *, pool: str = "", stage: str = "", tier: str = "",
                  owner_id: int | None = None) -> QuerySet:
    qs = scope_prospects(user, Prospect.objects.select_related(
        "student", "student__branch", "student__source", "owner", "campaign"))
    if pool:
        qs = qs.filter(pool=pool)
    if stage:
        qs = qs.filter(stage=stage)
    if tier:
        qs = qs.filter(Q(tier_override=tier) | Q(tier_override="", tier=tier))
    if owner_id:
        qs = qs.filter(owner_id=owner_id)
    return qs.order_by("next_follow_up", "-created_at", "pk")


def public_pool(user: Any) -> QuerySet:
    """The branch's unowned open leads (a counselor picks from these)."""
    return prospect_list(user, pool=Pool.PUBLIC).exclude(stage__in=[Stage.ENROLLED,
                                                                     Stage.LOST])


def unassigned_new_leads(user: Any, *, now: dt.datetime | None = None) -> QuerySet:
    """New leads nobody owns for longer than their branch's alert hours (the dashboard
    alert). Branches with different policies are OR-ed into one query."""
    now = now or timezone.now()
    qs = scope_prospects(user, Prospect.objects.filter(owner__isnull=True, stage=Stage.NEW))
    role = role_of(user)
    if role is None or role == Role.TEACHER:
        return qs.none()
    branch_ids = ([branch_of(user).pk] if role != Role.HEAD_OFFICE and branch_of(user)
                  else list(qs.values_list("student__branch_id", flat=True).distinct()))
    cond = Q(pk__in=[])
    for bid, policy in policies_by_branch(branch_ids).items():
        cond |= Q(student__branch_id=bid,
                  created_at__lt=now - dt.timedelta(hours=policy.unassigned_alert_hours))
    return qs.filter(cond).select_related("student", "student__branch").order_by("created_at")


def unassigned_new_lead_count(user: Any, *, now: dt.datetime | None = None) -> int:
    return unassigned_new_leads(user, now=now).count()


def follow_ups_due(user: Any, *, on: dt.date | None = None) -> QuerySet:
    """Open leads whose next follow-up is due (the counselor's list for today)."""
    on = on or timezone.localdate()
    return (prospect_list(user).filter(next_follow_up__lte=on)
            .exclude(stage__in=[Stage.ENROLLED, Stage.LOST]))


# --- referrals -------------------------------------------------------------------------

@dataclass(frozen=True)
class ReferralFigures:
    """Word of mouth of one account (DOMAIN.md §5, PPV).

    referrals: families referred by the student or by one of their guardians;
    converted: how many of those have a paid (non-trial) contract;
    revenue: money received from the converted ones (payments minus refunds paid out).
    """

    referrals: int = 0
    converted: int = 0
    revenue: Decimal = Decimal("0")


# Frozen, so one shared instance serves every account without referrals (the nightly
# job asks for 100,000 of them).
_NO_REFERRALS = ReferralFigures()


def referral_figures(student_ids: list[int] | set[int]) -> dict[int, ReferralFigures]:
    """Referral counts and converted revenue per account, set-based (five queries).

    Returns {student_id: ReferralFigures(referrals, converted, revenue)} with an entry
    for every id asked for (zeros when none). A referral counts for an account when the
    referrer is the student or one of the student's guardians, so a parent's referral
    counts for each of their children (the family's word of mouth); a referred family
    counts once per account however many of its members referred it.
    """
    ids = set(student_ids)
    if not ids:
        return {}
    # The nightly job asks for a chunk (a compact id range): a range scan, and the rows
    # of students outside `ids` are dropped below, instead of a thousand-item IN list.
    lo, hi = min(ids), max(ids)
    pairs: set[tuple[int, int]] = {
        (s, r) for s, r in Referral.objects.filter(
            referrer_student__gte=lo, referrer_student__lte=hi).values_list(
            "referrer_student", "referred") if s in ids}
    guardians = Guardianship.objects.filter(student__gte=lo, student__lte=hi)
    parent_refs = set(Referral.objects.filter(
        referrer_parent__in=guardians.values("parent")).values_list("referrer_parent",
                                                                    "referred"))
    if parent_refs:
        children: dict[int, set[int]] = {}
        for parent_id, student_id in guardians.filter(
                parent__in={p for p, _r in parent_refs}).values_list("parent", "student"):
            if student_id in ids:
                children.setdefault(parent_id, set()).add(student_id)
        pairs |= {(sid, referred_id) for parent_id, referred_id in parent_refs
                  for sid in children.get(parent_id, set())}
    if not pairs:  # the usual chunk: nobody here referred anyone
        return dict.fromkeys(ids, _NO_REFERRALS)
    referred = {r for _s, r in pairs}
    converted = set(paid_contracts().filter(student__in=referred)
                    .values_list("student", flat=True).distinct())
    money: dict[int, Decimal] = {}
    for sid, amount in (Payment.objects.filter(contract__student__in=converted)
                        .values_list("contract__student", "amount")):
        money[sid] = money.get(sid, Decimal("0")) + amount
    for sid, amount in (Refund.objects.filter(contract__student__in=converted,
                                              status=Refund.Status.PAID)
                        .values_list("contract__student", "amount")):
        money[sid] = money.get(sid, Decimal("0")) - amount
    by_referrer: dict[int, set[int]] = {}
    for s, r in pairs:
        by_referrer.setdefault(s, set()).add(r)
    out: dict[int, ReferralFigures] = {}
    for sid in ids:
        mine = by_referrer.get(sid)
        if not mine:
            out[sid] = _NO_REFERRALS
            continue
        conv = mine & converted
        out[sid] = ReferralFigures(referrals=len(mine), converted=len(conv),
                                   revenue=sum((money.get(r, Decimal("0")) for r in conv),
                                               Decimal("0")))
    return out
