"""Model constraints answer bad data with a clear message naming the field or rule."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from students.models import Contract, ExamScore, Interaction, LedgerEntry, SatisfactionSurvey
from tests.factories import (
    ComplaintFactory,
    ContractFactory,
    CourseFactory,
    ExamScoreFactory,
    ParentFactory,
    StudentFactory,
)

pytestmark = pytest.mark.django_db


def messages_of(obj) -> str:
    with pytest.raises(ValidationError) as exc:
        obj.full_clean()
    return " ".join(exc.value.messages)


def test_an_exam_score_above_full_marks_is_refused():
    score = ExamScore(student=StudentFactory(), subject="math", exam_name="期中",
                      exam_date=timezone.localdate(), score=Decimal("151"),
                      full_marks=Decimal("150"))
    assert "between 0 and the full marks" in messages_of(score)


def test_the_same_exam_result_cannot_be_recorded_twice():
    first = ExamScoreFactory()
    again = ExamScore(student=first.student, subject=first.subject, exam_name=first.exam_name,
                      exam_date=first.exam_date, score=Decimal("90"), full_marks=Decimal("150"))
    assert "already recorded" in messages_of(again)


def test_a_contract_discount_cannot_exceed_its_price():
    student = StudentFactory()
    contract = Contract(contract_no="X1", student=student, branch=student.branch,
                        course=CourseFactory(), hours_purchased=Decimal("10"),
                        list_price=Decimal("1000"), discount=Decimal("1200"),
                        valid_from=timezone.localdate(), valid_until=timezone.localdate(),
                        signed_on=timezone.localdate())
    assert "discount must be between 0 and the list price" in messages_of(contract)


def test_a_contract_cannot_end_before_it_starts():
    student = StudentFactory()
    today = timezone.localdate()
    contract = Contract(contract_no="X2", student=student, branch=student.branch,
                        course=CourseFactory(), hours_purchased=Decimal("10"),
                        list_price=Decimal("1000"), valid_from=today,
                        valid_until=today - dt.timedelta(days=1), signed_on=today)
    assert "end on or after its start date" in messages_of(contract)


@pytest.mark.parametrize(("kind", "hours"), [("purchased", "-2"), ("consumed", "2"),
                                             ("refunded", "5"), ("gifted", "0")])
def test_a_ledger_entry_sign_must_match_its_kind(kind, hours):
    contract = ContractFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        LedgerEntry.objects.create(contract=contract, kind=kind, hours=Decimal(hours),
                                   occurred_at=timezone.now())


def test_a_resolved_complaint_needs_its_resolution_time():
    complaint = ComplaintFactory.build(student=StudentFactory(), status="resolved")
    assert "resolved complaint needs its resolution time" in messages_of(complaint)


def test_an_interaction_with_a_parent_must_name_the_parent():
    item = Interaction(student=StudentFactory(), with_whom="parent", channel="call",
                       occurred_at=timezone.now(), summary="x")
    assert "Name the parent" in messages_of(item)
    item.parent = ParentFactory()
    item.full_clean()


@pytest.mark.parametrize("field", ["overall", "teaching", "service"])
def test_survey_ratings_outside_one_to_five_are_refused(field):
    survey = SatisfactionSurvey(student=StudentFactory(), respondent="student",
                                surveyed_at=timezone.now(), overall=3)
    setattr(survey, field, 6)
    assert "Ratings are 1-5" in messages_of(survey)


def test_a_payment_reference_is_booked_only_once():
    from students.models import Payment

    contract = ContractFactory()
    Payment.objects.create(contract=contract, amount=Decimal("100"), method="wechat",
                           paid_at=timezone.now(), reference="WX123")
    twice = Payment(contract=contract, amount=Decimal("100"), method="wechat",
                    paid_at=timezone.now(), reference="WX123")
    assert "already recorded" in messages_of(twice)
    # blank references are not unique: cash has none
    for _ in range(2):
        Payment.objects.create(contract=contract, amount=Decimal("5"), method="cash",
                               paid_at=timezone.now())
