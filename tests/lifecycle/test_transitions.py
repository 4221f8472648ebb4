"""account_transition: the single door. Table enforcement, history rows, recovery, win-back."""
from __future__ import annotations

import itertools

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from crm.models import AuditLog
from lifecycle.models import Transition
from lifecycle.periods import Period, is_allowed
from lifecycle.services import TransitionConflict, account_transition
from tests.factories import StudentFactory

pytestmark = pytest.mark.django_db
P = Period


def transition(student, to, **kw):
    kw.setdefault("trigger", "risk")
    kw.setdefault("reason", "because")
    return account_transition(student=student, to_period=to, **kw)


@pytest.mark.parametrize(("from_period", "to_period"),
                         list(itertools.product(Period.values, repeat=2)))
def test_the_service_applies_allowed_moves_and_refuses_the_rest(from_period, to_period):
    # at_risk remembers growth, so at_risk -> growth is the legal recovery
    student = StudentFactory(period=from_period,
                             previous_period=P.GROWTH if from_period == P.AT_RISK else "")
    legal = is_allowed(from_period, to_period) and not (
        from_period == P.AT_RISK and to_period in (P.SOCIALIZATION, P.MATURITY))
    if legal:
        row = transition(student, to_period)
        student.refresh_from_db()
        assert student.period == to_period
        assert (row.from_period, row.to_period) == (from_period, to_period)
    else:
        with pytest.raises(ValidationError):
            transition(student, to_period)
        student.refresh_from_db()
        assert student.period == from_period
        assert not Transition.objects.filter(student=student).exists()


def test_prospect_cannot_jump_to_maturity():
    student = StudentFactory()
    with translation.override("en"), pytest.raises(ValidationError) as err:
        transition(student, P.MATURITY)
    message = err.value.message_dict["to_period"][0]
    assert "Prospecting" in message
    assert "Maturity" in message
    assert err.value.error_dict["to_period"][0].code == "illegal_transition"
    student.refresh_from_db()
    assert student.period == P.PROSPECTING


def test_an_unknown_period_is_refused():
    with pytest.raises(ValidationError) as err:
        transition(StudentFactory(), "heaven")
    assert "to_period" in err.value.message_dict


def test_a_move_writes_a_history_row_with_trigger_reason_and_evidence():
    student = StudentFactory(period=P.SOCIALIZATION)
    row = transition(student, P.GROWTH, trigger="renewal", reason="second contract",
                     evidence={"renewals": 1})
    row.refresh_from_db()
    assert (row.from_period, row.to_period, row.trigger) == (P.SOCIALIZATION, P.GROWTH,
                                                              "renewal")
    assert row.reason == "second contract"
    assert row.evidence == {"renewals": 1}
    assert row.actor is None
    student.refresh_from_db()
    assert student.period_since == row.at


def test_a_manual_move_records_the_person_and_an_audit_entry(counselor_a):
    student = StudentFactory(branch=counselor_a.staff_profile.branch, period=P.GROWTH)
    row = transition(student, P.AT_RISK, trigger="manual", actor=counselor_a,
                     reason="parent called to complain")
    assert row.actor == counselor_a
    assert AuditLog.objects.filter(action="lifecycle.transition",
                                   object_id=str(student.pk)).count() == 1
    assert student.history.first().history_user == counselor_a


def test_a_manual_move_needs_a_person():
    with pytest.raises(ValidationError) as err:
        transition(StudentFactory(period=P.GROWTH), P.AT_RISK, trigger="manual")
    assert "actor" in err.value.message_dict


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_move_needs_a_reason(reason):
    student = StudentFactory(period=P.GROWTH)
    with pytest.raises(ValidationError) as err:
        transition(student, P.AT_RISK, reason=reason)
    assert "reason" in err.value.message_dict
    student.refresh_from_db()
    assert student.period == P.GROWTH


def test_at_risk_remembers_where_it_came_from_and_recovery_returns_there():
    student = StudentFactory(period=P.MATURITY)
    transition(student, P.AT_RISK)
    student.refresh_from_db()
    assert student.previous_period == P.MATURITY
    transition(student, P.MATURITY, trigger="risk_cleared")
    student.refresh_from_db()
    assert (student.period, student.previous_period) == (P.MATURITY, "")


def test_recovery_to_another_period_than_the_remembered_one_is_refused():
    student = StudentFactory(period=P.GROWTH)
    transition(student, P.AT_RISK)
    with pytest.raises(ValidationError):
        transition(student, P.SOCIALIZATION, trigger="risk_cleared")
    student.refresh_from_db()
    assert student.period == P.AT_RISK


def test_leaving_recovery_for_socialization_is_flagged_a_win_back():
    student = StudentFactory(period=P.LAPSED)
    row = transition(student, P.SOCIALIZATION, trigger="win_back")
    assert row.win_back is True
    other = transition(StudentFactory(), P.SOCIALIZATION, trigger="first_purchase")
    assert other.win_back is False


def test_a_stale_caller_is_refused_when_the_account_moved_meanwhile():
    student = StudentFactory(period=P.SOCIALIZATION)
    stale = StudentFactory._meta.model.objects.get(pk=student.pk)
    transition(student, P.GROWTH)
    with pytest.raises(TransitionConflict):
        transition(stale, P.AT_RISK, expected_from=P.SOCIALIZATION)
    assert Transition.objects.filter(student=student).count() == 1


def test_the_callers_instance_reflects_the_new_period():
    student = StudentFactory(period=P.GROWTH)
    transition(student, P.AT_RISK)
    assert (student.period, student.previous_period) == (P.AT_RISK, P.GROWTH)
