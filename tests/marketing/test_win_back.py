"""Win-back: campaign audiences keep the ended accounts worth an offer (value and exit
reason), and a family that returns after the offer is marked won back and counted."""
import datetime as dt
from decimal import Decimal

import pytest

from lifecycle.models import Transition
from lifecycle.periods import Period
from lifecycle.services import scan_lifecycle
from marketing.models import Campaign, ChurnReason, MarketingPolicy
from marketing.selectors import campaign_audience, results_of, win_back_candidates, with_results
from marketing.services import campaign_handoff, exit_interview_record
from parents.models import ContactConsent
from tests.factories import GuardianshipFactory, StudentFactory

from .factories import CampaignFactory, paid_contract, terminate

pytestmark = pytest.mark.django_db


def ended_family(branch, manager, *, revenue, reason=None):
    g = GuardianshipFactory(student=StudentFactory(branch=branch))
    ContactConsent.objects.create(parent=g.parent, channel="sms", granted=True)
    if revenue:
        paid_contract(g.student, amount=Decimal(revenue))
    terminate(g.student, manager)
    if reason:
        exit_interview_record(student=g.student, interviewer=manager,
                              reason=ChurnReason.objects.get(code=reason))
    return g


@pytest.fixture
def lapsed_world(branch_a, manager_a):
    MarketingPolicy.objects.create(branch=branch_a, win_back_min_revenue=Decimal("1000"))
    return {
        "valuable": ended_family(branch_a, manager_a, revenue="9000", reason="price"),
        "no_interview": ended_family(branch_a, manager_a, revenue="3000"),
        "moved": ended_family(branch_a, manager_a, revenue="9000", reason="moved"),
        "cheap": ended_family(branch_a, manager_a, revenue="500", reason="price"),
        "active": GuardianshipFactory(student=StudentFactory(branch=branch_a)),
    }


def test_a_win_back_campaign_reaches_only_ended_accounts_worth_it(branch_a, manager_a,
                                                                  lapsed_world):
    ContactConsent.objects.create(parent=lapsed_world["active"].parent, channel="sms",
                                  granted=True)
    campaign = CampaignFactory(branch=branch_a, created_by=manager_a,
                               kind=Campaign.Kind.WIN_BACK)
    assert set(campaign_audience(campaign, manager_a)) == {lapsed_world["valuable"],
                                                           lapsed_world["no_interview"]}
    # The same families as the win-back candidates at a win-back moment.
    on = dt.date(2026, 9, 1)
    assert {s.pk for s in win_back_candidates(manager_a, on=on)} == {
        lapsed_world["valuable"].student_id, lapsed_world["no_interview"].student_id}


def test_other_campaign_kinds_do_not_apply_the_win_back_rule(branch_a, manager_a,
                                                            lapsed_world):
    campaign = CampaignFactory(branch=branch_a, created_by=manager_a,
                               kind=Campaign.Kind.NEW_TERM,
                               target_periods=[Period.TERMINATION, Period.LAPSED])
    assert len(list(campaign_audience(campaign, manager_a))) == 4


def test_a_reason_marked_not_worth_it_leaves_the_audience(branch_a, manager_a, lapsed_world):
    ChurnReason.objects.filter(code="price").update(win_back_eligible=False)
    campaign = CampaignFactory(branch=branch_a, created_by=manager_a,
                               kind=Campaign.Kind.WIN_BACK)
    assert list(campaign_audience(campaign, manager_a)) == [lapsed_world["no_interview"]]


def test_a_family_returning_after_the_offer_is_won_back_and_counted(branch_a, manager_a,
                                                                   lapsed_world, settings):
    settings.MESSAGING_BACKEND = "crm.messaging.backends.locmem.LocmemBackend"
    campaign = CampaignFactory(branch=branch_a, created_by=manager_a,
                               kind=Campaign.Kind.WIN_BACK, message="老学员回归优惠")
    campaign_handoff(campaign=campaign, actor=manager_a)
    back = lapsed_world["valuable"].student
    paid_contract(back, amount=Decimal("6000"))
    scan_lifecycle(branch_id=branch_a.pk)
    back.refresh_from_db()
    assert back.period == Period.SOCIALIZATION
    move = Transition.objects.filter(student=back).order_by("-at", "-id").first()
    assert (move.from_period, move.to_period, move.win_back) == (
        Period.TERMINATION, Period.SOCIALIZATION, True)
    row = with_results(Campaign.objects.filter(pk=campaign.pk)).get()
    assert results_of(row)["won_back"] == 1
    # Back in a maintenance period, the family leaves the win-back audience.
    assert back not in {g.student for g in campaign_audience(campaign, manager_a)}


def test_nightly_win_back_tasks_follow_the_same_value_and_reason_rule(branch_a, manager_a,
                                                                      lapsed_world):
    from lifecycle.models import RetentionTask

    ids = [g.student_id for k, g in lapsed_world.items() if k != "active"]
    from students.models import Student

    Student.objects.filter(pk__in=ids).update(period=Period.LAPSED,
                                              previous_period=Period.TERMINATION)
    scan_lifecycle()
    tasked = set(RetentionTask.objects.filter(playbook__code="win-back")
                 .values_list("student_id", flat=True))
    assert tasked == {lapsed_world["valuable"].student_id,
                      lapsed_world["no_interview"].student_id}
