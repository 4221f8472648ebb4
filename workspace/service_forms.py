"""Forms of the front-office service pages (issue #24): complaints, surveys, trials,
guardians and student details. They shape input for the services, which decide."""
from __future__ import annotations

from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Layout, Row, Submit
from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm.roles import Role
from parents.models import Parent
from students.models import Complaint, Student
from students.models.engagement import Counterpart


def parents_of(student: Student) -> Any:
    return (Parent.objects.filter(guardianships__student=student)
            .order_by("-guardianships__is_primary_contact", "name_pinyin", "id"))


def owner_choices(student: Student) -> Any:
    """Who may own a complaint: counselors and managers of the student's branch."""
    return (get_user_model().objects.filter(
        is_active=True, staff_profile__branch_id=student.branch_id,
        staff_profile__role__in=[Role.COUNSELOR, Role.MANAGER])
        .select_related("staff_profile").order_by("staff_profile__role", "last_name", "pk"))


def _helper(form_id: str, *layout: Any, submit: Any) -> FormHelper:
    helper = FormHelper()
    helper.form_id = form_id
    helper.layout = Layout(*layout, Submit("save", submit, css_id=f"{form_id}-submit"))
    # A double click sends one request: the button is disabled once the form is sent.
    helper.attrs = {"onsubmit": "this.querySelector('[type=submit]').disabled=true"}
    return helper


class _CounterpartForm(forms.Form):
    """The student or one named parent: the error goes on the parent field."""

    counterpart_field = "raised_by"

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        who, parent = data.get(self.counterpart_field), data.get("parent")
        if who == Counterpart.PARENT and parent is None:
            self.add_error("parent", _("Choose which parent."))
        if who == Counterpart.STUDENT and parent is not None:
            self.add_error("parent", _("Leave the parent empty when it is the student."))
        return data


class ComplaintForm(_CounterpartForm):
    raised_by = forms.ChoiceField(label=_("raised by"), choices=Counterpart.choices,
                                  initial=Counterpart.PARENT)
    parent = forms.ModelChoiceField(label=_("parent"), queryset=Parent.objects.none(),
                                    required=False)
    category = forms.ChoiceField(label=_("category"), choices=Complaint.Category.choices)
    description = forms.CharField(label=_("description"), max_length=4000,
                                  widget=forms.Textarea(attrs={"rows": 4}))
    owner = forms.ModelChoiceField(label=_("owner"), queryset=get_user_model().objects.none(),
                                   required=False,
                                   help_text=_("Empty: the student's counselor."))

    def __init__(self, *args: Any, student: Student, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = parents_of(student)
        self.fields["owner"].queryset = owner_choices(student)
        self.helper = _helper(
            "complaint-form",
            Row(Column("raised_by", css_class="col-md-4"), Column("parent", css_class="col-md-4"),
                Column("category", css_class="col-md-4")),
            Field("description"), Field("owner"), submit=_("Save the complaint"))

    def clean_description(self) -> str:
        text = self.cleaned_data["description"].strip()
        if not text:
            raise forms.ValidationError(_("Describe the complaint."))
        return text


class ComplaintUpdateForm(forms.Form):
    status = forms.ChoiceField(label=_("status"), choices=Complaint.Status.choices)
    owner = forms.ModelChoiceField(label=_("owner"), queryset=get_user_model().objects.none(),
                                   required=False)
    resolution = forms.CharField(label=_("resolution"), required=False, max_length=4000,
                                 widget=forms.Textarea(attrs={"rows": 3}),
                                 help_text=_("What was done; required to resolve."))

    def __init__(self, *args: Any, complaint: Complaint, can_assign: bool,
                 **kwargs: Any) -> None:
        kwargs.setdefault("initial", {"status": complaint.status, "owner": complaint.owner_id,
                                      "resolution": complaint.resolution})
        super().__init__(*args, **kwargs)
        if can_assign:
            self.fields["owner"].queryset = owner_choices(complaint.student)
        else:
            del self.fields["owner"]
        self.helper = _helper("complaint-update", *self.fields, submit=_("Save"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("status") == Complaint.Status.RESOLVED and not (
                data.get("resolution") or "").strip():
            self.add_error("resolution", _("Describe how the complaint was resolved."))
        return data


_RATING = [("", "—"), *[(str(i), str(i)) for i in range(1, 6)]]


class SurveyForm(_CounterpartForm):
    counterpart_field = "respondent"

    respondent = forms.ChoiceField(label=_("respondent"), choices=Counterpart.choices,
                                   initial=Counterpart.PARENT)
    parent = forms.ModelChoiceField(label=_("parent"), queryset=Parent.objects.none(),
                                    required=False)
    overall = forms.TypedChoiceField(label=_("overall (1-5)"), coerce=int,
                                     choices=_RATING[1:])
    teaching = forms.TypedChoiceField(label=_("teaching (1-5)"), coerce=int, choices=_RATING,
                                      required=False, empty_value=None)
    service = forms.TypedChoiceField(label=_("service (1-5)"), coerce=int, choices=_RATING,
                                     required=False, empty_value=None)
    environment = forms.TypedChoiceField(label=_("premises (1-5)"), coerce=int,
                                         choices=_RATING, required=False, empty_value=None)
    recommend = forms.IntegerField(label=_("would recommend (0-10)"), min_value=0,
                                   max_value=10, required=False)
    comment = forms.CharField(label=_("comment"), required=False, max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 3}))
    log_call = forms.BooleanField(label=_("Taken on a phone call: log the call too"),
                                  required=False, initial=True)

    def __init__(self, *args: Any, student: Student, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].queryset = parents_of(student)
        self.helper = _helper(
            "survey-form",
            Row(Column("respondent", css_class="col-md-6"),
                Column("parent", css_class="col-md-6")),
            Row(Column("overall", css_class="col-md"), Column("teaching", css_class="col-md"),
                Column("service", css_class="col-md"), Column("environment", css_class="col-md"),
                Column("recommend", css_class="col-md")),
            Field("comment"), Field("log_call"), submit=_("Save the answer"))



# --- trial lessons -----------------------------------------------------------------------

class _CourseField(forms.ModelChoiceField):
    """Courses fitting the student's grade come first and say so."""

    def label_from_instance(self, obj: Any) -> str:
        if getattr(obj, "fits", 0):
            return _("%(course)s (fits the grade)") % {"course": obj.name}
        return obj.name


class _SessionField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        teacher = obj.teacher or obj.class_group.teacher
        return (f"{obj.date:%m-%d} {obj.start_time:%H:%M}-{obj.end_time:%H:%M} "
                f"{obj.class_group.name} · {obj.class_group.course}"
                + (f" · {teacher}" if teacher else ""))


class TrialForm(forms.Form):
    """Book a trial: a seat in a class lesson, or a one-to-one slot with a teacher."""

    KIND_CLASS, KIND_ONE = "class", "one_to_one"

    kind = forms.ChoiceField(label=_("kind of trial"), widget=forms.RadioSelect,
                             choices=[(KIND_CLASS, _("A seat in a class lesson")),
                                      (KIND_ONE, _("A one-to-one slot"))], initial=KIND_CLASS)
    course = _CourseField(label=_("course"), queryset=None)
    session = _SessionField(label=_("class lesson"), queryset=None, required=False)
    date = forms.DateField(label=_("date"), required=False,
                           widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"))
    start_time = forms.TimeField(label=_("start time"), required=False,
                                 widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    end_time = forms.TimeField(label=_("end time"), required=False,
                               widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"))
    teacher = forms.ModelChoiceField(label=_("teacher"), queryset=None, required=False,
                                     help_text=_("For a class seat: empty means the class's "
                                                 "teacher."))
    booked_with = forms.ChoiceField(label=_("booked with"), choices=Counterpart.choices,
                                    initial=Counterpart.PARENT)
    parent = forms.ModelChoiceField(label=_("parent"), queryset=Parent.objects.none(),
                                    required=False)
    note = forms.CharField(label=_("note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, student: Student, **kwargs: Any) -> None:
        from marketing.services import courses_for, open_sessions

        super().__init__(*args, **kwargs)
        self.fields["course"].queryset = courses_for(student)
        self.fields["session"].queryset = open_sessions(student)
        self.fields["teacher"].queryset = (get_user_model().objects.filter(
            is_active=True, staff_profile__role=Role.TEACHER,
            staff_profile__branch_id=student.branch_id)
            .select_related("staff_profile").order_by("last_name", "first_name", "pk"))
        self.fields["parent"].queryset = parents_of(student)
        self.helper = _helper(
            "trial-form", Field("kind"), Field("course"), Field("session"),
            Row(Column("date", css_class="col-md-4"), Column("start_time", css_class="col-md-4"),
                Column("end_time", css_class="col-md-4")),
            Field("teacher"),
            Row(Column("booked_with", css_class="col-md-6"),
                Column("parent", css_class="col-md-6")),
            Field("note"), submit=_("Book the trial lesson"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("kind") == self.KIND_CLASS:
            if not data.get("session"):
                self.add_error("session", _("Choose the class lesson."))
        else:
            for name in ("date", "start_time", "end_time", "teacher"):
                if not data.get(name):
                    self.add_error(name, _("Required for a one-to-one trial."))
            data["session"] = None
        if data.get("booked_with") == Counterpart.PARENT and not data.get("parent"):
            self.add_error("parent", _("Choose which parent booked the trial."))
        return data


class TrialOutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label=_("outcome"), choices=[])
    note = forms.CharField(label=_("note"), required=False, max_length=2000,
                           widget=forms.Textarea(attrs={"rows": 2}),
                           help_text=_("For “not interested”: why (kept as the lost "
                                       "reason)."))

    def __init__(self, *args: Any, choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["outcome"].choices = choices
        self.helper = _helper("trial-outcome", Field("outcome"), Field("note"),
                              submit=_("Record the outcome"))


# --- editing the family ------------------------------------------------------------------

class StudentEditForm(forms.ModelForm):
    """The student's details after registration (students.services.student_update)."""

    class Meta:
        model = Student
        fields = ["name_zh", "name_en", "gender", "birth_date", "school", "grade",
                  "decision_style", "learning_style", "family_situation", "goals",
                  "target_university", "personality", "preferences", "source_detail"]
        widgets = {"birth_date": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                   **{f: forms.Textarea(attrs={"rows": 2})
                      for f in ["family_situation", "goals", "personality", "preferences"]}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.helper = _helper(
            "student-edit",
            Row(Column("name_zh", css_class="col-md-4"), Column("name_en", css_class="col-md-4"),
                Column("gender", css_class="col-md-4")),
            Row(Column("birth_date", css_class="col-md-4"), Column("grade", css_class="col-md-4"),
                Column("school", css_class="col-md-4")),
            Row(Column("decision_style", css_class="col-md-6"),
                Column("learning_style", css_class="col-md-6")),
            "family_situation", "goals", "target_university", "personality", "preferences",
            "source_detail", submit=_("Save"))

    def _post_clean(self) -> None:
        # The model is checked by the service (with the consent rule); the form only shapes.
        pass


class GuardianAddForm(forms.Form):
    name = forms.CharField(label=pgettext_lazy("person", "name"), max_length=50)
    phone = forms.CharField(label=_("phone"), max_length=30,
                            help_text=_("A phone already registered links that parent."))
    relation = forms.ChoiceField(label=_("relation"), choices=[])
    is_primary_contact = forms.BooleanField(label=_("primary contact"), required=False)
    is_decision_maker = forms.BooleanField(label=_("decision maker"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from parents.models import Guardianship

        super().__init__(*args, **kwargs)
        self.fields["relation"].choices = Guardianship.Relation.choices
        self.helper = _helper(
            "guardian-add",
            Row(Column("name", css_class="col-md-3"), Column("phone", css_class="col-md-3"),
                Column("relation", css_class="col-md-2"),
                Column(Field("is_primary_contact"), Field("is_decision_maker"),
                       css_class="col-md-4 pt-md-4")),
            submit=_("Add the guardian"))

    def clean_phone(self) -> str:
        from parents.phones import normalize_phone

        return normalize_phone(self.cleaned_data["phone"])


class GuardianEditForm(forms.Form):
    relation = forms.ChoiceField(label=_("relation"), choices=[])
    is_primary_contact = forms.BooleanField(label=_("primary contact"), required=False)
    is_decision_maker = forms.BooleanField(label=_("decision maker"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from parents.models import Guardianship

        super().__init__(*args, **kwargs)
        self.fields["relation"].choices = Guardianship.Relation.choices
