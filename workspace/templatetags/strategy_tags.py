"""The account page's customer type card: the type and the strategy that applies to it."""
from __future__ import annotations

from typing import Any

from django import template

from lifecycle.models import AccountScore
from lifecycle.strategies import (
    account_type,
    can_edit_strategies,
    can_read_strategies,
    strategy_for,
    type_label,
)

register = template.Library()


@register.inclusion_tag("workspace/strategies/_account_card.html", takes_context=True)
def customer_type_card(context: Any, student: Any) -> dict[str, Any]:
    """Nothing for the roles that do not see scores (the type is derived from them);
    otherwise the type, both value scores and the branch's strategy for it (two
    queries). Managers and head office get a link to edit it."""
    user = context["request"].user
    if not can_read_strategies(user):
        return {"show": False}
    score = AccountScore.objects.filter(student=student).first()
    ctype = account_type(score, student.period)
    return {
        "show": True, "student": student, "score": score, "customer_type": ctype,
        "type_label": type_label(ctype) if ctype else "",
        "strategy": strategy_for(student.branch_id, ctype) if ctype else None,
        "can_edit": can_edit_strategies(user),
        "branch_query": "" if student.branch_id is None else f"?branch={student.branch_id}",
    }
