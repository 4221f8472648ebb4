"""Forms of the marketing pages: the public enquiry form and the staff's pipeline actions."""
from __future__ import annotations

import time
from typing import Any

from django import forms
from django.core import signing
from django.utils.translation import gettext_lazy as _

from students.choices import Grade

from .models import ChurnReason, Stage, Tier

SIGNER_SALT = "marketing.enquiry.started"
_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def started_token(now: float | None = None) -> str:
    """A signed timestamp put in the form when it is drawn (minimum fill time)."""
    return signing.Signer(salt=SIGNER_SALT).sign(f"{now if now is not None else time.time():.0f}")


def seconds_since(token: str) -> float | None:
    """Seconds since the form was drawn, or None when the token is forged or over a day old."""
    try:
        stamp = float(signing.Signer(salt=SIGNER_SALT).unsign(token or ""))
    except (signing.BadSignature, ValueError):
        return None
    elapsed = time.time() - stamp
    return elapsed if 0 <= elapsed <= 24 * 3600 else None


class EnquiryForm(forms.Form):
    """What a parent leaves on the public page; `website` is a honeypot for bots."""

    parent_name = forms.CharField(label=_("Your name"), max_length=50)
    phone = forms.CharField(label=_("Mobile phone"), max_length=30)
    child_name = forms.CharField(label=_("Child's name"), max_length=50)
    grade = forms.ChoiceField(label=_("Child's grade"), choices=[("", "---"), *Grade.choices])
    message = forms.CharField(label=_("What would you like to know?"), required=False,
                              max_length=2000, widget=forms.Textarea(attrs={"rows": 3}))
    consent_contact = forms.BooleanField(
        label=_("I agree that the school may call me about this enquiry and keep these "
                "details for that purpose."), required=True)
    # Hidden from people by CSS; bots fill every field they find.
    website = forms.CharField(required=False, label=_("Leave this empty"),
                              widget=forms.TextInput(attrs={"autocomplete": "off",
                                                            "tabindex": "-1"}))
    started = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, field in self.fields.items():
            if name not in {"consent_contact", "started"}:
                css = "form-select" if name == "grade" else "form-control"
                field.widget.attrs.setdefault("class", css)


class StageForm(forms.Form):
    stage = forms.ChoiceField(label=_("Next stage"), choices=Stage.choices)
    on = forms.DateField(label=_("On"), required=False, widget=_DATE)
    note = forms.CharField(label=_("Note"), required=False, max_length=500)
    lost_reason = forms.CharField(label=_("Lost because"), required=False, max_length=200)
    next_follow_up = forms.DateField(label=_("Next follow-up"), required=False, widget=_DATE)

    def __init__(self, *args: Any, allowed: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if allowed is not None:
            self.fields["stage"].choices = [(s, label) for s, label in Stage.choices
                                            if s in allowed]


class TierOverrideForm(forms.Form):
    tier = forms.ChoiceField(label=_("Tier"), required=False,
                             choices=[("", _("By the rules")), *Tier.choices])
    reason = forms.CharField(label=_("Reason"), max_length=200)


class ExitInterviewForm(forms.Form):
    reason = forms.ModelChoiceField(label=_("Reason"),
                                    queryset=ChurnReason.objects.filter(is_active=True))
    detail = forms.CharField(label=_("What they said"), required=False,
                             widget=forms.Textarea(attrs={"rows": 3}))
    held_on = forms.DateField(label=_("Held on"), required=False, widget=_DATE)


class WindowForm(forms.Form):
    """The analytics window (defaults: the last twelve months)."""

    since = forms.DateField(label=_("From"), required=False, widget=_DATE)
    until = forms.DateField(label=_("Until"), required=False, widget=_DATE)


# --- campaigns and referrals (staff pages; the services validate and decide) -----------

def _multi(label: Any, choices: Any) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(label=label, choices=choices, required=False,
                                     widget=forms.CheckboxSelectMultiple)


class CampaignForm(forms.Form):
    """The fields of a campaign as a manager edits them; `services.campaign_save` checks
    them (branch rules, segment codes, dates) so the page and the API refuse the same."""

    code = forms.SlugField(label=_("Code"), max_length=40,
                           help_text=_("Used in the enquiry link (?c=code)."))
    name = forms.CharField(label=_("Name"), max_length=100)
    kind = forms.ChoiceField(label=_("Kind"), choices=[])
    branch = forms.ModelChoiceField(label=_("Branch"), queryset=None, required=False,
                                    empty_label=_("All branches"))
    channel = forms.ModelChoiceField(label=_("Source recorded for its prospects"),
                                     queryset=None, required=False)
    contact_channel = forms.ChoiceField(label=_("Contact channel"), choices=[])
    starts_on = forms.DateField(label=_("Starts on"), widget=_DATE)
    ends_on = forms.DateField(label=_("Ends on"), required=False, widget=_DATE)
    cost = forms.DecimalField(label=_("Cost"), max_digits=12, decimal_places=2, min_value=0,
                              initial=0)
    target_periods = _multi(_("Lifecycle periods"), [])
    target_segments = _multi(_("Value segments"), [])
    target_grades = _multi(_("Grades"), Grade.choices)
    exam_from = forms.DateField(label=_("Exam taken from"), required=False, widget=_DATE)
    exam_until = forms.DateField(label=_("Exam taken until"), required=False, widget=_DATE)
    message = forms.CharField(label=_("Message text"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))
    is_active = forms.BooleanField(label=_("Active"), required=False, initial=True)

    def __init__(self, *args: Any, branches: Any = None, **kwargs: Any) -> None:
        from lifecycle.periods import Period
        from lifecycle.value import Segment

        from .models import Campaign, Channel

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = Campaign.Kind.choices
        self.fields["contact_channel"].choices = Campaign.Audience.choices
        self.fields["target_periods"].choices = Period.choices
        self.fields["target_segments"].choices = Segment.choices
        self.fields["channel"].queryset = Channel.objects.filter(is_active=True)
        if branches is None:
            # A branch manager's campaigns are their branch's (the service enforces it).
            del self.fields["branch"]
        else:
            self.fields["branch"].queryset = branches


class ReferralForm(forms.Form):
    """Who referred whom: the referrer is a student, a parent, a teacher/staff member or
    an outside person (name + phone). Choices are scoped by the view."""

    referred = forms.ModelChoiceField(label=_("Referred student"), queryset=None)
    kind = forms.ChoiceField(label=_("Referrer is"), choices=[])
    referrer_student = forms.ModelChoiceField(label=_("Referring student"), queryset=None,
                                              required=False)
    referrer_parent = forms.ModelChoiceField(label=_("Referring parent"), queryset=None,
                                             required=False)
    referrer_staff = forms.ModelChoiceField(label=_("Referring teacher / staff"),
                                            queryset=None, required=False)
    referrer_name = forms.CharField(label=_("Referrer name"), max_length=50, required=False)
    referrer_phone = forms.CharField(label=_("Referrer phone"), max_length=30, required=False)
    reward_policy = forms.ModelChoiceField(label=_("Reward policy"), queryset=None,
                                           required=False, empty_label=_("No reward"))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    def __init__(self, *args: Any, referred: Any, students: Any, parents: Any, staff: Any,
                 **kwargs: Any) -> None:
        from .models import Referral, RewardPolicy

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = Referral.Kind.choices
        self.fields["referred"].queryset = referred
        self.fields["referrer_student"].queryset = students
        self.fields["referrer_parent"].queryset = parents
        self.fields["referrer_staff"].queryset = staff
        self.fields["reward_policy"].queryset = RewardPolicy.objects.filter(is_active=True)


class RewardStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("New reward status"), choices=[])

    def __init__(self, *args: Any, allowed: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = allowed
