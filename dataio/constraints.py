"""A model's check constraints evaluated in Python on unsaved instances.

Why: `full_clean()` validates each CheckConstraint with one query per row (Django's
`Q.check`), which made a 50,000-row contract file take half an hour. The conditions our
models declare are simple comparisons (`hours_purchased__gt=0`, `discount__lte=
F("list_price")`, `valid_until__gte=F("valid_from")`, `kind__in=[...]`), so the
importer evaluates the model's own Q objects here: the rules stay declared once, on the
model; a condition this evaluator does not understand falls back to Django's query.
"""
from __future__ import annotations

import operator
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

_OPS = {"exact": operator.eq, "gt": operator.gt, "gte": operator.ge, "lt": operator.lt,
        "lte": operator.le}


class _Unknown(Exception):
    pass


def _value(obj: models.Model, name: str) -> Any:
    field = obj._meta.get_field(name)
    return getattr(obj, field.attname)


def _holds(obj: models.Model, cond: Any) -> bool:
    if isinstance(cond, Q):
        results = [_holds(obj, child) for child in cond.children]
        value = all(results) if cond.connector == Q.AND else any(results)
        return not value if cond.negated else value
    if not isinstance(cond, tuple) or len(cond) != 2:
        raise _Unknown
    lookup, expected = cond
    name, _sep, op = lookup.partition("__")
    op = op or "exact"
    if "__" in op:
        raise _Unknown  # a related lookup
    actual = _value(obj, name)
    if isinstance(expected, F):
        expected = _value(obj, expected.name)
    elif hasattr(expected, "resolve_expression"):
        raise _Unknown
    if op == "isnull":
        return (actual is None) == bool(expected)
    if op == "in":
        return actual in expected
    if op not in _OPS:
        raise _Unknown
    if actual is None or expected is None:
        return False  # SQL: a comparison with NULL is not true
    return _OPS[op](actual, expected)


def validate_checks(obj: models.Model) -> None:
    """Raise ValidationError (as full_clean would) for each check constraint `obj` breaks."""
    errors: dict[str, list[ValidationError]] = {}
    for constraint in obj._meta.constraints:
        if not isinstance(constraint, models.CheckConstraint):
            continue
        try:
            ok = _holds(obj, constraint.condition)
        except (_Unknown, TypeError):
            try:
                constraint.validate(type(obj), obj)
                ok = True
            except ValidationError as exc:
                errors.setdefault("__all__", []).append(exc)
                continue
        if not ok:
            field = _first_field(constraint.condition) or "__all__"
            errors.setdefault(field, []).append(ValidationError(
                constraint.get_violation_error_message(),
                code=constraint.violation_error_code))
    if errors:
        raise ValidationError(errors)


def _first_field(cond: Any) -> str | None:
    """The field a broken condition is about (its first lookup): the column to name."""
    if isinstance(cond, Q):
        for child in cond.children:
            found = _first_field(child)
            if found:
                return found
        return None
    if isinstance(cond, tuple):
        return cond[0].split("__")[0]
    return None
