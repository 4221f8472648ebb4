"""Writes the students side of a demo chunk: class groups and sessions, contracts, roll
calls, the lesson-hour ledger (never negative), refunds and payments.

Called by the orchestrator in lifecycle/demo.py with its chunk builder `b`."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from crm.db import BATCH_SIZE, db_datetime, db_time, temporals_as_text
from crm.demo import has_field, local_dt
from crm.roles import Role
from lifecycle.periods import Period
from students.demo.plans import ContractPlan, StudentPlan
from students.demo.vocabulary import CAPACITY, CONSUMING, REFUND_REASONS, SESSION_HOURS, level_of
from students.models import (
    Attendance,
    ClassGroup,
    ClassSession,
    Contract,
    LedgerEntry,
    Payment,
    Refund,
)

if TYPE_CHECKING:
    from lifecycle.demo import ChunkBuilder


def write_lessons(b: ChunkBuilder) -> None:
    """Classes and sessions, contracts, roll calls, the hours ledger, refunds and payments."""
    rng, world = b.rng, b.world
    text = temporals_as_text()

    def ts(value: dt.datetime) -> object:
        return db_datetime(value, text)

    # class groups (new ones inserted, reopened ones updated) and their sessions
    new_groups, changed = [], []
    for g in b.touched.values():
        if not g.dates:
            continue
        state = (min(g.dates), None if g.active else max(g.dates), g.active)
        if g.obj is None:
            n = world.group_seq.get(g.branch.pk, 0) + 1
            world.group_seq[g.branch.pk] = n
            suffix = f"{n}班" if g.course.format != "one_to_one" else f"{n}号"
            g.obj = ClassGroup(
                branch=g.branch, course=g.course, name=f"{g.course.name}{suffix}",
                teacher=g.teacher, capacity=CAPACITY[g.course.format], start_date=state[0],
                end_date=state[1], is_active=state[2])
            new_groups.append(g.obj)
        elif state != (g.obj.start_date, g.obj.end_date, g.obj.is_active):
            g.obj.start_date, g.obj.end_date, g.obj.is_active = state
            changed.append(g.obj)
    b.put(ClassGroup, new_groups)
    ClassGroup.objects.bulk_update(changed, ["start_date", "end_date", "is_active"],
                                   batch_size=BATCH_SIZE)
    session_rows, session_keys = [], []
    for g in b.touched.values():
        _wd, start_t, end_t = g.slot
        for day in sorted(g.dates - g.sessions.keys()):
            session_rows.append((g.obj.pk, day, db_time(start_t), db_time(end_t),
                                 Decimal(SESSION_HOURS), g.teacher.pk, g.room))
            session_keys.append((g, day))
    ids = b.raw(ClassSession, ["class_group_id", "date", "start_time", "end_time",
                                   "hours", "teacher_id", "room"], session_rows,
                    returning=True)
    for (g, day), pk in zip(session_keys, ids, strict=True):
        g.sessions[day] = pk

    # contracts
    contracts = []
    track_end = has_field(Contract, "ended_on")  # the day a contract closed, if tracked
    closed = {Contract.Status.COMPLETED, Contract.Status.EXPIRED, Contract.Status.REFUNDED,
              Contract.Status.CANCELLED}
    for sp in b.plans:
        for chain in sp.chains:
            if chain is None:
                continue
            for c in chain.contracts:
                world.contract_seq += 1
                price = Decimal(c.hours) * c.course.unit_price
                discount = Decimal(0)
                if c.is_trial:
                    price = Decimal(0)
                elif rng.random() < (0.6 if c.is_renewal else 0.3):
                    discount = (price * Decimal(rng.choice([5, 8, 10, 12, 15])) / 100
                                ).quantize(Decimal("10"))
                status = {"active": Contract.Status.ACTIVE,
                          "completed": Contract.Status.COMPLETED,
                          "expired": Contract.Status.EXPIRED,
                          "cancel": Contract.Status.CANCELLED,
                          "refund": Contract.Status.REFUNDED}[c.end]
                if c.end == "refund" and c.refund_status == Refund.Status.REQUESTED:
                    status = Contract.Status.ACTIVE  # pending: nothing returned yet
                c.obj = Contract(
                    contract_no=f"HT{c.signed_on:%y%m}{world.contract_seq:07d}",
                    student=sp.student, branch=sp.student.branch, course=c.course,
                    class_group=chain.group.obj, hours_purchased=Decimal(c.hours),
                    hours_gifted=Decimal(c.gifted), list_price=price, discount=discount,
                    valid_from=c.valid_from, valid_until=c.valid_until, signed_on=c.signed_on,
                    status=status, is_renewal=c.is_renewal, is_trial=c.is_trial,
                    sales_counselor=sp.student.counselor,
                    created_at=local_dt(c.signed_on, rng.randint(9, 20), rng.randint(0, 59)))
                if track_end and status in closed:
                    c.obj.ended_on = (c.valid_until if status == Contract.Status.EXPIRED
                                      else c.dates[-1] if status == Contract.Status.COMPLETED
                                      else c.refund_decided or c.refund_at)
                contracts.append(c.obj)
                if not c.is_trial:
                    b.stats.revenue_by_level[level_of(sp.student.grade)] += \
                        float(price - discount)
    b.put(Contract, contracts)

    # attendance, then the ledger that points at it
    attendance_rows, consumed = [], []
    minus = -Decimal(SESSION_HOURS)
    for sp in b.plans:
        for chain in sp.chains:
            if chain is None:
                continue
            teacher = chain.group.teacher.pk
            sessions = chain.group.sessions
            end_t = chain.group.slot[2]
            for c in chain.contracts:
                for day, status in zip(c.dates, c.statuses[:c.used], strict=True):
                    at = ts(local_dt(day, end_t.hour, end_t.minute))
                    charged = status in CONSUMING
                    attendance_rows.append((sessions[day], sp.student.pk, status, day,
                                            c.obj.pk if charged else None, teacher, at, ""))
                    consumed.append((c.obj.pk, at, teacher) if charged else None)
    att_ids = b.raw(Attendance, ["session_id", "student_id", "status", "date",
                                     "contract_id", "recorded_by_id", "recorded_at", "note"],
                        attendance_rows, returning=True)

    ledger = []
    for sp in b.plans:
        counselor = sp.student.counselor.pk if sp.student.counselor else None
        for chain in sp.chains:
            if chain is None:
                continue
            for c in chain.contracts:
                at = ts(local_dt(c.signed_on, 11))
                ledger.append((c.obj.pk, "purchased", Decimal(c.hours), at, None, "",
                               counselor, None))
                if c.gifted:
                    ledger.append((c.obj.pk, "gifted", Decimal(c.gifted), at, None,
                                   "赠送课时", counselor, None))
    for entry, att_id in zip(consumed, att_ids, strict=True):
        if entry is not None:
            ledger.append((entry[0], "consumed", minus, entry[1], att_id, "", entry[2],
                           None))
    refunds, payments = [], []
    for sp in b.plans:
        manager = world.staff[sp.student.branch.pk][Role.MANAGER][0]
        front = world.staff[sp.student.branch.pk][Role.FRONT_DESK]
        for chain in sp.chains:
            if chain is None:
                continue
            for c in chain.contracts:
                _money(b, c, sp, manager, front, ledger, refunds, payments)
    b.put(Refund, refunds)
    columns = ["contract_id", "kind", "hours", "occurred_at", "attendance_id", "note",
               "created_by_id"]
    if has_field(LedgerEntry, "refund"):  # refunded hours point at their refund
        columns.append("refund_id")
        ledger = [(*r[:7], r[7].pk if r[7] is not None else None) for r in ledger]
    else:
        ledger = [r[:7] for r in ledger]
    b.raw(LedgerEntry, columns, ledger)
    b.put(Payment, payments)


def _money(b: ChunkBuilder, c: ContractPlan, sp: StudentPlan, manager, front: list,
           ledger: list, refunds: list, payments: list) -> None:
    """Refunds/expiry entries of a package and the payments that paid for it."""
    rng, world, today = b.rng, b.world, b.today
    consumed = SESSION_HOURS * sum(1 for s in c.statuses[:c.used] if s in CONSUMING)
    balance = c.hours + c.gifted - consumed
    obj = c.obj
    if c.end in ("refund", "cancel") and balance > 0:
        refundable = min(balance, max(0, c.hours - consumed))
        amount = (Decimal(refundable) * obj.amount / obj.hours_purchased).quantize(
            Decimal("0.01"))
        requested = local_dt(c.refund_at, rng.randint(9, 18))
        decided = None
        if c.refund_decided is not None:
            decided = max(requested, local_dt(c.refund_decided, rng.randint(9, 18)))
        refund = Refund(contract=obj, status=c.refund_status,
                        hours=Decimal(refundable), amount=amount,
                        reason=rng.choice(REFUND_REASONS), requested_at=requested,
                        decided_by=manager if decided else None, decided_at=decided)
        refunds.append(refund)
        if decided is not None:
            if refundable:
                ledger.append((obj.pk, "refunded", -Decimal(refundable),
                               db_datetime(decided), None, "退费", manager.pk, refund))
            if balance > refundable:
                ledger.append((obj.pk, "expired", -Decimal(balance - refundable),
                               db_datetime(decided), None, "赠送课时随退费作废", manager.pk,
                               refund))
    elif balance > 0 and c.valid_until < today and c.end != "active":
        ledger.append((obj.pk, "expired", -Decimal(balance),
                       db_datetime(local_dt(c.valid_until, 23, 59)), None, "合同到期", None, None))
    if sp.period == Period.AT_RISK and c is sp.main.contracts[-1] and rng.random() < 0.1:
        refunds.append(Refund(contract=obj, status=Refund.Status.REJECTED, hours=Decimal(0),
                              amount=Decimal(0), reason="家长要求退费，协商后继续上课",
                              requested_at=local_dt(today - dt.timedelta(days=rng.randint(1, 10))),
                              decided_by=manager, decided_at=local_dt(today, 9)))
    amount = obj.amount
    if amount <= 0:
        return
    method = rng.choices(["wechat", "alipay", "card", "transfer", "cash"],
                         weights=[45, 25, 15, 8, 7])[0]
    parts = [amount]
    if rng.random() < 0.15 and amount > 2000:
        first = (amount * Decimal("0.6")).quantize(Decimal("1"))
        parts = [first, amount - first]
    for i, part in enumerate(parts):
        paid_on = c.signed_on + dt.timedelta(days=30 * i)
        if paid_on > today:
            break  # the second instalment is still owed
        world.payment_seq += 1
        ref = "" if method == "cash" else (
            {"wechat": "4200", "alipay": "2088", "card": "6225", "transfer": "TRF"}[method]
            + f"{paid_on:%Y%m%d}{world.payment_seq:010d}")
        payments.append(Payment(contract=obj, amount=part, method=method,
                                paid_at=local_dt(paid_on, rng.randint(9, 20), rng.randint(0, 59)),
                                reference=ref, recorded_by=rng.choice(front),
                                note="" if len(parts) == 1 else f"分期 {i + 1}/{len(parts)}"))
