"""Referrals: attribution rules, rewards, and the figures the scoring engineer uses (PPV)."""
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from marketing.models import Channel, Referral, RewardPolicy
from marketing.selectors import ReferralFigures, referral_figures
from marketing.services import referral_record, referral_reward_set, referral_rewards_refresh
from students.models import Refund
from tests.factories import GuardianshipFactory, StudentFactory

from .factories import paid_contract

pytestmark = pytest.mark.django_db


def test_a_referred_account_without_source_gets_the_referral_channel(branch_a, counselor_a):
    a, b = StudentFactory(branch=branch_a), StudentFactory(branch=branch_a)
    referral_record(referred=b, kind=Referral.Kind.STUDENT, referrer_student=a,
                    actor=counselor_a)
    b.refresh_from_db()
    assert b.source == Channel.objects.get(code="referral")


def test_one_referrer_per_account_and_never_oneself(branch_a):
    a, b = StudentFactory(branch=branch_a), StudentFactory(branch=branch_a)
    with pytest.raises(ValidationError):
        referral_record(referred=a, kind=Referral.Kind.STUDENT, referrer_student=a)
    referral_record(referred=b, kind=Referral.Kind.STUDENT, referrer_student=a)
    with pytest.raises(ValidationError):
        referral_record(referred=b, kind=Referral.Kind.OUTSIDE, referrer_name="张阿姨")


def test_an_outside_referrer_needs_a_name(branch_a):
    with pytest.raises(ValidationError):
        referral_record(referred=StudentFactory(branch=branch_a), kind=Referral.Kind.OUTSIDE)


def test_a_teacher_can_be_the_referrer(branch_a, teacher_a):
    b = StudentFactory(branch=branch_a)
    r = referral_record(referred=b, kind=Referral.Kind.STAFF, referrer_staff=teacher_a)
    assert r.referrer_label == str(teacher_a)


def test_rewards_are_earned_by_a_paid_contract_then_paid(branch_a, manager_a):
    policy = RewardPolicy.objects.create(name="老带新", reward="4 课时", value=Decimal("800"))
    a, b = StudentFactory(branch=branch_a), StudentFactory(branch=branch_a)
    r = referral_record(referred=b, kind=Referral.Kind.STUDENT, referrer_student=a,
                        reward_policy=policy)
    with pytest.raises(ValidationError):
        referral_reward_set(referral=r, status=Referral.RewardStatus.EARNED, actor=manager_a)
    with pytest.raises(ValidationError):
        referral_reward_set(referral=r, status=Referral.RewardStatus.PAID, actor=manager_a)
    paid_contract(b)
    assert referral_rewards_refresh() == 1
    assert referral_rewards_refresh() == 0
    r = referral_reward_set(referral=r, status=Referral.RewardStatus.PAID, actor=manager_a)
    assert r.reward_status == Referral.RewardStatus.PAID


def test_referral_figures_count_the_student_and_their_guardians(branch_a):
    """Hand-checked: A referred B (paid 8000, 1000 refunded) and C (no contract); A's
    mother referred D (paid 5000). A's sibling E shares the mother: D counts for E too."""
    a, e = StudentFactory(branch=branch_a), StudentFactory(branch=branch_a)
    mother = GuardianshipFactory(student=a).parent
    GuardianshipFactory(student=e, parent=mother, is_primary_contact=True)
    b, c, d = (StudentFactory(branch=branch_a) for _ in range(3))
    referral_record(referred=b, kind=Referral.Kind.STUDENT, referrer_student=a)
    referral_record(referred=c, kind=Referral.Kind.STUDENT, referrer_student=a)
    referral_record(referred=d, kind=Referral.Kind.PARENT, referrer_parent=mother)
    contract = paid_contract(b, amount=Decimal("8000"))
    Refund.objects.create(contract=contract, status=Refund.Status.PAID, amount=Decimal("1000"),
                          reason="x", requested_at=timezone.now())
    paid_contract(d, amount=Decimal("5000"))
    nobody = StudentFactory(branch=branch_a)
    figures = referral_figures([a.pk, e.pk, nobody.pk])
    assert figures[a.pk] == ReferralFigures(referrals=3, converted=2, revenue=Decimal("12000"))
    assert figures[e.pk] == ReferralFigures(referrals=1, converted=1, revenue=Decimal("5000"))
    assert figures[nobody.pk] == ReferralFigures()


def test_referral_figures_take_a_fixed_number_of_queries(branch_a, django_assert_max_num_queries):
    students = [StudentFactory(branch=branch_a) for _ in range(6)]
    for referrer, referred in zip(students[:3], students[3:], strict=True):
        referral_record(referred=referred, kind=Referral.Kind.STUDENT, referrer_student=referrer)
    with django_assert_max_num_queries(5):
        referral_figures([s.pk for s in students])


def test_the_nightly_scan_feeds_referrals_into_the_referrers_ppv(branch_a):
    """#4/#8: word of mouth raises the referrer's influence and reach (PPV), with the
    counts and converted revenue shown among the PPV inputs."""
    from lifecycle.models import AccountScore
    from lifecycle.services import scan_lifecycle

    referrer, quiet = StudentFactory(branch=branch_a), StudentFactory(branch=branch_a)
    for s in (referrer, quiet):
        paid_contract(s, amount=Decimal("6000"))
    b, c = StudentFactory(branch=branch_a), StudentFactory(branch=branch_a)
    referral_record(referred=b, kind=Referral.Kind.STUDENT, referrer_student=referrer)
    referral_record(referred=c, kind=Referral.Kind.STUDENT, referrer_student=referrer)
    paid_contract(b, amount=Decimal("8000"))
    scan_lifecycle()
    mine, other = (AccountScore.objects.get(student=s) for s in (referrer, quiet))
    ppv = mine.breakdown["ppv"]
    assert (ppv["referral_count"], ppv["referral_converted"]) == (2, 1)
    assert ppv["referral_revenue"] == 8000.0
    assert other.breakdown["ppv"]["referral_count"] == 0
    assert ppv["reach"] == other.breakdown["ppv"]["reach"] + 2
    assert mine.potential_value > other.potential_value
