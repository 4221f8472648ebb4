"""Pipeline steps: the table of moves, dates and owners, and the two stages that are facts."""
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from lifecycle.models import Transition
from lifecycle.periods import Period
from marketing.models import Stage
from marketing.services import prospect_advance, prospect_ensure, prospect_sync
from students.models import Attendance
from tests.factories import StudentFactory

from .factories import paid_contract, trial_attended

pytestmark = pytest.mark.django_db


@pytest.fixture
def prospect(branch_a):
    return prospect_ensure(student=StudentFactory(branch=branch_a))


def test_a_new_prospect_starts_with_a_dated_new_step(prospect):
    assert prospect.stage == Stage.NEW
    assert [s.stage for s in prospect.steps.all()] == [Stage.NEW]


def test_steps_are_appended_with_date_and_owner(prospect, counselor_a):
    day = timezone.localdate() - dt.timedelta(days=2)
    prospect_advance(prospect=prospect, stage=Stage.INVITED, actor=counselor_a, on=day,
                     next_follow_up=timezone.localdate())
    prospect_advance(prospect=prospect, stage=Stage.VISITED, actor=counselor_a)
    prospect.refresh_from_db()
    steps = list(prospect.steps.values_list("stage", "on", "actor"))
    assert steps[1:] == [(Stage.INVITED, day, counselor_a.pk),
                         (Stage.VISITED, timezone.localdate(), counselor_a.pk)]
    assert prospect.stage == Stage.VISITED
    assert prospect.next_follow_up == timezone.localdate()


def test_a_prospect_cannot_go_back_from_trial_booked_to_invited(prospect):
    prospect_advance(prospect=prospect, stage=Stage.TRIAL_BOOKED)
    with pytest.raises(ValidationError) as exc:
        prospect_advance(prospect=prospect, stage=Stage.INVITED)
    assert exc.value.error_dict["stage"][0].code == "illegal_stage"


def test_a_step_cannot_be_dated_in_the_future(prospect):
    with pytest.raises(ValidationError):
        prospect_advance(prospect=prospect, stage=Stage.INVITED,
                         on=timezone.localdate() + dt.timedelta(days=1))


def test_lost_needs_a_reason_and_can_be_reopened(prospect):
    with pytest.raises(ValidationError):
        prospect_advance(prospect=prospect, stage=Stage.LOST)
    prospect_advance(prospect=prospect, stage=Stage.LOST, lost_reason="选了别家")
    prospect.refresh_from_db()
    assert prospect.lost_reason == "选了别家"
    prospect_advance(prospect=prospect, stage=Stage.INVITED)
    prospect.refresh_from_db()
    assert prospect.lost_reason == ""


def test_trial_attended_is_refused_without_a_recorded_attendance(prospect):
    prospect_advance(prospect=prospect, stage=Stage.TRIAL_BOOKED)
    with pytest.raises(ValidationError) as exc:
        prospect_advance(prospect=prospect, stage=Stage.TRIAL_ATTENDED)
    assert exc.value.error_dict["stage"][0].code == "no_trial_attendance"


def test_an_absence_at_the_trial_is_not_an_attended_trial(prospect):
    trial_attended(prospect.student, status=Attendance.Status.ABSENT)
    prospect_advance(prospect=prospect, stage=Stage.TRIAL_BOOKED)
    with pytest.raises(ValidationError):
        prospect_advance(prospect=prospect, stage=Stage.TRIAL_ATTENDED)


def test_trial_attended_is_dated_by_the_attendance(prospect):
    day = timezone.localdate() - dt.timedelta(days=3)
    att = trial_attended(prospect.student, on=day)
    prospect_advance(prospect=prospect, stage=Stage.TRIAL_BOOKED)
    step = prospect_advance(prospect=prospect, stage=Stage.TRIAL_ATTENDED)
    assert step.on == day
    assert step.evidence["attendance"] == att.pk


def test_enrolled_needs_a_paid_contract(prospect):
    with pytest.raises(ValidationError) as exc:
        prospect_advance(prospect=prospect, stage=Stage.ENROLLED)
    assert exc.value.error_dict["stage"][0].code == "no_paid_contract"


def test_enrolling_moves_the_account_to_socialization_through_the_lifecycle_rules(prospect):
    contract = paid_contract(prospect.student)
    step = prospect_advance(prospect=prospect, stage=Stage.ENROLLED)
    prospect.student.refresh_from_db()
    assert step.on == contract.signed_on
    assert prospect.student.period == Period.SOCIALIZATION
    moved = Transition.objects.get(student=prospect.student)
    assert moved.trigger == "first_purchase"  # the rule's move, not a manual one


def test_sync_records_trial_and_enrolment_from_facts_and_is_idempotent(prospect):
    trial_attended(prospect.student)
    paid_contract(prospect.student)
    assert prospect_sync(prospect=prospect) == [Stage.TRIAL_ATTENDED, Stage.ENROLLED]
    prospect.refresh_from_db()
    assert prospect_sync(prospect=prospect) == []
    assert list(prospect.steps.values_list("stage", flat=True)) == [
        Stage.NEW, Stage.TRIAL_BOOKED, Stage.TRIAL_ATTENDED, Stage.ENROLLED]
