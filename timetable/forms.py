"""Timetable page forms; their choices are scoped to what the user may see."""
from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from crm.permissions import scope_by_branch
from crm.roles import Role
from students.models import ClassGroup

from .models import Room, ScheduleRule, Term, Weekday

TIME = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
OVERRIDE_HELP = _("Managers only, to let a conflict through: say why (it is recorded).")


class _Staff(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        profile = getattr(obj, "staff_profile", None)
        return (getattr(profile, "display_name", "") or obj.get_full_name()
                or obj.get_username())


def teachers_for(user: Any) -> Any:
    qs = get_user_model().objects.filter(staff_profile__role=Role.TEACHER, is_active=True)
    return scope_by_branch(user, qs, "staff_profile__branch").select_related(
        "staff_profile").order_by("username")


class RuleForm(forms.Form):
    class_group = forms.ModelChoiceField(ClassGroup.objects.none(), label=_("Class"))
    weekday = forms.TypedChoiceField(choices=Weekday.choices, coerce=int, label=_("Weekday"))
    start_time = forms.TimeField(label=_("From"), widget=TIME)
    end_time = forms.TimeField(label=_("Until"), widget=TIME)
    room = forms.ModelChoiceField(Room.objects.none(), label=_("Room"), required=False)
    teacher = _Staff(get_user_model().objects.none(), label=_("Teacher"), required=False,
                     help_text=_("Empty: the class's own teacher."))
    term = forms.ModelChoiceField(Term.objects.none(), label=_("Term"))
    override_reason = forms.CharField(label=_("Override reason"), required=False,
                                      max_length=200, help_text=OVERRIDE_HELP)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["class_group"].queryset = scope_by_branch(
            user, ClassGroup.objects.filter(is_active=True)).select_related("branch")
        self.fields["room"].queryset = scope_by_branch(user, Room.objects.filter(is_active=True))
        self.fields["teacher"].queryset = teachers_for(user)
        self.fields["term"].queryset = Term.objects.all()
        bootstrap(self)


class MoveForm(forms.Form):
    date = forms.DateField(label=_("Date"), widget=DATE)
    start_time = forms.TimeField(label=_("From"), widget=TIME)
    end_time = forms.TimeField(label=_("Until"), widget=TIME)
    room = forms.ModelChoiceField(Room.objects.none(), label=_("Room"), required=False)
    reason = forms.CharField(label=_("Reason (sent to families)"), required=False,
                             max_length=200)
    override_reason = forms.CharField(label=_("Override reason"), required=False,
                                      max_length=200, help_text=OVERRIDE_HELP)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["room"].queryset = scope_by_branch(user, Room.objects.filter(is_active=True))
        bootstrap(self)


class CancelForm(forms.Form):
    reason = forms.CharField(label=_("Reason (sent to families)"), max_length=200)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        bootstrap(self)


class LeaveForm(forms.Form):
    student = forms.TypedChoiceField(label=_("Student"), coerce=int)
    reason = forms.CharField(label=_("Reason"), required=False, max_length=200)

    def __init__(self, *args: Any, students: list, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["student"].choices = [(s.pk, s.name_zh) for s in students]
        bootstrap(self)


def bootstrap(form: forms.Form) -> None:
    """Bootstrap classes on every widget (the pages render fields one by one)."""
    for field in form.fields.values():
        css = "form-select" if isinstance(field.widget, forms.Select) else "form-control"
        field.widget.attrs.setdefault("class", css)


def rule_initial(rule: ScheduleRule) -> dict[str, Any]:
    return {"class_group": rule.class_group_id, "weekday": rule.weekday,
            "start_time": rule.start_time, "end_time": rule.end_time, "room": rule.room_id,
            "teacher": rule.teacher_id, "term": rule.term_id}
