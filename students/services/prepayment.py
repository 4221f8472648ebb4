"""Prepayment caps (预收费上限): pure checks shared by contract_create and the report.

Many cities cap what an institution may collect in advance, e.g. at most 3 months or
60 lesson hours per contract, and renewal fees only once the remaining hours fall under
a threshold. The numbers are branch policy (ContractPolicy); these functions only apply
them, so the same rule reads the same in the service and in the SQL report.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext as _

from students.models import ContractPolicy


def months_exceeded(valid_from: dt.date, valid_until: dt.date, months: int) -> bool:
    """True when the validity runs past `months` calendar months from its first day.

    Counted on (year, month, day) so the SQL report can use the same arithmetic:
    1 Jan -> 1 Apr is 3 months (within a 3-month cap), 1 Jan -> 2 Apr exceeds it.
    """
    span = (valid_until.year - valid_from.year) * 12 + valid_until.month - valid_from.month
    return span > months or (span == months and valid_until.day > valid_from.day)


def prepayment_field_errors(*, policy: ContractPolicy, hours_purchased: Decimal,
                            valid_from: dt.date, valid_until: dt.date, is_renewal: bool,
                            hours_left: Decimal) -> dict[str, list[str]]:
    """The caps a new contract would break, keyed by the field a form should mark."""
    errors: dict[str, list[str]] = {}
    if policy.max_prepaid_hours is not None and hours_purchased > policy.max_prepaid_hours:
        errors.setdefault("hours_purchased", []).append(
            _("This contract prepays %(hours)s hours; the prepayment cap is "
              "%(cap)s hours per contract.")
            % {"hours": hours_purchased, "cap": policy.max_prepaid_hours})
    if policy.max_prepaid_months is not None and months_exceeded(
            valid_from, valid_until, policy.max_prepaid_months):
        errors.setdefault("valid_until", []).append(
            _("This contract runs from %(start)s to %(end)s; the prepayment cap is "
              "%(cap)s months per contract.")
            % {"start": valid_from, "end": valid_until, "cap": policy.max_prepaid_months})
    if (is_renewal and policy.renewal_threshold_hours is not None
            and hours_left >= policy.renewal_threshold_hours):
        errors.setdefault("__all__", []).append(
            _("The student still has %(left)s hours; a renewal may be signed only "
              "below %(cap)s remaining hours.")
            % {"left": hours_left, "cap": policy.renewal_threshold_hours})
    return errors


def prepayment_errors(**kwargs: object) -> list[str]:
    """The caps a new contract would break, as translated messages naming each cap."""
    return [m for messages in prepayment_field_errors(**kwargs).values()  # type: ignore[arg-type]
            for m in messages]
