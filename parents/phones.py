"""Phone numbers: one canonical form (E.164) so duplicates are found whatever was typed."""
import functools
import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def normalize_phone(raw: str) -> str:
    """Parse a mainland mobile ("138 1234 5678") or an international number ("+852 ...").

    Returns E.164 ("+8613812345678"); raises ValidationError naming the problem.
    """
    text = (raw or "").strip()
    if not text:
        raise ValidationError(_("Enter a phone number."), code="required")
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        number = phonenumbers.parse(text, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            _("“%(value)s” is not a phone number."), code="invalid", params={"value": raw}
        ) from exc
    if number.country_code == 86:
        national = str(number.national_number)
        # Mainland mobiles: 11 digits starting 13-19. Landlines are accepted with an area code.
        if national.startswith("1") and not (len(national) == 11 and national[1] in "3456789"):
            raise ValidationError(
                _("“%(value)s” is not a valid mainland mobile number (11 digits, starting "
                  "13-19)."),
                code="invalid_cn_mobile", params={"value": raw},
            )
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("“%(value)s” is not a valid phone number for its region."),
            code="invalid", params={"value": raw},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    """Mainland numbers without +86, others in international format."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    if number.country_code == 86:
        return str(number.national_number)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def mask_phone(e164: str) -> str:
    """138****5678: enough for a teacher to tell two parents apart, not to call them."""
    shown = display_phone(e164).replace(" ", "")
    if len(shown) <= 7:
        return "*" * len(shown)
    return shown[:3] + "*" * (len(shown) - 7) + shown[-4:]


def mask_text(value: str) -> str:
    """Masks a WeChat id or similar: first and last character only."""
    if not value:
        return ""
    if len(value) <= 2:
        return "*" * len(value)
    return value[0] + "*" * (len(value) - 2) + value[-1]


_CN_MOBILE = re.compile(r"^(?:\+86|0086|86)?(1[3-9]\d{9})$")


@functools.lru_cache(maxsize=4096)
def _cn_mobile_range_known(prefix: str) -> bool:
    # libphonenumber's mainland mobile ranges are fixed by the first five digits or fewer
    # (then any six digits), so the first seven decide.
    return phonenumbers.is_valid_number(phonenumbers.parse(prefix + "0000", "CN"))


def normalize_phone_lenient(raw: str) -> tuple[str, bool]:
    """As normalize_phone, but a well-formed number outside the ranges the numbering plan
    metadata knows is kept: returns (E.164, False). Why: carriers open new ranges before
    the metadata lists them, and an old system's export is full of real numbers; imports
    keep them with a warning instead of refusing the family.

    Mainland mobiles (almost every number in a school's export) take a fast path: parsing
    one with phonenumbers costs ~0.3 ms, a quarter of a row's import budget.
    """
    compact = re.sub(r"[\s\-()]", "", raw or "")
    match = _CN_MOBILE.match(compact)
    if match and (settings.PHONE_DEFAULT_REGION == "CN" or compact[0] in "+08"):
        national = match.group(1)
        return "+86" + national, _cn_mobile_range_known(national[:7])
    try:
        return normalize_phone(raw), True
    except ValidationError as exc:
        if exc.code != "invalid":
            raise
        text = (raw or "").strip()
        if text.startswith("00"):
            text = "+" + text[2:]
        try:
            number = phonenumbers.parse(text, settings.PHONE_DEFAULT_REGION)
        except phonenumbers.NumberParseException:
            raise exc from None
        if not phonenumbers.is_possible_number(number):
            raise
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), False
