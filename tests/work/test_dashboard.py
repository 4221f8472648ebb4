import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lifecycle.models import BranchSnapshot, RetentionTask, Transition
from tests.factories import BranchFactory, ComplaintFactory, ContractFactory, StudentFactory
from tests.work.conftest import WORK_URLS, make_task, scored

pytestmark = [pytest.mark.django_db, pytest.mark.urls(WORK_URLS)]


def _move(student, frm, to, days_ago):
    return Transition.objects.create(student=student, from_period=frm, to_period=to,
                                     trigger="risk", reason="test",
                                     at=timezone.now() - dt.timedelta(days=days_ago))


@pytest.fixture
def known(branch_a, branch_b, counselor_a, playbook):
    """Branch A: 3 accounts (growth, at_risk, termination), 2 transitions in the last 30
    days and 1 older; 1 overdue and 1 done task; 1 complaint past its SLA. Branch B: 1."""
    now = timezone.now()
    grow = scored(branch_a, counselor=counselor_a, period="growth", segment="core",
                  current=80, potential=80)
    risky = scored(branch_a, counselor=counselor_a, period="at_risk", risk=70, segment="core",
                   current=80, potential=80)
    ended = scored(branch_a, counselor=counselor_a, period="termination", segment="ordinary")
    ContractFactory(student=grow, list_price=Decimal("8000"), discount=Decimal("500"))
    ContractFactory(student=risky, list_price=Decimal("6000"))
    ContractFactory(student=risky, list_price=Decimal("1000"), status="cancelled")
    _move(risky, "growth", "at_risk", 5)
    _move(ended, "growth", "termination", 3)
    _move(grow, "socialization", "growth", 60)
    make_task(risky, playbook, assignee=counselor_a, due_in=-dt.timedelta(hours=5))
    done = make_task(grow, playbook, assignee=counselor_a)
    RetentionTask.objects.filter(pk=done.pk).update(status="done", outcome="ok", closed_at=now)
    ComplaintFactory(student=risky, sla_due=now - dt.timedelta(days=1),
                     created_at=now - dt.timedelta(days=3))
    b = scored(branch_b, period="maturity", segment="maintain", current=80, potential=20)
    return {"grow": grow, "risky": risky, "ended": ended, "b": b}


def _col(response, branch):
    return [b.pk for b in response.context["branches"]].index(branch.pk)


def test_manager_figures_on_a_known_dataset(as_user, manager_a, branch_a, counselor_a, known):
    response = as_user(manager_a).get(reverse("work:dashboard"), {"days": 30})
    assert response.status_code == 200
    ctx = response.context
    assert [b.pk for b in ctx["branches"]] == [branch_a.pk]
    periods = {r["code"]: r["cells"] for r in ctx["period_table"]}
    assert (periods["growth"], periods["at_risk"], periods["termination"]) == ([1], [1], [1])
    assert ctx["grand_total"] == 3
    flows = {(r["from"], r["to"]): r["cells"] for r in ctx["flow_table"]}
    assert flows == {("growth", "at_risk"): [1], ("growth", "termination"): [1]}
    churn = {r["code"]: r["cells"] for r in ctx["churn_table"]}
    assert churn["growth"] == [1] and churn["maturity"] == [0]
    types = {f"{r['segment']}.{r['phase']}": r["cells"][0] for r in ctx["type_table"]}
    assert types["core.maintenance"] == {"n": 2, "revenue": Decimal("13500")}
    assert types["ordinary.recovery"] == {"n": 1, "revenue": Decimal("0")}
    assert sum(c["n"] for c in types.values()) == 3
    assert ctx["workload"] == [{"assignee_id": counselor_a.pk, "username": "cs_a", "open": 1,
                                "overdue": 1, "done": 1, "skipped": 0, "completion": 1.0}]
    assert ctx["complaint_rows"][0] | {"branch": None} == {
        "branch": None, "open": 1, "overdue": 1, "resolved": 0, "resolved_late": 0}
    this_month = ctx["rate_table"][-1]["cells"][0]["retention"]
    # 1 termination this month; 2 maintenance accounts now (growth, at_risk): 1 - 1/3
    assert this_month["terminations"] == 1 and this_month["rate"] == pytest.approx(2 / 3)
    patterns = {r["code"]: r["cells"] for r in ctx["pattern_rows"]}
    assert patterns["II"] == [1]  # ended after reaching growth
    html = response.content.decode()
    assert f'{reverse("work:tasks")}?counselor={counselor_a.pk}' in html
    assert f'{reverse("students:list")}?period=growth' in html
    assert 'id="dash-data"' in html


def test_the_window_limits_flows(as_user, manager_a, known):
    response = as_user(manager_a).get(reverse("work:dashboard"), {"days": 90})
    flows = {(r["from"], r["to"]): r["total"] for r in response.context["flow_table"]}
    assert flows[("socialization", "growth")] == 1


def test_snapshot_is_read_when_present(as_user, manager_a, branch_a, known):
    BranchSnapshot.objects.create(branch=branch_a, day=timezone.localdate(),
                                  by_period={"growth": 40, "maturity": 2})
    ctx = as_user(manager_a).get(reverse("work:dashboard")).context
    periods = {r["code"]: r["cells"] for r in ctx["period_table"]}
    assert periods["growth"] == [40] and periods["at_risk"] == [0]
    assert ctx["sources"] == ["snapshot"]


def test_branch_scoping(as_user, manager_b, head_office, branch_a, branch_b, known):
    mb = as_user(manager_b).get(reverse("work:dashboard")).context
    assert [b.pk for b in mb["branches"]] == [branch_b.pk]
    assert mb["grand_total"] == 1 and mb["flow_table"] == [] and mb["workload"] == []
    ho = as_user(head_office).get(reverse("work:dashboard"))
    ctx = ho.context
    assert {b.pk for b in ctx["branches"]} == {branch_a.pk, branch_b.pk}
    periods = {r["code"]: r["cells"] for r in ctx["period_table"]}
    a, b = _col(ho, branch_a), _col(ho, branch_b)
    assert periods["growth"][a] == 1 and periods["maturity"][b] == 1
    assert periods["maturity"][a] == 0


@pytest.mark.parametrize("role", ["counselor_a", "front_desk_a", "teacher_a"])
def test_other_roles_are_refused(request, as_user, role):
    response = as_user(request.getfixturevalue(role)).get(reverse("work:dashboard"))
    assert response.status_code == 403


def _count(client):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(reverse("work:dashboard")).status_code == 200
    return len(ctx.captured_queries)


def test_query_count_does_not_grow_with_branches(as_user, head_office, known):
    client = as_user(head_office)
    client.get(reverse("work:dashboard"))
    two = _count(client)
    for _ in range(4):
        branch = BranchFactory()
        for period in ("growth", "at_risk", "termination", "maturity"):
            StudentFactory(branch=branch, period=period)
    six = _count(client)
    assert two == six
    assert six <= 20
