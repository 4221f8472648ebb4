"""Parent-side API shapes. Contacts are masked for roles that may not call families."""
from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from crm.api.serializers import FullCleanModelSerializer, ScopedPrimaryKeyRelatedField
from crm.models import Branch
from crm.permissions import can_see_contact, scope_branches, scope_parents, scope_students
from parents.models import ContactConsent, GuardianConsent, Guardianship, Parent
from parents.phones import mask_phone, mask_text, normalize_phone
from students.api.serializers import StudentSerializer
from students.choices import DecisionStyle, Gender, Grade, LearningStyle
from students.models import Student


class MaskedContactMixin:
    """Teachers (and any role without contact rights) get 138****5678-style values."""

    masked_fields: tuple[tuple[str, Any], ...] = (
        ("phone", mask_phone), ("wechat_id", mask_text), ("email", mask_text))
    context: dict[str, Any]

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)  # type: ignore[misc]
        request = self.context.get("request")
        if request is None or not can_see_contact(request.user):
            for name, mask in self.masked_fields:
                if data.get(name):
                    data[name] = mask(data[name])
        return data


class ParentSerializer(MaskedContactMixin, FullCleanModelSerializer):
    """A parent or guardian. `phone` is stored in E.164 (+8613812345678); any common
    spelling is accepted on input. `children` lists the students you can see."""

    branch = ScopedPrimaryKeyRelatedField(
        scope=scope_branches, queryset=Branch.objects, required=False,
        help_text=_("Set on creation only; head office must give it, other roles always "
                    "register in their own branch."))
    children = serializers.SerializerMethodField(
        help_text=_("Ids of this parent's children that you can see."))

    class Meta:
        model = Parent
        fields = ["id", "branch", "name", "name_pinyin", "name_initials", "phone", "wechat_id",
                  "email", "occupation", "notes", "children", "created_at", "updated_at"]
        read_only_fields = ["name_pinyin", "name_initials", "created_at", "updated_at"]
        # Uniqueness is checked after normalising the phone (model clean + full_clean):
        # DRF's own validator would compare the raw spelling and miss "138 1234 5678".
        extra_kwargs = {"phone": {"validators": []}}

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["branch"].read_only = True
        return fields

    def get_children(self, parent: Parent) -> list[int]:
        # `visible_guardianships` is prefetched by the view, scoped to the caller.
        rows = getattr(parent, "visible_guardianships", None)
        if rows is None:
            return []
        return [g.student_id for g in rows]


class GuardianshipSerializer(FullCleanModelSerializer):
    student = ScopedPrimaryKeyRelatedField(scope=scope_students, queryset=Student.objects)
    parent = ScopedPrimaryKeyRelatedField(scope=scope_parents, queryset=Parent.objects)
    parent_name = serializers.CharField(source="parent.name", read_only=True)

    class Meta:
        model = Guardianship
        fields = ["id", "student", "parent", "parent_name", "relation", "is_primary_contact",
                  "is_decision_maker", "created_at"]
        read_only_fields = ["created_at"]
        validators: list[Any] = []  # the model's constraints answer via full_clean

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            # Re-pointing a guardianship is a new guardianship, not an edit.
            fields["student"].read_only = True
            fields["parent"].read_only = True
        return fields


# --- family registration -------------------------------------------------------------------

class FamilyParentInput(serializers.Serializer):
    name = serializers.CharField(max_length=50, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=30, required=False, allow_blank=True)
    relation = serializers.ChoiceField(choices=Guardianship.Relation.choices,
                                       default=Guardianship.Relation.MOTHER)
    is_primary_contact = serializers.BooleanField(default=False)
    is_decision_maker = serializers.BooleanField(default=False)
    wechat_id = serializers.CharField(max_length=50, required=False, default="",
                                      allow_blank=True)
    email = serializers.EmailField(required=False, allow_blank=True)
    occupation = serializers.CharField(max_length=100, required=False, default="",
                                       allow_blank=True)
    contact_channels = serializers.ListField(
        child=serializers.ChoiceField(choices=ContactConsent.Channel.choices), required=False,
        default=list, help_text=_("Channels the parent agreed to be contacted on."))
    existing = ScopedPrimaryKeyRelatedField(
        scope=scope_parents, queryset=Parent.objects, required=False, allow_null=True,
        help_text=_("Link an already registered parent (e.g. a sibling's) instead of "
                    "creating one; name and phone are then ignored."))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if attrs.get("existing") is None:
            missing = {f: [_("This field is required.")] for f in ("name", "phone")
                       if not (attrs.get(f) or "").strip()}
            if missing:
                raise serializers.ValidationError(missing)
            try:
                attrs["phone"] = normalize_phone(attrs["phone"])
            except DjangoValidationError as exc:
                raise serializers.ValidationError({"phone": exc.messages}) from exc
        return attrs


class FamilyStudentInput(serializers.Serializer):
    name_zh = serializers.CharField(max_length=50)
    grade = serializers.ChoiceField(choices=Grade.choices)
    name_en = serializers.CharField(max_length=80, required=False, allow_blank=True)
    gender = serializers.ChoiceField(choices=Gender.choices, required=False)
    birth_date = serializers.DateField(required=False, allow_null=True)
    school = serializers.CharField(max_length=100, required=False, allow_blank=True)
    goals = serializers.CharField(required=False, allow_blank=True)
    target_university = serializers.CharField(max_length=100, required=False,
                                              allow_blank=True)
    decision_style = serializers.ChoiceField(choices=DecisionStyle.choices, required=False)
    learning_style = serializers.ChoiceField(choices=LearningStyle.choices, required=False)
    source_detail = serializers.CharField(max_length=200, required=False, allow_blank=True)
    consent_method = serializers.ChoiceField(
        choices=GuardianConsent.Method.choices, required=False, allow_blank=True, default="",
        help_text=_("PIPL: how the guardian consented; required for under-14s."))
    consent_by = serializers.IntegerField(
        min_value=0, default=0,
        help_text=_("Index in `parents` of the guardian who consented."))


class FamilyInput(serializers.Serializer):
    """One walk-in family: its parents and students, registered together or not at all."""

    branch = ScopedPrimaryKeyRelatedField(
        scope=scope_branches, queryset=Branch.objects, required=False,
        help_text=_("Head office only; other roles register in their own branch."))
    parents = FamilyParentInput(many=True, allow_empty=False)
    students = FamilyStudentInput(many=True, allow_empty=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        count = len(attrs["parents"])
        for i, st in enumerate(attrs["students"]):
            if st.get("consent_method") and st["consent_by"] >= count:
                raise serializers.ValidationError(
                    {"students": {i: {"consent_by": [_("No parent at this index.")]}}})
        return attrs


class FamilyOutput(serializers.Serializer):
    """Documentation of the 201 body: what was registered."""

    parents = ParentSerializer(many=True)
    students = StudentSerializer(many=True)
