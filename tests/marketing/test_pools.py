"""Lead pools: claiming under the cap, idle release (idempotent), round robin, the alert."""
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.models import AuditLog
from crm.roles import Role
from marketing.models import AssignmentMode, MarketingPolicy, Pool, Prospect
from marketing.selectors import unassigned_new_lead_count, unassigned_new_leads
from marketing.services import (
    leads_auto_assign,
    prospect_claim,
    prospect_ensure,
    prospect_release,
    release_idle_leads,
)
from marketing.tasks import release_idle_leads_task
from tests.factories import InteractionFactory, StudentFactory, staff

pytestmark = pytest.mark.django_db


def lead(branch, **kw):
    return prospect_ensure(student=StudentFactory(branch=branch), **kw)


def test_claiming_moves_a_lead_to_the_private_pool_and_sets_the_counselor(branch_a,
                                                                         counselor_a):
    p = prospect_claim(prospect=lead(branch_a), counselor=counselor_a)
    p.student.refresh_from_db()
    assert (p.pool, p.owner, p.student.counselor) == (Pool.PRIVATE, counselor_a, counselor_a)
    assert AuditLog.objects.filter(action="prospect.claim").exists()


def test_the_cap_refuses_a_claim_with_a_clear_error(branch_a, counselor_a):
    MarketingPolicy.objects.create(branch=branch_a, private_pool_cap=2)
    prospect_claim(prospect=lead(branch_a), counselor=counselor_a)
    prospect_claim(prospect=lead(branch_a), counselor=counselor_a)
    with pytest.raises(ValidationError) as exc:
        prospect_claim(prospect=lead(branch_a), counselor=counselor_a)
    err = exc.value.error_dict["owner"][0]
    assert err.code == "pool_cap"
    assert "the cap is 2" in err.messages[0]


def test_a_lead_already_claimed_cannot_be_claimed_again(branch_a, counselor_a, counselor_a2):
    p = lead(branch_a)
    prospect_claim(prospect=p, counselor=counselor_a)
    with pytest.raises(ValidationError) as exc:
        prospect_claim(prospect=p, counselor=counselor_a2)
    assert exc.value.error_dict["owner"][0].code == "taken"


def test_a_counselor_cannot_claim_another_branchs_lead(branch_b, counselor_a):
    with pytest.raises(ValidationError):
        prospect_claim(prospect=lead(branch_b), counselor=counselor_a)


def test_releasing_returns_the_lead_to_the_public_pool(branch_a, counselor_a):
    p = prospect_claim(prospect=lead(branch_a), counselor=counselor_a)
    p = prospect_release(prospect=p, actor=counselor_a, reason="not my area")
    p.student.refresh_from_db()
    assert (p.pool, p.owner, p.student.counselor) == (Pool.PUBLIC, None, None)


def _age(prospect, days):
    Prospect.objects.filter(pk=prospect.pk).update(
        last_activity_at=timezone.now() - dt.timedelta(days=days))


def test_idle_leads_return_to_the_public_pool_once(branch_a, counselor_a):
    MarketingPolicy.objects.create(branch=branch_a, idle_release_days=7)
    idle = prospect_claim(prospect=lead(branch_a), counselor=counselor_a)
    busy = prospect_claim(prospect=lead(branch_a), counselor=counselor_a)
    talked = prospect_claim(prospect=lead(branch_a), counselor=counselor_a)
    _age(idle, 8)
    _age(busy, 3)
    _age(talked, 8)
    InteractionFactory(student=talked.student)  # a call yesterday keeps it
    assert release_idle_leads_task.delay().get() == 1
    assert release_idle_leads() == 0  # idempotent: nothing more to release
    idle.refresh_from_db()
    idle.student.refresh_from_db()
    assert (idle.pool, idle.owner_id, idle.student.counselor_id) == (Pool.PUBLIC, None, None)
    assert Prospect.objects.filter(owner=counselor_a).count() == 2
    assert AuditLog.objects.filter(action="prospect.idle_release").count() == 1


def test_round_robin_takes_turns_and_remembers_across_runs(branch_a, counselor_a,
                                                          counselor_a2):
    leads = [lead(branch_a) for _ in range(3)]
    first = leads_auto_assign(branch=branch_a, mode=AssignmentMode.ROUND_ROBIN)
    assert [c for _p, c in first] == [counselor_a.pk, counselor_a2.pk, counselor_a.pk]
    lead(branch_a)
    second = leads_auto_assign(branch=branch_a, mode=AssignmentMode.ROUND_ROBIN)
    assert [c for _p, c in second] == [counselor_a2.pk]
    assert {p.pk for p in leads} <= {p for p, _c in first}


def test_least_loaded_fills_the_emptier_caseload(branch_a, counselor_a, counselor_a2):
    prospect_claim(prospect=lead(branch_a), counselor=counselor_a)
    prospect_claim(prospect=lead(branch_a), counselor=counselor_a)
    lead(branch_a)
    lead(branch_a)
    lead(branch_a)
    out = leads_auto_assign(branch=branch_a, mode=AssignmentMode.LEAST_LOADED)
    assert [c for _p, c in out] == [counselor_a2.pk, counselor_a2.pk, counselor_a.pk]


def test_auto_assignment_skips_counselors_at_their_cap(branch_a, counselor_a, counselor_a2):
    MarketingPolicy.objects.create(branch=branch_a, private_pool_cap=1)
    prospect_claim(prospect=lead(branch_a), counselor=counselor_a)
    lead(branch_a)
    lead(branch_a)
    out = leads_auto_assign(branch=branch_a)
    assert [c for _p, c in out] == [counselor_a2.pk]  # the second lead waits in the pool


def test_the_alert_counts_new_leads_unassigned_beyond_the_policy_hours(branch_a, branch_b,
                                                                       manager_a, head_office):
    old, fresh = lead(branch_a), lead(branch_a)
    other = lead(branch_b)
    Prospect.objects.filter(pk__in=[old.pk, other.pk]).update(
        created_at=timezone.now() - dt.timedelta(hours=30))
    assert list(unassigned_new_leads(manager_a)) == [old]
    assert unassigned_new_lead_count(head_office) == 2
    assert fresh not in unassigned_new_leads(head_office)
    teacher = staff(Role.TEACHER, branch_a, username="t_alert")
    assert unassigned_new_lead_count(teacher) == 0
