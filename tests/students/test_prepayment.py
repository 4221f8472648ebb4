"""Prepayment caps: branch policy enforced at contract creation and reported on old contracts."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from students.models import Contract, ContractPolicy
from students.selectors import contracts_over_caps
from students.services import contract_create, months_exceeded
from tests.factories import ContractFactory, CourseFactory, StudentFactory
from tests.students.factories_extra import policy

pytestmark = pytest.mark.django_db
D = Decimal
START = dt.date(2026, 1, 1)


def sign(student, no, hours="40", until=dt.date(2026, 3, 31)):
    return contract_create(student=student, course=CourseFactory(), hours_purchased=D(hours),
                           list_price=D("8000"), valid_from=START, valid_until=until,
                           contract_no=no)


def test_months_are_counted_on_calendar_days():
    assert not months_exceeded(START, dt.date(2026, 4, 1), 3)
    assert months_exceeded(START, dt.date(2026, 4, 2), 3)
    assert not months_exceeded(dt.date(2026, 1, 31), dt.date(2026, 2, 28), 1)


def test_without_a_policy_nothing_is_capped(branch_a):
    assert sign(StudentFactory(branch=branch_a), "C1", hours="200",
                until=dt.date(2027, 1, 1)).pk


def test_the_hours_cap_names_the_cap(branch_a):
    policy(branch_a, max_prepaid_hours=D("60"))
    with pytest.raises(ValidationError, match=r"prepayment cap is 60\.00 hours"):
        sign(StudentFactory(branch=branch_a), "C1", hours="80")
    assert not Contract.objects.exists()


def test_the_months_cap_applies_and_the_branch_row_overrides_the_default(branch_a, branch_b):
    policy(None, max_prepaid_months=3)
    policy(branch_b, max_prepaid_months=6)
    with pytest.raises(ValidationError, match="cap is 3 months"):
        sign(StudentFactory(branch=branch_a), "C1", until=dt.date(2026, 5, 1))
    assert sign(StudentFactory(branch=branch_b), "C2", until=dt.date(2026, 5, 1)).pk


def test_a_renewal_waits_until_remaining_hours_fall_under_the_threshold(branch_a):
    policy(branch_a, renewal_threshold_hours=D("10"))
    student = StudentFactory(branch=branch_a)
    sign(student, "C1")
    with pytest.raises(ValidationError, match=r"renewal may be signed only below 10\.00"):
        sign(student, "C2")


def test_a_policy_is_validated_and_only_one_default_exists(branch_a):
    bad = ContractPolicy(branch=branch_a, max_prepaid_hours=D("10"),
                         renewal_threshold_hours=D("20"))
    with pytest.raises(ValidationError, match="cannot exceed"):
        bad.full_clean()
    policy(None)
    with pytest.raises(ValidationError):
        ContractPolicy(branch=None).full_clean()


def test_policy_changes_are_kept_in_history(branch_a):
    p = policy(branch_a, max_prepaid_hours=D("60"))
    p.max_prepaid_hours = D("40")
    p.save()
    assert list(p.history.values_list("max_prepaid_hours", flat=True)) == [D("40"), D("60")]


def test_the_report_lists_existing_contracts_over_the_caps(branch_a, head_office):
    student = StudentFactory(branch=branch_a)
    ok = ContractFactory(student=student, hours_purchased=D("40"), valid_from=START,
                         valid_until=dt.date(2026, 4, 1))
    too_many = ContractFactory(student=student, hours_purchased=D("80"), valid_from=START,
                               valid_until=dt.date(2026, 3, 1))
    too_long = ContractFactory(student=student, hours_purchased=D("40"), valid_from=START,
                               valid_until=dt.date(2026, 4, 2))
    policy(branch_a, max_prepaid_hours=D("60"), max_prepaid_months=3)
    rows = {c.pk: (c.over_hours, c.over_months) for c in contracts_over_caps(head_office)}
    assert rows == {too_many.pk: (True, False), too_long.pk: (False, True)}
    assert ok.pk not in rows
