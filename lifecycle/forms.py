"""Forms of the lifecycle engine (the admin's change-period form)."""
from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .periods import Period


class ChangePeriodForm(forms.Form):
    """Offers only the legal next periods; a reason is required (it goes into the history)."""

    to_period = forms.ChoiceField(label=_("New period"))
    reason = forms.CharField(label=_("Reason"), widget=forms.Textarea(attrs={"rows": 3}),
                             max_length=2000, strip=True)

    def __init__(self, *args: Any, targets: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to_period"].choices = [(p, Period(p).label) for p in targets]
