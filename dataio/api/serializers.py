from __future__ import annotations

from rest_framework import serializers

from crm.api.serializers import ScopedPrimaryKeyRelatedField
from crm.models import Branch
from crm.permissions import scope_branches

from ..models import ImportJob, ImportKind


class ImportInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ImportKind.choices)
    file = serializers.FileField()
    # Scoped: another branch's id is "not found", like a missing one (no name, no 403).
    branch = ScopedPrimaryKeyRelatedField(scope=scope_branches, queryset=Branch.objects.all(),
                                          required=False, allow_null=True)


class ImportJobOutput(serializers.ModelSerializer):
    class Meta:
        model = ImportJob
        fields = ["id", "kind", "original_name", "status", "branch", "rows_total", "rows_done",
                  "percent", "summary", "errors", "error_count", "created_at", "validated_at",
                  "finished_at"]
        read_only_fields = fields
