from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm.api.serializers import ScopedPrimaryKeyRelatedField
from crm.models import Branch
from crm.permissions import scope_branches

from ..models import ColumnTemplate, ImportJob, ImportKind, ImportMode


class ImportInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ImportKind.choices)
    file = serializers.FileField()
    # Scoped: another branch's id is "not found", like a missing one (no name, no 403).
    branch = ScopedPrimaryKeyRelatedField(scope=scope_branches, queryset=Branch.objects.all(),
                                          required=False, allow_null=True)
    mode = serializers.ChoiceField(choices=ImportMode.choices, required=False,
                                   default=ImportMode.ALL)
    consumes = serializers.BooleanField(
        required=False, default=False,
        help_text=_("Attendance: charge lessons after a contract's opening-balance date."))
    template = serializers.PrimaryKeyRelatedField(
        queryset=ColumnTemplate.objects.all(), required=False, allow_null=True,
        help_text=_("A saved column mapping of the file's source system."))


class ConfirmInput(serializers.Serializer):
    mode = serializers.ChoiceField(choices=ImportMode.choices, required=False)


class ImportJobOutput(serializers.ModelSerializer):
    class Meta:
        model = ImportJob
        fields = ["id", "kind", "original_name", "status", "branch", "rows_total", "rows_done",
                  "percent", "seconds_left", "summary", "errors", "error_count", "refused",
                  "options", "created_at", "validated_at", "finished_at"]
        read_only_fields = fields
