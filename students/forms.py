"""Staff-workspace forms on a student account: logging contacts, filtering the list."""
from __future__ import annotations

import datetime as dt
from typing import Any

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Column, Field, Layout, Row, Submit
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from parents.models import Parent
from students.models import Interaction, Student
from students.models.engagement import Counterpart

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
_DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


def _parents_of(student: Student):
    return Parent.objects.filter(guardianships__student=student).order_by("name_pinyin", "id")


class _CounterpartMixin:
    """A contact is with the student or with one named parent: errors on the right field."""

    counterpart_field = "with_whom"

    def clean(self) -> dict[str, Any]:
        data = super().clean()  # type: ignore[misc]
        with_whom, parent = data.get(self.counterpart_field), data.get("parent")
        if with_whom == Counterpart.PARENT and parent is None:
            self.add_error("parent", _("Choose which parent you talked to."))  # type: ignore
        if with_whom == Counterpart.STUDENT and parent is not None:
            self.add_error("parent", _("Leave the parent empty when the contact was with the "
                                       "student."))  # type: ignore[attr-defined]
        return data


class InteractionForm(_CounterpartMixin, forms.ModelForm):
    """Log a visit, call or message with the student or one of the parents."""

    class Meta:
        model = Interaction
        fields = ["with_whom", "parent", "channel", "occurred_at", "summary", "sentiment",
                  "next_follow_up"]
        widgets = {"occurred_at": _DATETIME, "next_follow_up": _DATE,
                   "summary": forms.Textarea(attrs={"rows": 4})}

    def __init__(self, *args: Any, student: Student, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.instance.student = student
        self.fields["parent"].queryset = _parents_of(student)
        self.fields["parent"].required = False
        self.fields["occurred_at"].initial = timezone.localtime().replace(second=0,
                                                                         microsecond=0)
        self.helper = FormHelper()
        self.helper.form_id = "interaction-form"
        self.helper.layout = Layout(
            Row(Column("with_whom", css_class="col-md-4"), Column("parent", css_class="col-md-4"),
                Column("channel", css_class="col-md-4")),
            Row(Column("occurred_at", css_class="col-md-6"),
                Column("next_follow_up", css_class="col-md-6")),
            Field("summary"),
            Field("sentiment"),
            Submit("save", _("Save")),
        )

    def clean_next_follow_up(self) -> dt.date | None:
        day = self.cleaned_data.get("next_follow_up")
        if day and day < timezone.localdate():
            raise forms.ValidationError(_("A follow-up cannot be in the past."))
        return day


class StudentFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    period = forms.ChoiceField(label=_("lifecycle period"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from lifecycle.periods import Period

        super().__init__(*args, **kwargs)
        self.fields["period"].choices = [("", _("All periods")), *Period.choices]
