"""Head office compares branches: each rate is checked against hand-counted rows, ranks
follow the rates, and only head office may open the page."""
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from lifecycle.models import RetentionTask, Transition
from students.models import Contract
from tests.factories import BranchFactory, ContractFactory
from tests.workspace.conftest import make_task, scored
from workspace.branch_compare import rank

pytestmark = pytest.mark.django_db


def _ended(student, frm, days_ago):
    Transition.objects.create(student=student, from_period=frm, to_period="termination",
                              trigger="manual", reason="test",
                              at=timezone.now() - dt.timedelta(days=days_ago))


def _closed(task, status, days_ago):
    RetentionTask.objects.filter(pk=task.pk).update(
        status=status, outcome="x", skip_reason="x",
        closed_at=timezone.now() - dt.timedelta(days=days_ago))


@pytest.fixture
def world(branch_a, branch_b, counselor_a, playbook):
    """Branch A, counted by hand:
    now: prospecting 1, socialization 1, growth 3, maturity 2, at_risk 2, termination 2,
    lapsed 1 -> maintenance-phase accounts 8;
    terminations in the last 30 days: 1 from growth, 1 from at_risk (the lapsed one
    ended 200 days ago) -> retention 8/10, churn 2/10, from growth 1/4, from at risk 1/3;
    at risk now 2/8; renewals 2, contracts run out 1 in the window (1 more outside) -> 2/3;
    tasks: 3 done + 1 skipped in the window, 1 open past due, 1 open not yet due, 1 done
    60 days ago -> 3/5.
    Branch B: growth 4, nothing else -> retention 4/4, churn 0/4, at risk 0/4, no
    renewal figures, 1 task done -> 1/1."""
    a = {}
    a["pro"] = scored(branch_a, period="prospecting")
    a["soc"] = scored(branch_a, period="socialization")
    growth = [scored(branch_a, counselor=counselor_a, period="growth") for _ in range(3)]
    [scored(branch_a, period="maturity") for _ in range(2)]
    risky = [scored(branch_a, counselor=counselor_a, period="at_risk") for _ in range(2)]
    ended = [scored(branch_a, period="termination") for _ in range(2)]
    lapsed = scored(branch_a, period="lapsed")
    _ended(ended[0], "growth", 3)
    _ended(ended[1], "at_risk", 10)
    _ended(lapsed, "maturity", 200)
    today = timezone.localdate()
    ContractFactory(student=growth[0], is_renewal=True, signed_on=today - dt.timedelta(days=5))
    ContractFactory(student=growth[1], is_renewal=True, signed_on=today - dt.timedelta(days=9))
    ContractFactory(student=growth[2], status=Contract.Status.COMPLETED,
                    ended_on=today - dt.timedelta(days=4))
    ContractFactory(student=risky[0], status=Contract.Status.EXPIRED,
                    ended_on=today - dt.timedelta(days=90))
    for days in (1, 2, 3):
        _closed(make_task(growth[0], playbook, assignee=counselor_a), "done", days)
    _closed(make_task(growth[1], playbook, assignee=counselor_a), "skipped", 2)
    _closed(make_task(growth[2], playbook, assignee=counselor_a), "done", 60)
    make_task(risky[0], playbook, assignee=counselor_a, due_in=-dt.timedelta(hours=4))
    make_task(risky[1], playbook, assignee=counselor_a, due_in=dt.timedelta(hours=20))
    b = [scored(branch_b, period="growth") for _ in range(4)]
    _closed(make_task(b[0], playbook, assignee=None), "done", 1)
    return {"a": branch_a, "b": branch_b}


def _cell(rows, branch, metric):
    return next(r for r in rows if r["branch"].pk == branch.pk)[metric]


def test_rates_agree_with_hand_counted_rows(as_user, head_office, world):
    response = as_user(head_office).get(reverse("work:branches"), {"days": 30})
    assert response.status_code == 200
    rows = response.context["rows"]
    a, b = world["a"], world["b"]
    def frac(branch, metric):
        c = _cell(rows, branch, metric)
        return (c["num"], c["den"], c["rank"])
    assert frac(a, "retention") == (8, 10, 2) and frac(b, "retention") == (4, 4, 1)
    assert frac(a, "churn") == (2, 10, 2) and frac(b, "churn") == (0, 4, 1)
    assert frac(a, "at_risk_share") == (2, 8, 2) and frac(b, "at_risk_share") == (0, 4, 1)
    assert frac(a, "renewal") == (2, 3, 1) and frac(b, "renewal") == (0, 0, None)
    assert frac(a, "completion") == (3, 5, 2) and frac(b, "completion") == (1, 1, 1)
    churn_a = _cell(rows, a, "churn_by_period")
    assert {p: (c["num"], c["den"]) for p, c in churn_a.items()} == {
        "socialization": (0, 1), "growth": (1, 4), "maturity": (0, 2), "at_risk": (1, 3)}
    assert _cell(rows, a, "retention")["rate"] == pytest.approx(0.8)
    assert _cell(rows, a, "completion")["rate"] == pytest.approx(0.6)
    # the churn numerators are the terminations retention counts
    assert sum(c["num"] for c in churn_a.values()) == _cell(rows, a, "churn")["num"]
    html = response.content.decode()
    assert 'id="branch-rate-chart"' in html and "vendor/chartjs/chart.umd.min.js" in html
    assert "80.0%" in html and "(8/10)" in html
    chart = response.context["chart"]
    retention = next(m for m in chart["metrics"] if m["code"] == "retention")
    assert retention["data"][chart["branches"].index(a.name)] == 80.0


def test_a_branch_without_accounts_has_no_rate_and_no_rank(as_user, head_office, world):
    empty = BranchFactory(code="zz", name="空校区")
    rows = as_user(head_office).get(reverse("work:branches")).context["rows"]
    assert _cell(rows, empty, "retention") == {"num": 0, "den": 0, "rate": None,
                                               "rank": None}


def test_ranks_share_ties():
    cells = [{"rate": 0.5}, {"rate": 0.9}, {"rate": 0.5}, {"rate": None}]
    rank(cells, higher_is_better=True)
    assert [c.get("rank") for c in cells] == [2, 1, 2, None]
    rank(cells, higher_is_better=False)
    assert [c.get("rank") for c in cells] == [1, 3, 1, None]


@pytest.mark.parametrize("who", ["manager_a", "counselor_a", "front_desk_a", "teacher_a"])
def test_only_head_office_compares_branches(as_user, request, who):
    user = request.getfixturevalue(who)
    assert as_user(user).get(reverse("work:branches")).status_code == 403


def test_the_counts_open_lists_of_the_same_size(as_user, head_office, world):
    client = as_user(head_office)
    response = client.get(reverse("work:branches"), {"days": 30})
    html = response.content.decode()
    a = world["a"]
    row = _cell(response.context["rows"], a, "at_risk_share")
    at_risk = client.get(reverse("students:list"), {"period": "at_risk", "branch": a.pk})
    assert at_risk.context["page"].paginator.count == row["num"] == 2
    everyone = client.get(reverse("students:list"), {"branch": a.pk})
    accounts = next(r for r in response.context["rows"] if r["branch"].pk == a.pk)["accounts"]
    assert everyone.context["page"].paginator.count == accounts == 12
    assert f"?period=at_risk&amp;branch={a.pk}" in html


def test_query_count_does_not_grow_with_branches(as_user, head_office, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = as_user(head_office)
    with CaptureQueriesContext(connection) as two:
        client.get(reverse("work:branches"))
    for i in range(3):
        BranchFactory(code=f"x{i}", name=f"新校区{i}")
    with CaptureQueriesContext(connection) as five:
        client.get(reverse("work:branches"))
    assert len(five) == len(two)
