"""The strategy of each customer type (DOMAIN.md §5, row 5: "strategy is chosen per
type"): reading the one that applies to an account, and the one door that edits them.

Who: managers and head office edit (a manager their branch's override, head office the
institution's default or any branch's); counselors read; front desk and teachers never
see a customer type, since it is derived from the value scores they do not see.
"""
from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from crm import permissions
from crm.models import Branch
from crm.roles import Role
from crm.services import audit

from .explain import customer_type_label
from .models import AccountScore, TypeStrategy
from .models.strategy import MAX_ACTIONS, MAX_STRATEGY
from .periods import phase_of
from .value import CUSTOMER_TYPES

EDIT_ROLES = {Role.MANAGER, Role.HEAD_OFFICE}


def type_label(customer_type: str) -> str:
    """'core.maintenance' -> 'Core (核心) · Maintenance (维系)' in the active language:
    a person never reads the code (the one renderer: lifecycle.explain)."""
    return customer_type_label(customer_type)


def can_read_strategies(user: Any) -> bool:
    return permissions.can_see_scores(user)


def can_edit_strategies(user: Any) -> bool:
    return permissions.role_of(user) in EDIT_ROLES


def account_type(score: AccountScore | None, period: str) -> str | None:
    """The account's customer type now: its stored segment by the phase of its current
    period (the rule the dashboard's grid counts by); None before its first score."""
    if score is None:
        return None
    return f"{score.segment}.{phase_of(period)}"


def strategies_for(branch_id: int | None) -> dict[str, TypeStrategy]:
    """The strategy that applies to each type in a branch: the branch's own row, else the
    institution's (one query). branch_id None: the institution's only."""
    out: dict[str, TypeStrategy] = {}
    rows = TypeStrategy.objects.filter(branch__isnull=True)
    if branch_id:
        rows = rows | TypeStrategy.objects.filter(branch_id=branch_id)
    for row in rows.order_by("customer_type"):
        if row.branch_id or row.customer_type not in out:
            out[row.customer_type] = row
    return out


def strategy_for(branch_id: int, customer_type: str) -> TypeStrategy | None:
    return strategies_for(branch_id).get(customer_type)


def _may_edit(user: Any, branch: Branch | None) -> None:
    role = permissions.role_of(user)
    if role == Role.HEAD_OFFICE:
        return
    if role == Role.MANAGER and branch is not None and branch == permissions.branch_of(user):
        return
    if role == Role.MANAGER:
        raise PermissionDenied(_("A branch manager edits the strategies of their own branch."))
    raise PermissionDenied(_("Only managers and head office edit strategies."))


def _clean(customer_type: str, texts: dict[str, str]) -> dict[str, str]:
    errors: dict[str, Any] = {}
    if customer_type not in CUSTOMER_TYPES:
        errors["customer_type"] = _("Unknown customer type.")
    texts = {k: (v or "").strip() for k, v in texts.items()}
    if not texts["strategy_zh"]:
        errors["strategy_zh"] = _("Strategy (Chinese): this field is required.")
    for field, limit, label in (("strategy_zh", MAX_STRATEGY, _("Strategy (Chinese)")),
                                ("strategy_en", MAX_STRATEGY, _("Strategy (English)")),
                                ("actions_zh", MAX_ACTIONS, _("Recommended actions (Chinese)")),
                                ("actions_en", MAX_ACTIONS, _("Recommended actions (English)"))):
        if len(texts[field]) > limit and field not in errors:
            errors[field] = _("%(field)s: at most %(n)d characters.") % {"field": label,
                                                                         "n": limit}
    if errors:
        raise ValidationError(errors)
    return texts


@transaction.atomic
def strategy_save(*, user: Any, branch: Branch | None, customer_type: str, strategy_zh: str,
                  strategy_en: str = "", actions_zh: str = "", actions_en: str = ""
                  ) -> TypeStrategy:
    """Write the strategy of one type for a branch (an override) or the institution
    (branch None). Saving the same text twice changes nothing but the time; there is
    one row per (branch, type), so a repeated submit never duplicates."""
    _may_edit(user, branch)
    texts = _clean(customer_type, {"strategy_zh": strategy_zh, "strategy_en": strategy_en,
                                   "actions_zh": actions_zh, "actions_en": actions_en})
    row = (TypeStrategy.objects.select_for_update()
           .filter(branch=branch, customer_type=customer_type).first())
    if row is None:
        row = TypeStrategy(branch=branch, customer_type=customer_type)
    for field, value in texts.items():
        setattr(row, field, value)
    row.updated_by = user if getattr(user, "is_authenticated", False) else None
    row.save()
    audit(actor=user, action="strategy.save", obj=row, branch=branch,
          data={"customer_type": customer_type})
    return row


@transaction.atomic
def strategy_reset(*, user: Any, branch: Branch, customer_type: str) -> bool:
    """Drop a branch's override so the institution's strategy applies again."""
    _may_edit(user, branch)
    deleted, _rows = TypeStrategy.objects.filter(branch=branch,
                                                 customer_type=customer_type).delete()
    if deleted:
        audit(actor=user, action="strategy.reset", object_type="lifecycle.typestrategy",
              branch=branch, data={"customer_type": customer_type})
    return bool(deleted)
