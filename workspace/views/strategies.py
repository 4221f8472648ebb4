"""The strategies of the 12 customer types: the board (everyone who sees scores reads it)
and the edit page (managers their branch, head office the institution or any branch).
Writes go through lifecycle.strategies."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from crm import permissions
from crm.models import Branch
from lifecycle.models.strategy import MAX_ACTIONS, MAX_STRATEGY
from lifecycle.periods import Phase
from lifecycle.strategies import (
    can_edit_strategies,
    can_read_strategies,
    strategies_for,
    strategy_reset,
    strategy_save,
    type_label,
)
from lifecycle.value import CUSTOMER_TYPES, PHASES, Segment
from students.views import staff_required


class StrategyForm(forms.Form):
    """The texts only; what they must hold is the service's rule (strategy_save)."""

    strategy_zh = forms.CharField(label=gettext_lazy("Strategy (Chinese)"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    actions_zh = forms.CharField(label=gettext_lazy("Recommended actions (Chinese), one per "
                                                    "line"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 5}))
    strategy_en = forms.CharField(label=gettext_lazy("Strategy (English)"), required=False,
                                  widget=forms.Textarea(attrs={"rows": 3}))
    actions_en = forms.CharField(label=gettext_lazy("Recommended actions (English), one per "
                                                    "line"), required=False,
                                 widget=forms.Textarea(attrs={"rows": 5}))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            field.widget.attrs["class"] = "form-control"
            field.widget.attrs["maxlength"] = MAX_STRATEGY if "strategy" in name else MAX_ACTIONS


def _branch(request: HttpRequest) -> Branch | None:
    """Whose strategies: head office picks (none = the institution's), everyone else
    their own branch."""
    user = request.user
    if not permissions.sees_all_branches(user):
        return permissions.branch_of(user)
    raw = request.GET.get("branch") or request.POST.get("branch") or ""
    if not raw:
        return None
    try:
        return get_object_or_404(Branch, pk=int(raw))
    except ValueError as exc:
        raise Http404 from exc


def _readers_only(user: Any) -> None:
    if not can_read_strategies(user):
        raise PermissionDenied(_("Your role does not see customer types."))


def _board_url(branch: Branch | None) -> str:
    url = reverse("work:strategies")
    return f"{url}?{urlencode({'branch': branch.pk})}" if branch else url


@staff_required
@require_http_methods(["GET"])
def strategy_board(request: HttpRequest) -> HttpResponse:
    """The 12 strategies as the 4 x 3 grid of the dashboard, each saying whether it is
    the branch's own or the institution's."""
    user = request.user
    _readers_only(user)
    branch = _branch(request)
    rows = strategies_for(branch.pk if branch else None)
    grid = [{"label": str(segment.label),
             "cells": [{"type": f"{segment.value}.{phase}", "label": type_label(
                 f"{segment.value}.{phase}"), "strategy": rows.get(f"{segment.value}.{phase}")}
                       for phase in PHASES]}
            for segment in Segment]
    return render(request, "workspace/strategies/board.html", {
        "grid": grid, "branch": branch, "phases": [str(Phase(p).label) for p in PHASES],
        "can_edit": can_edit_strategies(user) and (branch is not None
                                                   or permissions.sees_all_branches(user)),
        "branches": (list(Branch.objects.filter(is_active=True).order_by("code"))
                     if permissions.sees_all_branches(user) else []),
    })


def _type_or_404(customer_type: str) -> str:
    if customer_type not in CUSTOMER_TYPES:
        raise Http404
    return customer_type


@staff_required
@require_http_methods(["GET", "POST"])
def strategy_edit(request: HttpRequest, customer_type: str) -> HttpResponse:
    user = request.user
    customer_type = _type_or_404(customer_type)
    if not can_edit_strategies(user):
        raise PermissionDenied(_("Only managers and head office edit strategies."))
    branch = _branch(request)
    current = strategies_for(branch.pk if branch else None).get(customer_type)
    if request.method == "POST":
        form = StrategyForm(request.POST)
        if form.is_valid():
            try:
                strategy_save(user=user, branch=branch, customer_type=customer_type,
                              **form.cleaned_data)
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, _("Strategy saved: %(type)s.")
                                 % {"type": type_label(customer_type)})
                return redirect(_board_url(branch))
    else:
        initial = {f: getattr(current, f) for f in StrategyForm.base_fields} if current else {}
        form = StrategyForm(initial=initial)
    return render(request, "workspace/strategies/edit.html", {
        "form": form, "branch": branch, "type_label": type_label(customer_type),
        "customer_type": customer_type, "current": current,
        "is_override": bool(current and branch and current.branch_id == branch.pk),
        "board_url": _board_url(branch)})


@staff_required
@require_POST
def strategy_reset_view(request: HttpRequest, customer_type: str) -> HttpResponse:
    user = request.user
    customer_type = _type_or_404(customer_type)
    branch = _branch(request)
    if branch is None:
        raise Http404
    if strategy_reset(user=user, branch=branch, customer_type=customer_type):
        messages.success(request, _("The branch now follows the institution's strategy for "
                                    "%(type)s.") % {"type": type_label(customer_type)})
    return redirect(_board_url(branch))
