"""Lifecycle events for webhooks: what integrators receive when an account changes period.

account_transition hands each new Transition id to `webhooks.services.after_commit`; after
the transaction commits, `publish_transitions` reads the committed rows in one query and
emits `lifecycle.transition` for every move and `risk.flagged` for moves into at_risk.
Payloads carry ids, not names or contacts: a receiver reads details through the API.
"""
from __future__ import annotations

from typing import Any

from webhooks.models import EventType, WebhookSubscription
from webhooks.services import Event, emit

from .models import Transition
from .periods import Period


def _data(row: dict[str, Any]) -> dict[str, Any]:
    return {"transition": row["pk"], "student": row["student_id"],
            "branch": row["student__branch_id"], "from_period": row["from_period"],
            "to_period": row["to_period"], "at": row["at"].isoformat(),
            "trigger": row["trigger"], "reason": row["reason"], "win_back": row["win_back"],
            "by": row["actor_id"], "scan_run": row["scan_run_id"]}


def publish_transitions(ids: list[int]) -> None:
    """Emit the committed transitions among `ids` (rolled-back ones no longer exist)."""
    if not WebhookSubscription.objects.filter(is_active=True).exists():
        return  # the common case on a night without integrations: one cheap query
    rows = list(Transition.objects.filter(pk__in=ids).order_by("pk").values(
        "pk", "student_id", "student__branch_id", "from_period", "to_period", "at",
        "trigger", "reason", "win_back", "actor_id", "scan_run_id", "evidence"))
    emit(EventType.LIFECYCLE_TRANSITION, [
        Event(id=f"transition:{r['pk']}", branch_id=r["student__branch_id"], data=_data(r),
              occurred_at=r["at"]) for r in rows])
    emit(EventType.RISK_FLAGGED, [
        Event(id=f"risk:{r['pk']}", branch_id=r["student__branch_id"],
              data={**_data(r), "risk": r["evidence"].get("score"),
                    "threshold": r["evidence"].get("threshold"),
                    "factors": r["evidence"].get("factors", [])},
              occurred_at=r["at"])
        for r in rows if r["to_period"] == Period.AT_RISK])
