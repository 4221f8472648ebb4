"""Front desk's family registration: one page, one or more parents plus one or more
students, submitted together to `parents.services.family_register`.

The forms only shape and pre-check the input (field-level messages where a person can
fix them); the service stays the one door that decides and writes.
"""
from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Div, Field, Layout, Row
from django import forms
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm import permissions
from crm.models import Branch
from marketing.models import Channel
from parents.models import ContactConsent, GuardianConsent, Guardianship, Parent
from parents.phones import normalize_phone
from parents.services import DuplicateFamilyError, ParentInput, StudentInput, family_register
from students.choices import DecisionStyle, Gender, Grade
from students.models import Student

MAX_PARENTS = 6
MAX_STUDENTS = 6
_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _row_helper(layout: Layout) -> FormHelper:
    helper = FormHelper()
    helper.form_tag = False
    helper.disable_csrf = True
    helper.layout = layout
    return helper


class FamilyForm(forms.Form):
    """What the whole family shares: branch (head office picks one), how they heard of us."""

    branch = forms.ModelChoiceField(label=_("branch"), queryset=Branch.objects.none())
    source = forms.ModelChoiceField(label=_("source (how they heard of us)"),
                                    queryset=Channel.objects.none(), required=False)
    source_detail = forms.CharField(label=_("source detail / referrer"), max_length=200,
                                    required=False,
                                    help_text=_("Who referred them, which lecture, which ad..."))

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = Channel.objects.filter(is_active=True)
        if permissions.sees_all_branches(user):
            self.fields["branch"].queryset = Branch.objects.filter(is_active=True)
        else:
            # Everyone else registers in their own branch; the field is not shown.
            del self.fields["branch"]
        self.helper = _row_helper(Layout(
            Row(*(Column(name, css_class="col-md") for name in self.fields)),
        ))


class ParentForm(forms.Form):
    # A person's name (姓名), not a thing's (名称): its own msgid so the two never mix.
    name = forms.CharField(label=pgettext_lazy("person", "name"), max_length=50)
    phone = forms.CharField(label=_("phone"), max_length=30,
                            widget=forms.TextInput(attrs={"inputmode": "tel",
                                                          "autocomplete": "off"}))
    relation = forms.ChoiceField(label=_("relation"), choices=Guardianship.Relation.choices)
    is_primary_contact = forms.BooleanField(label=_("primary contact"), required=False)
    is_decision_maker = forms.BooleanField(label=_("decision maker"), required=False)
    wechat_id = forms.CharField(label=_("WeChat id"), max_length=50, required=False)
    email = forms.EmailField(label=_("email"), required=False)
    occupation = forms.CharField(label=_("occupation"), max_length=100, required=False)
    contact_channels = forms.MultipleChoiceField(
        label=_("may be contacted by"), choices=ContactConsent.Channel.choices, required=False,
        widget=forms.CheckboxSelectMultiple)

    helper = _row_helper(Layout(
        Row(Column("name", css_class="col-sm-6 col-lg-3"),
            Column("phone", css_class="col-sm-6 col-lg-3"),
            Column("relation", css_class="col-sm-6 col-lg-2"),
            Column(Field("is_primary_contact"), Field("is_decision_maker"),
                   css_class="col-sm-6 col-lg-4 pt-lg-4")),
        Row(Column("wechat_id", css_class="col-sm-6 col-lg-3"),
            Column("email", css_class="col-sm-6 col-lg-3"),
            Column("occupation", css_class="col-sm-6 col-lg-2"),
            Column(Div(Field("contact_channels"), css_class="d-flex flex-wrap gap-2"),
                   css_class="col-sm-6 col-lg-4")),
    ))

    def clean_phone(self) -> str:
        return normalize_phone(self.cleaned_data["phone"])


class BaseParentFormSet(forms.BaseFormSet):
    def clean(self) -> None:
        if any(self.errors):
            return
        rows = [f for f in self.forms if f.cleaned_data]
        if sum(1 for f in rows if f.cleaned_data.get("is_primary_contact")) > 1:
            raise ValidationError(_("Only one parent can be the primary contact."))
        seen: set[str] = set()
        for f in rows:
            phone = f.cleaned_data["phone"]
            if phone in seen:
                f.add_error("phone", _("The same phone number is entered twice."))
            seen.add(phone)


class StudentForm(forms.Form):
    name_zh = forms.CharField(label=_("Chinese name"), max_length=50)
    name_en = forms.CharField(label=_("English name"), max_length=80, required=False)
    gender = forms.ChoiceField(label=_("gender"), choices=Gender.choices, initial=Gender.UNKNOWN)
    birth_date = forms.DateField(label=_("birth date"), required=False, widget=_DATE)
    grade = forms.ChoiceField(label=_("grade"), choices=[("", "---------"), *Grade.choices])
    school = forms.CharField(label=_("school"), max_length=100, required=False)
    decision_style = forms.ChoiceField(label=_("decision style"), choices=DecisionStyle.choices,
                                       initial=DecisionStyle.JOINT)
    consent_method = forms.ChoiceField(
        label=_("guardian consent (PIPL, under 14)"), required=False,
        choices=[("", _("— not given —")), *GuardianConsent.Method.choices],
        help_text=_("Required for a child under 14: how the guardian consented."))
    consent_by = forms.TypedChoiceField(
        label=_("consent given by"), coerce=int, initial=0,
        choices=[(i, _("Parent %(n)d") % {"n": i + 1}) for i in range(MAX_PARENTS)])

    helper = _row_helper(Layout(
        Row(Column("name_zh", css_class="col-sm-6 col-lg-3"),
            Column("name_en", css_class="col-sm-6 col-lg-3"),
            Column("gender", css_class="col-sm-4 col-lg-2"),
            Column("birth_date", css_class="col-sm-4 col-lg-2"),
            Column("grade", css_class="col-sm-4 col-lg-2")),
        Row(Column("school", css_class="col-sm-6 col-lg-3"),
            Column("decision_style", css_class="col-sm-6 col-lg-3"),
            Column("consent_method", css_class="col-sm-6 col-lg-3"),
            Column("consent_by", css_class="col-sm-6 col-lg-3")),
    ))

    def clean_birth_date(self):
        day = self.cleaned_data.get("birth_date")
        if day and day > timezone.localdate():
            raise ValidationError(_("The birth date cannot be in the future."))
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("grade") and not data.get("consent_method"):
            probe = Student(grade=data["grade"], birth_date=data.get("birth_date"))
            if probe.needs_guardian_consent():
                # The service refuses too; saying it here puts the message on the field.
                self.add_error("consent_method", _(
                    "Under 14: record how the guardian consented (PIPL) before saving."))
        return data


ParentFormSet = forms.formset_factory(ParentForm, formset=BaseParentFormSet, extra=0, min_num=1,
                                      validate_min=True, max_num=MAX_PARENTS, validate_max=True)
StudentFormSet = forms.formset_factory(StudentForm, extra=0, min_num=1, validate_min=True,
                                       max_num=MAX_STUDENTS, validate_max=True)


def _label(field: str) -> str:
    for model in (Student, Parent):
        try:
            return str(model._meta.get_field(field).verbose_name)
        except FieldDoesNotExist:
            continue
    return field


class FamilyRegistration:
    """The family form and both formsets as one unit: validate, register, map errors back."""

    def __init__(self, data: Any = None, *, user: Any, initial_parent: Parent | None = None):
        self.user = user
        self.family = FamilyForm(data, user=user)
        parent_initial = None
        if initial_parent is not None:
            parent_initial = [{"name": initial_parent.name, "phone": initial_parent.phone}]
        self.parents = ParentFormSet(data, prefix="parents", initial=parent_initial)
        self.students = StudentFormSet(data, prefix="students")
        self.service_errors: list[str] = []
        self.duplicates: list[Parent] = []

    def is_valid(self) -> bool:
        ok = all([self.family.is_valid(), self.parents.is_valid(), self.students.is_valid()])
        if ok:
            n_parents = len(self._rows(self.parents))
            for f in self._rows(self.students):
                if f.cleaned_data.get("consent_method") and f.cleaned_data["consent_by"] >= \
                        n_parents:
                    f.add_error("consent_by", _("Choose one of the parents entered above."))
                    ok = False
        return ok

    @staticmethod
    def _rows(formset: forms.BaseFormSet) -> list[forms.Form]:
        return [f for f in formset.forms if f.cleaned_data]

    def branch(self) -> Branch:
        if "branch" in self.family.fields:
            return self.family.cleaned_data["branch"]
        return permissions.branch_of(self.user)

    def register(self, *, link_existing: bool = False):
        """Call family_register; with `link_existing` a known phone links that parent."""
        from crm.roles import Role

        existing: dict[str, Parent] = {}
        if link_existing:
            phones = [f.cleaned_data["phone"] for f in self._rows(self.parents)]
            existing = {p.phone: p for p in Parent.objects.filter(phone__in=phones)}
        family = self.family.cleaned_data
        parents = [
            ParentInput(name=d["name"], phone=d["phone"], relation=d["relation"],
                        is_primary_contact=d["is_primary_contact"],
                        is_decision_maker=d["is_decision_maker"], wechat_id=d["wechat_id"],
                        email=d["email"], occupation=d["occupation"],
                        contact_channels=list(d["contact_channels"]),
                        existing=existing.get(d["phone"]))
            for d in (f.cleaned_data for f in self._rows(self.parents))
        ]
        students = [
            StudentInput(
                name_zh=d["name_zh"], grade=d["grade"],
                fields={"name_en": d["name_en"], "gender": d["gender"],
                        "birth_date": d["birth_date"], "school": d["school"],
                        "decision_style": d["decision_style"], "source": family.get("source"),
                        "source_detail": family.get("source_detail", "")},
                consent_method=d["consent_method"], consent_by=d["consent_by"])
            for d in (f.cleaned_data for f in self._rows(self.students))
        ]
        counselor = self.user if permissions.role_of(self.user) == Role.COUNSELOR else None
        return family_register(branch=self.branch(), parents=parents, students=students,
                               actor=self.user, counselor=counselor)

    def add_duplicate(self, exc: DuplicateFamilyError) -> None:
        """Put the message on each row whose phone is taken, and keep the families to offer."""
        self.duplicates = exc.parents
        taken = {p.phone: p for p in exc.parents}
        for f in self._rows(self.parents):
            if f.cleaned_data["phone"] in taken:
                f.add_error("phone", _("Already registered: %(name)s.")
                            % {"name": taken[f.cleaned_data["phone"]].name})

    def add_service_error(self, exc: ValidationError) -> None:
        """Errors the forms could not foresee: shown above the form, never swallowed."""
        if hasattr(exc, "error_dict"):
            for field, errors in exc.error_dict.items():
                for message in ValidationError(errors).messages:
                    label = "" if field in {"__all__", "parents", "students"} else _label(field)
                    self.service_errors.append(f"{label}: {message}" if label else message)
        else:
            self.service_errors.extend(exc.messages)
