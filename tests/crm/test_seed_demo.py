"""seed_demo: deterministic, constraint-clean demo data whose facts match each period."""
from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db.models import Count, Q, Sum

from crm.models import StaffProfile
from crm.roles import Role
from lifecycle.demo import DEMO_PASSWORD, under_14
from lifecycle.periods import Period
from parents.models import ContactConsent, GuardianConsent, Parent
from parents.phones import normalize_phone
from students.models import (
    Attendance,
    Complaint,
    Contract,
    Interaction,
    LedgerEntry,
    Payment,
    Student,
)
from students.selectors import contract_balances, with_figures

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 5, 20)
N = 60


def seed(*args: str, students: int = N, seed: int = 7) -> str:
    out = StringIO()
    call_command("seed_demo", f"--students={students}", f"--seed={seed}",
                 f"--today={TODAY.isoformat()}", "--chunk-size=25", *args, stdout=out)
    return out.getvalue()


def digest() -> str:
    """Everything that must repeat with the same seed (ids and real-time stamps excluded)."""
    h = hashlib.sha256()
    for row in Student.objects.order_by("name_pinyin", "birth_date", "created_at").values_list(
            "name_zh", "name_pinyin", "grade", "birth_date", "school", "period",
            "previous_period", "period_since", "created_at", "decision_style", "branch__code",
            "counselor__username"):
        h.update(repr(row).encode())
    for row in Parent.objects.order_by("phone").values_list("name", "phone", "wechat_id",
                                                              "created_at"):
        h.update(repr(row).encode())
    for row in (contract_balances().order_by("contract_no")
                .values_list("contract_no", "student__name_zh", "hours_purchased",
                             "list_price", "discount", "status", "signed_on", "balance")):
        h.update(repr(row).encode())
    for row in (Attendance.objects.values("status").annotate(n=Count("pk")).order_by("status")
                .values_list("status", "n")):
        h.update(repr(row).encode())
    for row in Payment.objects.order_by("paid_at", "amount").values_list("amount", "reference",
                                                                          "paid_at"):
        h.update(repr(row).encode())
    h.update(repr(LedgerEntry.objects.aggregate(s=Sum("hours"))).encode())
    return h.hexdigest()


@pytest.fixture
def seeded() -> str:
    return seed()


def test_same_seed_and_date_give_identical_data():
    seed()
    first = digest()
    seed("--flush")
    assert digest() == first
    seed("--flush", seed=8)
    assert digest() != first


def test_refuses_to_seed_twice_without_flush_or_append(seeded):
    with pytest.raises(CommandError, match="--flush"):
        seed()
    assert Student.objects.count() == N
    seed("--append", students=10)
    assert Student.objects.count() == N + 10
    assert Parent.objects.values("phone").distinct().count() == Parent.objects.count()


def test_if_empty_seeds_an_empty_database_and_leaves_a_full_one_alone():
    seed("--if-empty", students=20)
    assert Student.objects.count() == 20
    seed("--if-empty", students=50)
    assert Student.objects.count() == 20


def test_students_scales_the_count():
    seed(students=25)
    assert Student.objects.count() == 25
    seed("--flush", students=90)
    assert Student.objects.count() == 90


def test_every_student_has_guardians_and_exactly_one_primary_contact(seeded):
    students = Student.objects.annotate(
        guardians=Count("guardianships"),
        primaries=Count("guardianships", filter=Q(guardianships__is_primary_contact=True)),
        deciders=Count("guardianships", filter=Q(guardianships__is_decision_maker=True)))
    for s in students:
        assert s.guardians >= 1 and s.primaries == 1, s
        if s.decision_style == "student_led":
            assert s.deciders == 0, s
        else:
            assert s.deciders >= 1, s


def test_siblings_share_parents(seeded):
    assert Parent.objects.annotate(n=Count("guardianships")).filter(n__gte=2).exists()


def test_phones_are_valid_unique_mainland_mobiles(seeded):
    phones = list(Parent.objects.values_list("phone", flat=True))
    assert len(phones) == len(set(phones))
    for phone in phones:
        assert phone.startswith("+861") and phone[4] in "3456789"
        assert normalize_phone(phone) == phone
    assert ContactConsent.objects.filter(channel="phone").count() == len(phones)


def test_balances_never_negative_and_consumption_matches_attendance(seeded):
    assert not contract_balances().filter(balance__lt=0).exists()
    assert not with_figures(Student.objects.all()).filter(remaining_hours__lt=0).exists()
    charged = Attendance.objects.filter(status__in=list(Attendance.CONSUMING))
    consumed = LedgerEntry.objects.filter(kind="consumed")
    assert consumed.count() == charged.count()
    assert not consumed.filter(Q(attendance__isnull=True) | Q(hours__gte=0)).exists()
    assert not charged.filter(ledger_entries__isnull=True).exists()
    assert not Attendance.objects.filter(date__gt=TODAY).exists()


def test_under_14s_have_a_guardian_consent(seeded):
    minors = [s for s in Student.objects.all() if under_14(s, TODAY)]
    assert minors, "the demo should contain primary and junior pupils"
    consented = set(GuardianConsent.objects.values_list("student_id", flat=True))
    assert all(s.pk in consented for s in minors)
    assert all(s.needs_guardian_consent(TODAY) for s in minors)


def test_periods_match_the_facts(seeded):
    paid = Contract.objects.filter(is_trial=False)
    students = Student.objects.annotate(
        paid=Count("contracts", filter=Q(contracts__is_trial=False)),
        renewals=Count("contracts", filter=Q(contracts__is_renewal=True)),
        active=Count("contracts", filter=Q(contracts__status="active", contracts__is_trial=False)),
        ended=Count("contracts", filter=Q(contracts__status__in=["refunded", "cancelled"])
                    | Q(contracts__refunds__status="requested")),
    )
    periods = set(students.values_list("period", flat=True))
    assert {Period.PROSPECTING, Period.GROWTH, Period.LAPSED} <= periods
    for s in students:
        if s.period == Period.PROSPECTING:
            assert s.paid == 0, s
        else:
            assert s.paid >= 1, s
        if s.period == Period.SOCIALIZATION:  # a won-back family: its new relationship
            ended = s.transitions.filter(to_period=Period.TERMINATION).order_by("-at").first()
            since = paid.filter(student=s)
            if ended is not None:
                since = since.filter(created_at__gt=ended.at)
            assert since.count() == 1 and not since.filter(is_renewal=True).exists(), s
            assert s.active == 1, s
        if s.period in (Period.GROWTH, Period.MATURITY):
            assert s.renewals >= 1 and s.active >= 1, s
        if s.period == Period.AT_RISK:
            assert s.previous_period in (Period.SOCIALIZATION, Period.GROWTH, Period.MATURITY)
        else:
            assert s.previous_period == ""
        if s.period == Period.LAPSED:
            assert s.active == 0, s
            assert not s.attendances.filter(date__gt=TODAY - dt.timedelta(days=100)).exists()
        assert s.period_since.date() <= TODAY
    assert paid.filter(is_renewal=True).exists() and paid.filter(status="refunded").exists()


def test_at_risk_students_have_a_recent_run_of_absences(seeded):
    for s in Student.objects.filter(period=Period.AT_RISK):
        last = list(s.attendances.order_by("-date").values_list("status", flat=True)[:3])
        assert last == ["absent"] * 3, s


def test_accounts_at_risk_now_were_flagged_by_a_score_over_the_threshold(seeded):
    """One fact counts once: the absences alone are below the threshold, so each account
    at risk now has its second fact as a row (a complaint still open past its deadline,
    made before the flag) and its flag's evidence reaches the threshold."""
    at_risk = Student.objects.filter(period=Period.AT_RISK)
    assert at_risk.exists()
    for s in at_risk:
        flag = s.transitions.filter(to_period=Period.AT_RISK).order_by("-at").first()
        assert flag.evidence["score"] >= flag.evidence["threshold"], (s, flag.evidence)
        assert s.complaints.exclude(status="resolved").filter(
            created_at__lt=flag.at, sla_due__lt=flag.at).exists(), s


def test_counterpart_and_complaint_rules_hold(seeded):
    assert not Interaction.objects.filter(with_whom="parent", parent__isnull=True).exists()
    assert not Interaction.objects.filter(with_whom="student", parent__isnull=False).exists()
    assert Interaction.objects.filter(with_whom="parent").exists()
    assert not Complaint.objects.filter(status="resolved", resolved_at__isnull=True).exists()
    assert not Complaint.objects.exclude(status="resolved").filter(
        resolved_at__isnull=False).exists()


def test_demo_logins_exist_with_roles_and_the_documented_password(seeded):
    out = seed("--flush")
    expected = {"headoffice": Role.HEAD_OFFICE, "manager1": Role.MANAGER,
                "counselor1": Role.COUNSELOR, "frontdesk1": Role.FRONT_DESK,
                "teacher1": Role.TEACHER, "manager3": Role.MANAGER, "counselor2": Role.COUNSELOR}
    for username, role in expected.items():
        assert username in out
        user = authenticate(username=username, password=DEMO_PASSWORD)
        assert user is not None and user.is_staff, username
        assert user.staff_profile.role == role
        assert user.groups.filter(name=role).exists()
        assert (user.staff_profile.branch is None) == (role == Role.HEAD_OFFICE)
    assert StaffProfile.objects.filter(role=Role.COUNSELOR, branch__code="xihu").count() >= 4
    assert DEMO_PASSWORD in out


def test_every_account_has_the_history_its_period_says(seeded):
    """The periods are walked, not set: each move follows the last, legally, and the
    latest one is the account's period and period_since (prospects have none)."""
    from lifecycle.models import Transition
    from lifecycle.periods import is_allowed

    for s in Student.objects.all():
        moves = list(Transition.objects.filter(student=s).order_by("at", "id"))
        if s.period == Period.PROSPECTING:
            assert moves == [], s
            continue
        assert moves and moves[0].from_period == Period.PROSPECTING, s
        for a, b in itertools.pairwise(moves):
            assert b.from_period == a.to_period and b.at > a.at, (s, a, b)
        assert all(is_allowed(m.from_period, m.to_period) for m in moves), s
        assert moves[-1].to_period == s.period and moves[-1].at == s.period_since, s
        assert moves[-1].at.date() <= TODAY
    assert Transition.objects.filter(to_period=Period.TERMINATION).exists()
