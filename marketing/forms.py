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
