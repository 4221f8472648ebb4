import pytest
from django.core.exceptions import ValidationError

from parents.phones import display_phone, mask_phone, normalize_phone


@pytest.mark.parametrize(("raw", "e164"), [
    ("13812345678", "+8613812345678"),
    ("138 1234 5678", "+8613812345678"),
    ("+86 138-1234-5678", "+8613812345678"),
    ("0086 13812345678", "+8613812345678"),
    ("+852 9123 4567", "+85291234567"),
    ("+1 415 555 2671", "+14155552671"),
])
def test_valid_numbers_are_stored_in_one_canonical_form(raw, e164):
    assert normalize_phone(raw) == e164


@pytest.mark.parametrize(("raw", "fragment"), [
    ("", "Enter a phone number"),
    ("abc", "is not a phone number"),
    ("1381234567", "not a valid mainland mobile"),
    ("12012345678", "not a valid mainland mobile"),
    ("+852 123", "not a valid phone number"),
])
def test_invalid_numbers_are_refused_with_a_reason(raw, fragment):
    with pytest.raises(ValidationError) as exc:
        normalize_phone(raw)
    assert fragment in exc.value.messages[0]


def test_mainland_numbers_display_without_country_code_and_mask_the_middle():
    assert display_phone("+8613812345678") == "13812345678"
    assert mask_phone("+8613812345678") == "138****5678"
