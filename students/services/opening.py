"""Ledger writes for accounts brought over from a previous system (dataio imports).

Two rules, one place:
- a contract's hours left on a date become ONE opening entry (never a made-up history
  of purchases and lessons, whose "consumption" at import time would look like a burst
  of lessons to the hours signal);
- imported attendance that consumes draws each lesson from the contract valid that day
  whose validity ends first and still has hours (the rule roll call uses), but never a
  lesson on or before the contract's opening date: those are inside its opening balance.

Both are set-based: a 50,000-row import writes them in a few statements.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Min, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from students.models import Attendance, Contract, LedgerEntry

ZERO = Decimal("0")


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def ledger_open_balances(*, balances: list[tuple[Contract, Decimal, dt.datetime]],
                         actor: Any = None) -> list[LedgerEntry]:
    """One OPENING entry per (saved contract, hours left, as of); none for zero hours.

    Refuses hours below zero or above what the contract bought and was given.
    """
    entries = []
    for contract, hours, as_of in balances:
        total = contract.hours_purchased + contract.hours_gifted
        if hours < ZERO or hours > total:
            raise ValidationError({"hours_remaining": _(
                "Remaining hours (%(left)s) must be between 0 and the hours bought and "
                "gifted (%(total)s).") % {"left": hours, "total": total}})
        if hours > ZERO:
            entries.append(LedgerEntry(contract=contract, kind=LedgerEntry.Kind.OPENING,
                                       hours=hours, occurred_at=as_of, created_by=_user(actor),
                                       note=_("Hours left in the previous system")))
    return LedgerEntry.objects.bulk_create(entries, batch_size=2000)


@dataclass
class Lesson:
    """An imported attended lesson to charge: whose, when, how long, its attendance row."""

    student_id: int
    date: dt.date
    hours: Decimal
    attendance_id: int


def ledger_charge_history(*, lessons: list[Lesson], actor: Any = None) -> dict[str, int]:
    """Charge imported lessons to the students' contracts; returns counts.

    Lessons with no contract that has hours that day are left uncharged and counted
    (an old export often has lessons of packages it does not list).
    """
    if not lessons:
        return {"charged": 0, "not_charged": 0}
    student_ids = {ls.student_id for ls in lessons}
    contracts: dict[int, list[dict[str, Any]]] = {}
    rows = (Contract.objects.filter(student_id__in=student_ids,
                                    status__in=[Contract.Status.ACTIVE,
                                                Contract.Status.COMPLETED])
            .annotate(balance=Sum("ledger__hours"))
            .values("id", "student_id", "valid_from", "valid_until", "balance"))
    opening = dict(LedgerEntry.objects.filter(contract__student_id__in=student_ids,
                                              kind=LedgerEntry.Kind.OPENING)
                   .values("contract_id").annotate(at=Min("occurred_at"))
                   .values_list("contract_id", "at"))
    for c in rows:
        c["balance"] = c["balance"] or ZERO
        at = opening.get(c["id"])
        c["opened_on"] = timezone.localdate(at) if at else None
        contracts.setdefault(c["student_id"], []).append(c)
    for cs in contracts.values():
        cs.sort(key=lambda c: (c["valid_until"], c["id"]))
    entries: list[LedgerEntry] = []
    charged_to: dict[int, int] = {}
    skipped = 0
    tz = timezone.get_current_timezone()
    for ls in sorted(lessons, key=lambda x: (x.date, x.attendance_id)):
        mine = contracts.get(ls.student_id, [])
        if any(c["opened_on"] and ls.date <= c["opened_on"] and c["valid_from"] <= ls.date
               for c in mine):
            continue  # already inside an opening balance
        target = next((c for c in mine if c["valid_from"] <= ls.date <= c["valid_until"]
                       and c["balance"] >= ls.hours), None)
        if target is None:
            skipped += 1
            continue
        target["balance"] -= ls.hours
        charged_to[ls.attendance_id] = target["id"]
        entries.append(LedgerEntry(
            contract_id=target["id"], kind=LedgerEntry.Kind.CONSUMED, hours=-ls.hours,
            attendance_id=ls.attendance_id, created_by=_user(actor),
            occurred_at=dt.datetime.combine(ls.date, dt.time(12), tzinfo=tz)))
    LedgerEntry.objects.bulk_create(entries, batch_size=2000)
    _set_contracts(sorted(charged_to.items()))
    charged = set(charged_to.values())
    used_up = [c["id"] for cs in contracts.values() for c in cs
               if c["balance"] == ZERO and c["id"] in charged]
    Contract.objects.filter(pk__in=used_up, status=Contract.Status.ACTIVE).update(
        status=Contract.Status.COMPLETED, ended_on=timezone.localdate(),
        updated_at=timezone.now())
    return {"charged": len(entries), "not_charged": skipped}


def _set_contracts(pairs: list[tuple[int, int]]) -> None:
    """Attendance.contract for (attendance, contract) pairs: one UPDATE ... FROM (VALUES)
    per thousand (an ORM CASE per row costs ~4 ms a row to compile)."""
    table = connection.ops.quote_name(Attendance._meta.db_table)
    with connection.cursor() as cursor:
        for i in range(0, len(pairs), 1000):
            part = pairs[i:i + 1000]
            values = ", ".join(["(%s, %s)"] * len(part))
            # A CTE rather than UPDATE ... FROM: SQLite (the default test database)
            # does not name a VALUES list's columns.
            cursor.execute(
                f"WITH v(a, c) AS (VALUES {values}) UPDATE {table} SET contract_id = "
                f"(SELECT v.c FROM v WHERE v.a = {table}.id) WHERE id IN (SELECT a FROM v)",
                [x for pair in part for x in pair])
