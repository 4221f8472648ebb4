"""Field validators shared by the apps' models (so forms, serializers, admin and services
all apply them: ModelForm and ModelSerializer fields inherit model field validators, and
services call full_clean)."""
from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Dates people enter (birth dates, contract terms, payments) fall in this range; years such
# as 0001 or 9999 are typing slips, and 9999 made a refund quote of a million yuan.
MIN_YEAR, MAX_YEAR = 1900, 2100


def plausible_date(value: dt.date | dt.datetime | None) -> None:
    """Refuse a date outside MIN_YEAR..MAX_YEAR with a message on the field."""
    if value is None:
        return
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValidationError(
            _("Enter a date between the years %(min)d and %(max)d."),
            code="date_out_of_range", params={"min": MIN_YEAR, "max": MAX_YEAR})
