from __future__ import annotations

from rest_framework import serializers

from crm.models import Branch

from ..models import ImportJob, ImportKind


class ImportInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ImportKind.choices)
    file = serializers.FileField()
    branch = serializers.PrimaryKeyRelatedField(queryset=Branch.objects.all(), required=False,
                                                allow_null=True)


class ImportJobOutput(serializers.ModelSerializer):
    class Meta:
        model = ImportJob
        fields = ["id", "kind", "original_name", "status", "branch", "rows_total", "rows_done",
                  "percent", "summary", "errors", "error_count", "created_at", "validated_at",
                  "finished_at"]
        read_only_fields = fields
