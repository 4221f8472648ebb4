"""Template access to lifecycle.explain: stored factors in words, at display time."""
from __future__ import annotations

from typing import Any

from django import template

from lifecycle.explain import explain, join_reasons, reason_texts

register = template.Library()


@register.filter
def factor_reasons(evidence: Any) -> list[str]:
    """The main reasons of a task's or a move's evidence ({"factors": [...]}) in words."""
    factors = evidence.get("factors") if isinstance(evidence, dict) else evidence
    return reason_texts(factors)


@register.filter
def factor_explanations(evidence: Any) -> list:
    """Every counted factor of the evidence, with its points (lifecycle.explain.Reason)."""
    factors = evidence.get("factors") if isinstance(evidence, dict) else evidence
    return explain(factors)


@register.filter(name="join_reasons")
def join_reasons_filter(texts: list[str]) -> str:
    return join_reasons(texts)
