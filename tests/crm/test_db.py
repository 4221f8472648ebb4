"""crm.db bulk helpers: the COPY upsert and the converter-free reader give what the ORM
would, on either database, inside or outside a transaction."""
from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Count, Max
from django.utils import timezone

from crm.db import fetch_rows, upsert
from lifecycle.models import RiskState
from students.models import Attendance
from tests.factories import StudentFactory


@pytest.mark.django_db(transaction=True)
def test_upsert_inserts_updates_and_keeps_json_outside_a_transaction(branch_a):
    a, b = StudentFactory(branch=branch_a), StudentFactory(branch=branch_a)
    at = timezone.now().replace(microsecond=0)
    text = 'back\\slash "quote"\ttab\nline 中文'
    upsert(RiskState, [{"student_id": a.pk, "score": 10, "factors": [{"code": text}],
                        "clear_since": None, "changed_at": at}],
           conflict=["student_id"], update=["score", "factors", "changed_at"])
    upsert(RiskState, [{"student_id": a.pk, "score": 70, "factors": [], "clear_since": at,
                        "changed_at": at},
                       {"student_id": b.pk, "score": 5, "factors": {"k": [1, None]},
                        "clear_since": None, "changed_at": at}],
           conflict=["student_id"], update=["score", "factors"])
    first, second = (RiskState.objects.get(student=s) for s in (a, b))
    # Updated only the columns named; clear_since stays as first written.
    assert (first.score, first.factors, first.clear_since) == (70, [], None)
    assert (second.score, second.factors, second.changed_at) == (5, {"k": [1, None]}, at)
    upsert(RiskState, [{"student_id": b.pk, "score": 99, "factors": [{"code": text}],
                        "clear_since": None, "changed_at": at}],
           conflict=["student_id"], update=[])  # DO NOTHING
    assert RiskState.objects.get(student=b).score == 5
    upsert(RiskState, [{"student_id": StudentFactory(branch=branch_a).pk, "score": 1,
                        "factors": [{"code": text}], "clear_since": None,
                        "changed_at": at}], conflict=["student_id"], update=[])
    assert RiskState.objects.filter(factors__0__code=text).count() == 1


@pytest.mark.django_db
def test_fetch_rows_equals_the_orm_for_aggregates_and_dates(branch_a):
    from tests.lifecycle.conftest import attend

    student = StudentFactory(branch=branch_a)
    today = timezone.localdate()
    attend(student, [(3, "attended"), (2, "absent"), (1, "attended")])
    qs = (Attendance.objects.filter(student=student).values("student_id")
          .annotate(n=Count("pk"), last=Max("date")).values_list("student_id", "n", "last"))
    assert fetch_rows(qs) == list(qs) == [(student.pk, 3, today - dt.timedelta(days=1))]


@pytest.mark.django_db
def test_fetch_rows_are_the_orm_tuples_with_the_json_column_decoded(branch_a):
    student = StudentFactory(branch=branch_a)
    at = timezone.now().replace(microsecond=0)
    factors = [{"code": "contact", "value": None, "points": 10}]
    RiskState.objects.create(student=student, score=25, factors=factors, changed_at=at)
    qs = RiskState.objects.filter(student=student).values_list(
        "student_id", "score", "factors", "changed_at")
    assert fetch_rows(qs, json=2) == list(qs) == [(student.pk, 25, factors, at)]
    plain = RiskState.objects.filter(student=student).values_list("student_id", "score")
    assert fetch_rows(plain) == list(plain) == [(student.pk, 25)]


@pytest.mark.django_db
def test_stored_json_keeps_documents_as_written(branch_a):
    """AccountScore's breakdown and figures are `json` on PostgreSQL (no jsonb parsing on
    the nightly write); they read back as written, through the ORM and the COPY upsert."""
    from django.db import connection

    from lifecycle.models import AccountScore

    student = StudentFactory(branch=branch_a)
    doc = {"z": 1, "a": [0.5, None, "中文"], "m": {"y": True, "b": "back\\slash"}}
    row = {"student_id": student.pk, "branch_id": branch_a.pk, "period": "growth",
           "current_value": 50, "potential_value": 60, "segment": "ordinary",
           "customer_type": "ordinary.maintenance", "breakdown": doc, "figures": {"n": 2}}
    upsert(AccountScore, [row], conflict=["student_id"], update=["breakdown", "figures"])
    score = AccountScore.objects.get(student=student)
    assert (score.breakdown, score.figures) == (doc, {"n": 2})
    assert list(score.breakdown) == ["z", "a", "m"]  # key order as written
    score.figures = {"k": [1, 2]}
    score.save(update_fields=["figures"])
    assert AccountScore.objects.values_list("figures", flat=True).get(pk=score.pk) == {"k": [1, 2]}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT column_name, data_type FROM information_schema.columns "
                           "WHERE table_name = %s AND column_name IN %s ORDER BY 1",
                           [AccountScore._meta.db_table, ("breakdown", "figures", "risk_trail")])
            assert cursor.fetchall() == [("breakdown", "json"), ("figures", "json"),
                                         ("risk_trail", "jsonb")]


@pytest.mark.parametrize("value", [
    {"a": 1, "b": [1.5, None, True, False], "中文": "值"},
    ["back\\slash", "tab\there", "new\nline", "cr\r", "quote\"", "\x01 control", "\u2028"],
    {"nested": {"deep": [{"x": 0.1 + 0.2}]}, "empty": {}, "list": []},
    [],
    0.3333333333333333,
])
def test_copy_json_is_compact_json_escaped_for_copy(value):
    """The COPY rendering of a JSON column is what json.dumps gives, COPY-escaped."""
    import json

    from crm.db import _copy_escape, _copy_json

    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    assert _copy_json(value) == _copy_escape(expected)
    assert json.loads(_copy_json(value).replace("\\\\", "\\")) == value
