"""Campaigns: the audience (segment, consent, branch scoping), handoff, export, results."""
import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from lifecycle.periods import Period
from marketing.models import AudienceHandoff, Campaign
from marketing.selectors import campaign_audience, results_of, with_results
from marketing.services import (
    campaign_export,
    campaign_handoff,
    campaign_save,
    prospect_ensure,
)
from parents.models import ContactConsent
from students.models import MessageLog
from tests.factories import ExamScoreFactory, GuardianshipFactory, StudentFactory

from .factories import CampaignFactory, paid_contract, trial_attended

pytestmark = pytest.mark.django_db


def family(branch, *, grade="S2", consent=("sms",), period=None):
    g = GuardianshipFactory(student=StudentFactory(branch=branch, grade=grade))
    for channel in consent:
        ContactConsent.objects.create(parent=g.parent, channel=channel, granted=True)
    if period:
        type(g.student).objects.filter(pk=g.student.pk).update(period=period)
    return g


def test_the_audience_keeps_only_parents_who_consented_on_the_campaign_channel(
        branch_a, manager_a):
    yes = family(branch_a)
    family(branch_a, consent=())
    wechat_only = family(branch_a, consent=("wechat",))
    ContactConsent.objects.create(parent=family(branch_a, consent=()).parent, channel="sms",
                                  granted=False)
    campaign = CampaignFactory(branch=branch_a, created_by=manager_a)
    assert list(campaign_audience(campaign, manager_a)) == [yes]
    campaign.contact_channel = "wechat"
    assert list(campaign_audience(campaign, manager_a)) == [wechat_only]


def test_the_segment_filters_period_grade_and_exam_window(branch_a, manager_a):
    s3 = family(branch_a, grade="S3")
    family(branch_a, grade="S1")
    lapsed = family(branch_a, grade="S3", period=Period.LAPSED)
    ExamScoreFactory(student=s3.student, exam_date=dt.date(2026, 6, 8))
    ExamScoreFactory(student=lapsed.student, exam_date=dt.date(2026, 3, 1))
    campaign = CampaignFactory(branch=branch_a, created_by=manager_a, target_grades=["S3"])
    assert set(campaign_audience(campaign, manager_a)) == {s3, lapsed}
    campaign.target_periods = [Period.PROSPECTING]
    assert list(campaign_audience(campaign, manager_a)) == [s3]
    campaign.target_periods = []
    campaign.exam_from, campaign.exam_until = dt.date(2026, 6, 1), dt.date(2026, 6, 30)
    assert list(campaign_audience(campaign, manager_a)) == [s3]


def test_a_branch_managers_campaign_never_reaches_another_branch(branch_a, branch_b,
                                                                 manager_a, head_office):
    mine, theirs = family(branch_a), family(branch_b)
    campaign = campaign_save(actor=manager_a, data={
        "code": "open-day", "name": "开放日", "kind": Campaign.Kind.PUBLIC_LECTURE,
        "starts_on": timezone.localdate()})
    assert campaign.branch == branch_a  # forced to the manager's branch
    assert list(campaign_audience(campaign, manager_a)) == [mine]
    # Even head office exporting it gets the creator's scope only.
    assert list(campaign_audience(campaign, head_office)) == [mine]
    everyone = CampaignFactory(created_by=head_office)
    assert set(campaign_audience(everyone, head_office)) == {mine, theirs}
    assert list(campaign_audience(everyone, manager_a)) == [mine]


def test_only_managers_run_campaigns_and_only_in_their_branch(branch_b, counselor_a,
                                                              manager_a):
    data = {"code": "x", "name": "x", "kind": "new_term", "starts_on": timezone.localdate()}
    with pytest.raises(PermissionDenied):
        campaign_save(actor=counselor_a, data=data)
    with pytest.raises(PermissionDenied):
        campaign_save(actor=manager_a, data={**data, "branch": branch_b})
    with pytest.raises(ValidationError):
        campaign_save(actor=manager_a, data={**data, "target_grades": ["X9"]})


def test_handoff_queues_one_message_per_parent_and_records_it(branch_a, manager_a, settings):
    settings.MESSAGING_BACKEND = "crm.messaging.backends.locmem.LocmemBackend"
    g = family(branch_a)
    GuardianshipFactory(student=StudentFactory(branch=branch_a), parent=g.parent)  # sibling
    campaign = CampaignFactory(branch=branch_a, created_by=manager_a, message="新学期优惠")
    handoff = campaign_handoff(campaign=campaign, actor=manager_a)
    assert handoff.recipients == 1
    assert handoff.recipient_rows.count() == 2
    log = MessageLog.objects.get()
    assert (log.parent, log.channel, log.text) == (g.parent, "sms", "新学期优惠")
    assert log.template_code == f"campaign:{campaign.code}"


def test_export_writes_the_audience_as_csv_and_records_the_export(branch_a, manager_a):
    g = family(branch_a)
    campaign = CampaignFactory(branch=branch_a, created_by=manager_a)
    text = campaign_export(campaign=campaign, actor=manager_a)
    lines = text.strip().splitlines()
    assert lines[0].startswith("student_id,student,grade")
    assert g.parent.phone in lines[1]
    assert AudienceHandoff.objects.get().kind == AudienceHandoff.Kind.EXPORT


def test_results_count_prospects_trials_enrolments_revenue_and_cost_per_enrolment(branch_a):
    campaign = CampaignFactory(branch=branch_a, cost=Decimal("3000"))
    students = [StudentFactory(branch=branch_a) for _ in range(4)]
    for s in students:
        prospect_ensure(student=s, campaign=campaign)
    trial_attended(students[0])
    paid_contract(students[0], amount=Decimal("6000"))
    paid_contract(students[1], amount=Decimal("4000"))
    prospect_ensure(student=StudentFactory(branch=branch_a))  # another campaign's
    row = with_results(Campaign.objects.filter(pk=campaign.pk)).get()
    assert results_of(row) == {
        "enquiries": 0, "prospects": 4, "trials": 1, "enrolments": 2,
        "revenue": Decimal("10000"), "won_back": 0, "cost": Decimal("3000"),
        "cost_per_enrolment": Decimal("1500.00")}
