"""Cross-cutting writes: the audit log and record merges."""
from __future__ import annotations

from typing import Any

from django.core import serializers
from django.db import models

from .models import AuditLog, Branch


def audit(*, actor: Any, action: str, obj: models.Model | None = None, object_type: str = "",
          object_id: str = "", branch: Branch | None = None, data: dict | None = None) -> AuditLog:
    """Record a sensitive action; call inside the action's transaction so both land or neither."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
        branch = branch or getattr(obj, "branch", None)
    return AuditLog.objects.create(
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        action=action, object_type=object_type, object_id=object_id, branch=branch,
        data=data or {},
    )


def snapshot(obj: models.Model) -> dict:
    """A JSON copy of a row, kept in the audit log when the row itself goes away."""
    import json

    from django.core.serializers.json import DjangoJSONEncoder

    data = serializers.serialize("python", [obj])[0]["fields"] | {"pk": obj.pk}
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


def repoint_relations(*, keep: models.Model, duplicate: models.Model,
                      handled: set[str]) -> dict[str, int]:
    """Move every row that points at `duplicate` (by FK) to `keep`.

    Relations named in `handled` ("app_label.model.field") were already moved by the
    caller's conflict-aware code. Generic on purpose: a model added later that points
    at students or parents is merged without anyone remembering to add it here.
    """
    moved: dict[str, int] = {}
    for rel in duplicate._meta.related_objects:
        if not (rel.one_to_many or rel.one_to_one) or rel.many_to_many:
            continue
        model = rel.related_model
        key = f"{model._meta.label_lower}.{rel.field.name}"
        if key in handled or model._meta.label_lower.split(".")[1].startswith("historical"):
            continue
        count = model._base_manager.filter(**{rel.field.name: duplicate}).update(
            **{rel.field.name: keep}
        )
        if count:
            moved[key] = count
    return moved
