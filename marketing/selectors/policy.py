"""The marketing policy that applies to a branch (its own row, else the default)."""
from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q

from marketing.models import MarketingPolicy


def policy_for(branch_id: int | None) -> MarketingPolicy:
    """Effective policy of a branch; an unsaved default when no row exists yet."""
    rows = {p.branch_id: p for p in MarketingPolicy.objects.filter(
        Q(branch_id=branch_id) | Q(branch__isnull=True))}
    return rows.get(branch_id) or rows.get(None) or MarketingPolicy()


def policies_by_branch(branch_ids: Iterable[int]) -> dict[int, MarketingPolicy]:
    """Effective policy per branch in one query (jobs group their work by branch)."""
    ids = list(branch_ids)
    rows = {p.branch_id: p for p in MarketingPolicy.objects.filter(
        Q(branch_id__in=ids) | Q(branch__isnull=True))}
    default = rows.get(None) or MarketingPolicy()
    return {bid: rows.get(bid) or default for bid in ids}
