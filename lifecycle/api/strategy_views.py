"""The strategies of the 12 customer types over the API: read by the roles that see
scores, changed by managers (their branch) and head office through
lifecycle.strategies, the same door as the workspace page."""
from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from crm.models import Branch
from crm.permissions import branch_of, sees_all_branches
from lifecycle.models import TypeStrategy
from lifecycle.strategies import (
    can_edit_strategies,
    can_read_strategies,
    strategies_for,
    strategy_reset,
    strategy_save,
    type_label,
)
from lifecycle.value import CUSTOMER_TYPES

from .views import _drf_error


class StrategyOutput(serializers.Serializer):
    customer_type = serializers.CharField()
    label = serializers.CharField()
    branch = serializers.IntegerField(allow_null=True,
                                      help_text="null: the institution's default applies")
    strategy_zh = serializers.CharField()
    strategy_en = serializers.CharField()
    actions_zh = serializers.ListField(child=serializers.CharField())
    actions_en = serializers.ListField(child=serializers.CharField())
    updated_at = serializers.DateTimeField()


class StrategyInput(serializers.Serializer):
    branch = serializers.IntegerField(required=False, allow_null=True,
                                      help_text="head office only; managers write their own")
    strategy_zh = serializers.CharField(required=False, allow_blank=True)
    strategy_en = serializers.CharField(required=False, allow_blank=True)
    actions_zh = serializers.ListField(child=serializers.CharField(), required=False)
    actions_en = serializers.ListField(child=serializers.CharField(), required=False)


def _lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def _out(ctype: str, row: TypeStrategy | None) -> dict[str, Any]:
    return {"customer_type": ctype, "label": type_label(ctype),
            "branch": row.branch_id if row else None,
            "strategy_zh": row.strategy_zh if row else "",
            "strategy_en": row.strategy_en if row else "",
            "actions_zh": _lines(row.actions_zh) if row else [],
            "actions_en": _lines(row.actions_en) if row else [],
            "updated_at": row.updated_at if row else None}


def _branch(user: Any, raw: Any) -> Branch | None:
    """Head office names the branch (none: the institution's); others use their own."""
    if not sees_all_branches(user):
        return branch_of(user)
    if raw in (None, ""):
        return None
    try:
        return get_object_or_404(Branch, pk=int(raw))
    except (TypeError, ValueError) as exc:
        raise ValidationError({"branch": [_("A branch id is a whole number.")]}) from exc


def _type(customer_type: str) -> str:
    if customer_type not in CUSTOMER_TYPES:
        raise Http404
    return customer_type


class StrategyListView(APIView):
    """The strategy that applies to each of the 12 types in a branch."""

    permission_classes = [IsAuthenticated]

    @extend_schema(parameters=[OpenApiParameter("branch", int, required=False)],
                   responses=StrategyOutput(many=True))
    def get(self, request: Request) -> Response:
        if not can_read_strategies(request.user):
            raise PermissionDenied(_("Your role does not see customer types."))
        branch = _branch(request.user, request.query_params.get("branch"))
        rows = strategies_for(branch.pk if branch else None)
        return Response([_out(t, rows.get(t)) for t in CUSTOMER_TYPES])


class StrategyDetailView(APIView):
    """PATCH writes the branch's own strategy for the type (fields not sent keep the text
    that applies now)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=StrategyInput, responses=StrategyOutput)
    def patch(self, request: Request, customer_type: str) -> Response:
        user = request.user
        ctype = _type(customer_type)
        if not can_edit_strategies(user):
            raise PermissionDenied(_("Only managers and head office edit strategies."))
        data = StrategyInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        branch = _branch(user, values.pop("branch", None))
        current = strategies_for(branch.pk if branch else None).get(ctype)
        texts = {f: getattr(current, f) if current else ""
                 for f in ("strategy_zh", "strategy_en", "actions_zh", "actions_en")}
        for field, value in values.items():
            texts[field] = "\n".join(value) if isinstance(value, list) else value
        try:
            row = strategy_save(user=user, branch=branch, customer_type=ctype, **texts)
        except DjangoValidationError as exc:
            raise _drf_error(exc) from exc
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        return Response(_out(ctype, row))


class StrategyResetView(APIView):
    """The branch follows the institution's strategy for the type again."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses=StrategyOutput)
    def post(self, request: Request, customer_type: str) -> Response:
        user = request.user
        ctype = _type(customer_type)
        branch = _branch(user, request.data.get("branch"))
        if branch is None:
            raise ValidationError({"branch": [_("Name the branch whose own strategy to drop.")]})
        try:
            strategy_reset(user=user, branch=branch, customer_type=ctype)
        except DjangoPermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        return Response(_out(ctype, strategies_for(branch.pk).get(ctype)))
