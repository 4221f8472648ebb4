import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from crm.models import Branch
from lifecycle.models import BranchSnapshot, RetentionTask, Transition
from lifecycle.pipeline import refresh_snapshots
from lifecycle.value import CUSTOMER_TYPES
from tests.factories import BranchFactory, ComplaintFactory, ContractFactory, StudentFactory
from tests.workspace.conftest import make_task, scored
from workspace import selectors as dashboard

pytestmark = pytest.mark.django_db


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


# --- the nightly snapshot behind periods, the type matrix and patterns ----------------

SNAPSHOT_FIGURES = ("period_table", "type_table", "pattern_rows", "grand_total", "rate_table")


def _figures(response):
    return {k: response.context[k] for k in SNAPSHOT_FIGURES}


def _sql(client, **params):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse("work:dashboard"), params)
    assert response.status_code == 200
    return response, [q["sql"] for q in ctx.captured_queries]


def _pattern_sql(sqls):
    """The live pattern classification: the only dashboard read of Transition.win_back."""
    return [s for s in sqls if '"win_back"' in s]


def _type_sql(sqls):
    """The live type matrix: the only dashboard read summing contract prices."""
    return [s for s in sqls if "list_price" in s]


def test_nightly_snapshot_holds_the_live_figures(branch_a, branch_b, known):
    refresh_snapshots(run=None, branch_ids=[branch_a.pk, branch_b.pk])
    snap = BranchSnapshot.objects.get(branch=branch_a, day=timezone.localdate())
    assert snap.by_pattern == {"I": 0, "II": 1, "III": 0, "IV": 0, "": 2}
    assert snap.type_revenue["core.maintenance"] == {"n": 2, "revenue": "13500.00"}
    assert snap.type_revenue["ordinary.recovery"] == {"n": 1, "revenue": "0"}
    assert sorted(snap.type_revenue) == sorted(CUSTOMER_TYPES)
    other = BranchSnapshot.objects.get(branch=branch_b, day=timezone.localdate())
    assert other.by_pattern["IV"] == 1 and other.type_revenue["maintain.maintenance"]["n"] == 1


def test_type_figures_are_the_same_for_a_whole_branch_and_for_a_caseload(branch_a, branch_b,
                                                                         known, counselor_a):
    from lifecycle.models import AccountScore
    from lifecycle.selectors import type_figures_by_branch

    ids = [branch_a.pk, branch_b.pk]
    # A stored type that no longer matches the period (moved after scoring): by_type
    # keeps the stored one, the revenue matrix follows the current period.
    AccountScore.objects.filter(student=known["ended"]).update(
        customer_type="ordinary.maintenance")
    whole = type_figures_by_branch(AccountScore.objects.all(), ids, whole_branches=True)
    some = type_figures_by_branch(AccountScore.objects.all(), ids)
    assert whole == some
    by_type, revenue = whole
    assert by_type == {branch_a.pk: {"core.maintenance": 2, "ordinary.maintenance": 1},
                       branch_b.pk: {"maintain.maintenance": 1}}
    # Cancelled contracts are left out; money keeps its cents on either database.
    assert revenue[branch_a.pk]["core.maintenance"] == {"n": 2, "revenue": Decimal("13500.00")}
    assert revenue[branch_a.pk]["ordinary.recovery"] == {"n": 1, "revenue": Decimal("0")}
    caseload = AccountScore.objects.filter(student=known["risky"])
    assert type_figures_by_branch(caseload, [branch_a.pk]) == (
        {branch_a.pk: {"core.maintenance": 1}},
        {branch_a.pk: {t: ({"n": 1, "revenue": Decimal("6000.00")} if t == "core.maintenance"
                           else {"n": 0, "revenue": Decimal("0")}) for t in CUSTOMER_TYPES}})
    assert type_figures_by_branch(AccountScore.objects.none(), ids)[0] == {
        branch_a.pk: {}, branch_b.pk: {}}


@pytest.mark.parametrize("who", ["manager_a", "head_office"])
def test_snapshot_and_live_readers_agree(request, as_user, branch_a, branch_b, known, who):
    client = as_user(request.getfixturevalue(who))
    live, live_sql = _sql(client)
    assert set(live.context["sources"]) == {"live"}
    assert _pattern_sql(live_sql) and _type_sql(live_sql)
    refresh_snapshots(run=None, branch_ids=[branch_a.pk, branch_b.pk])
    stored, stored_sql = _sql(client)
    assert _figures(stored) == _figures(live)
    assert set(stored.context["sources"]) == {"snapshot"}
    assert not _pattern_sql(stored_sql) and not _type_sql(stored_sql)
    assert len(stored_sql) < len(live_sql)


def test_the_page_says_how_old_the_snapshot_is(as_user, manager_a, branch_a, known):
    client = as_user(manager_a)
    assert 'id="dash-as-of"' not in client.get(reverse("work:dashboard")).content.decode()
    at = timezone.now() - dt.timedelta(hours=3)
    refresh_snapshots(run=None, branch_ids=[branch_a.pk], now=at)
    response = client.get(reverse("work:dashboard"))
    assert response.context["snapshot_at"] == at
    assert response.context["type_as_of"] == [at] and response.context["pattern_as_of"] == [at]
    html = response.content.decode()
    assert 'id="dash-as-of"' in html and 'data-source="snapshot"' in html
    assert 'data-source="live"' not in html


def test_yesterdays_snapshot_serves_older_ones_do_not(as_user, manager_a, branch_a, known):
    client = as_user(manager_a)
    refresh_snapshots(run=None, branch_ids=[branch_a.pk],
                      now=timezone.now() - dt.timedelta(days=1))
    BranchSnapshot.objects.update(by_pattern={"I": 7})
    ctx = client.get(reverse("work:dashboard")).context
    assert {r["code"]: r["cells"] for r in ctx["pattern_rows"]}["I"] == [7]
    BranchSnapshot.objects.update(day=timezone.localdate() - dt.timedelta(days=2))
    ctx = client.get(reverse("work:dashboard")).context
    assert {r["code"]: r["cells"] for r in ctx["pattern_rows"]}["I"] == [0]
    assert ctx["snapshot_at"] is None


def test_a_snapshot_without_the_new_figures_falls_back_live(as_user, manager_a, branch_a,
                                                              known):
    """Rows written before by_pattern/type_revenue existed keep serving periods only."""
    BranchSnapshot.objects.create(branch=branch_a, day=timezone.localdate(),
                                  by_period={"growth": 40})
    response, sqls = _sql(as_user(manager_a))
    assert response.context["sources"] == ["snapshot"]
    assert response.context["type_as_of"] == [None] == response.context["pattern_as_of"]
    assert _pattern_sql(sqls) and _type_sql(sqls)
    assert {r["code"]: r["cells"] for r in response.context["pattern_rows"]}["II"] == [1]


def test_a_narrower_scope_never_reads_the_branch_snapshot(branch_a, counselor_a, counselor_a2,
                                                          manager_b, known):
    """A counselor's caseload is part of the branch: the snapshot's counts would be wrong."""
    refresh_snapshots(run=None, branch_ids=[branch_a.pk])
    BranchSnapshot.objects.update(by_pattern={"I": 99}, by_period={"growth": 99})
    assert dashboard.branch_snapshots(counselor_a, [branch_a.pk]) == {}
    assert dashboard.branch_snapshots(manager_b, [branch_a.pk]) == {}
    mine = dashboard.patterns(counselor_a, [branch_a.pk])
    assert mine["counts"][branch_a.pk]["II"] == 1 and mine["as_of"] == {branch_a.pk: None}
    assert dashboard.patterns(counselor_a2, [branch_a.pk])["counts"][branch_a.pk]["II"] == 0
    assert dashboard.period_counts(counselor_a2, [branch_a.pk])["counts"][branch_a.pk] == {}
    cells = dashboard.type_matrix(counselor_a2, [branch_a.pk])["cells"][branch_a.pk]
    assert sum(c["n"] for c in cells.values()) == 0


def test_snapshot_query_count_does_not_grow_with_branches(as_user, head_office, known):
    client = as_user(head_office)
    refresh_snapshots(run=None, branch_ids=list(Branch.objects.values_list("pk", flat=True)))
    client.get(reverse("work:dashboard"))
    two = _count(client)
    for _ in range(4):
        branch = BranchFactory()
        for period in ("growth", "at_risk", "termination", "maturity"):
            scored(branch, period=period)
    refresh_snapshots(run=None, branch_ids=list(Branch.objects.values_list("pk", flat=True)))
    assert _count(client) == two <= 16


def test_complaint_sla_reads_open_and_recent_only(manager_a, branch_a, known):
    now = timezone.now()
    ComplaintFactory(student=known["grow"], status="resolved", sla_due=now - dt.timedelta(days=9),
                     resolved_at=now - dt.timedelta(days=5), created_at=now - dt.timedelta(days=10))
    ComplaintFactory(student=known["grow"], status="resolved", sla_due=now - dt.timedelta(days=99),
                     resolved_at=now - dt.timedelta(days=90),
                     created_at=now - dt.timedelta(days=100))
    sla = dashboard.complaint_sla(manager_a, [branch_a.pk], since=now - dt.timedelta(days=30))
    assert sla[branch_a.pk] == {"open": 1, "overdue": 1, "resolved": 1, "resolved_late": 1}


def test_branch_wide_figures_keep_a_narrower_scope(counselor_a, counselor_a2, branch_a, known):
    """Flows and complaints skip the per-student scope only for whole-branch viewers."""
    since = timezone.now() - dt.timedelta(days=30)
    assert dashboard.complaint_sla(counselor_a, [branch_a.pk], since=since)[branch_a.pk][
        "open"] == 1
    assert dashboard.complaint_sla(counselor_a2, [branch_a.pk], since=since)[branch_a.pk][
        "open"] == 0
    assert sum(dashboard.flows(counselor_a, [branch_a.pk], since=since)[branch_a.pk]
               .values()) == 2
    assert dashboard.flows(counselor_a2, [branch_a.pk], since=since)[branch_a.pk] == {}
