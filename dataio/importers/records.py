"""Contracts (opening balances), payments, exam scores and attendance history.

Each names an existing student by the previous system's student number (学员编号), or
by name and a guardian's phone (import students and parents first). Natural keys:
contract number; payment reference (else contract, amount and time); exam (student,
subject, exam name, date); attendance (session by class + date + start time, student).

Business rules stay in one place: prepayment caps come from
students.services.prepayment_errors (the same call contract_create makes); field and
check-constraint rules from the models' own validation.

Historic attendance is recorded as a fact only and does not draw hours: the hours a
student already used arrive with the contract's opening balance (剩余课时), so
drawing them again would count them twice.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from students.models import (
    Attendance,
    ClassGroup,
    ClassSession,
    Contract,
    ContractPolicy,
    Course,
    ExamScore,
    LedgerEntry,
    Payment,
    Student,
)
from students.services import prepayment_errors

from .. import parsing
from ..models import ImportKind
from ..readers import Sheet
from .base import (
    Action,
    Importer,
    Plan,
    RowReader,
    StudentRefs,
    chunks,
)

ZERO = Decimal("0")


def _clean(r: RowReader, obj: Any, exclude: list[str], fields: dict[str, str]) -> bool:
    """The model's field and check-constraint rules (one small query per constraint)."""
    try:
        obj.full_clean(exclude=exclude, validate_unique=False)
    except ValidationError as exc:
        r.model_errors(exc, fields)
        return False
    return True


# ------------------------------------------------------------------------- contracts
@dataclass
class ContractItem:
    row: int
    contract: Contract
    remaining: Decimal


class ContractImporter(Importer):
    kind = ImportKind.CONTRACTS

    def plan(self, sheet: Sheet) -> Plan:
        plan = Plan(kind=self.kind)
        readers = self.readers(sheet, plan)
        if readers is None:
            return plan
        refs = StudentRefs(self.ctx, readers)
        numbers = {parsing.text(r.raw("contract_no")) for r in readers}
        existing = {}
        for part in chunks(sorted(numbers)):
            existing.update({c["contract_no"]: c for c in Contract.objects.filter(
                contract_no__in=part).values("contract_no", "student_id")})
        courses = list(Course.objects.filter(is_active=True))
        ids = refs.ids
        students = {s.pk: s for s in Student.objects.filter(pk__in=ids).select_related("branch")}
        hours_left = dict(LedgerEntry.objects.filter(
            contract__student_id__in=ids,
            contract__status__in=[Contract.Status.ACTIVE, Contract.Status.COMPLETED])
            .values("contract__student_id").annotate(t=Sum("hours"))
            .values_list("contract__student_id", "t"))
        had_contract = set(Contract.objects.filter(student_id__in=ids, is_trial=False)
                           .values_list("student_id", flat=True))
        policies: dict[int, ContractPolicy] = {}
        seen: dict[str, int] = {}
        texts: dict[int, tuple[str, str]] = {}
        today = timezone.localdate()
        for r in readers:
            no = r.get("contract_no")
            sid = refs.resolve(r)
            course_raw = parsing.text(r.raw("course"))
            bought = r.get("hours_purchased", parsing.decimal, minimum=Decimal("0.01"))
            gifted = r.get("hours_gifted", parsing.decimal, required=False,
                           minimum=ZERO) or ZERO
            remaining = r.get("hours_remaining", parsing.decimal, required=False, minimum=ZERO)
            price = r.get("list_price", parsing.decimal, minimum=ZERO)
            discount = r.get("discount", parsing.decimal, required=False, minimum=ZERO) or ZERO
            signed = r.get("signed_on", parsing.date, not_future=True)
            start = r.get("valid_from", parsing.date) or signed
            until = r.get("valid_until", parsing.date)
            if no in seen:
                r.error("contract_no", _("Duplicate of row %(row)s.") % {"row": seen[no]})
                continue
            if no:
                seen[no] = r.row
            if no in existing:
                if sid and existing[no]["student_id"] != sid:
                    r.error("contract_no", _("Contract %(no)s belongs to another student.")
                            % {"no": no})
                elif not r.errors:
                    texts[r.row] = (Action.MATCH, _("contract %(no)s already imported")
                                    % {"no": no})
                continue
            student = students.get(sid) if sid else None
            course = None
            if course_raw and student is not None:
                course = next((c for c in courses if course_raw.lower() in (c.code.lower(),
                               c.name.lower()) and c.branch_id in (None, student.branch_id)),
                              None)
                if course is None:
                    r.error("course", _("Unknown course “%(value)s”.") % {"value": course_raw})
            elif not course_raw:
                r.error("course", _("This value is required."))
            if r.errors or student is None or course is None:
                continue
            total = bought + gifted
            if remaining is None:
                remaining = total
            if remaining > total:
                r.error("hours_remaining", _("Remaining hours (%(left)s) exceed the hours "
                                             "bought and gifted (%(total)s).")
                        % {"left": remaining, "total": total})
                continue
            is_renewal = sid in had_contract
            policy = policies.get(student.branch_id) or ContractPolicy.for_branch(
                student.branch_id)
            policies[student.branch_id] = policy
            for msg in prepayment_errors(policy=policy, hours_purchased=bought,
                                         valid_from=start, valid_until=until,
                                         is_renewal=is_renewal,
                                         hours_left=hours_left.get(sid) or ZERO):
                r.error("hours_purchased", msg)
            contract = Contract(
                contract_no=no, student=student, branch=student.branch, course=course,
                hours_purchased=bought, hours_gifted=gifted, list_price=price,
                discount=discount, valid_from=start, valid_until=until, signed_on=signed,
                is_renewal=is_renewal, sales_counselor_id=student.counselor_id,
                status=(Contract.Status.COMPLETED if remaining == 0 else Contract.Status.ACTIVE),
                ended_on=today if remaining == 0 else None)
            if r.errors or not _clean(r, contract, ["student", "branch", "course", "class_group",
                                                    "sales_counselor"],
                                      {"valid_until": "valid_until", "discount": "discount"}):
                continue
            had_contract.add(sid)
            hours_left[sid] = (hours_left.get(sid) or ZERO) + remaining
            plan.items.append(ContractItem(r.row, contract, remaining))
            texts[r.row] = (Action.CREATE, _(
                "new contract %(no)s for %(name)s: %(hours)s hours, %(left)s left")
                % {"no": no, "name": student.name_zh, "hours": total, "left": remaining})
        return self.finish(plan, readers, texts)

    def apply(self, plan: Plan) -> dict[str, int]:
        actor = self.ctx.user
        now = timezone.now()
        created = entries = 0
        for batch in chunks(plan.items):
            contracts = Contract.objects.bulk_create([it.contract for it in batch])
            ledger = []
            for it, c in zip(batch, contracts, strict=True):
                ledger.append(LedgerEntry(contract=c, kind=LedgerEntry.Kind.PURCHASED,
                                          hours=c.hours_purchased, occurred_at=now,
                                          created_by=actor, note=_("Opening balance (import)")))
                if c.hours_gifted:
                    ledger.append(LedgerEntry(contract=c, kind=LedgerEntry.Kind.GIFTED,
                                              hours=c.hours_gifted, occurred_at=now,
                                              created_by=actor))
                used = c.hours_purchased + c.hours_gifted - it.remaining
                if used > 0:
                    # Hours used before the import: one entry so the ledger sums to the
                    # remaining hours the old system showed.
                    ledger.append(LedgerEntry(contract=c, kind=LedgerEntry.Kind.CONSUMED,
                                              hours=-used, occurred_at=now, created_by=actor,
                                              note=_("Used before the import")))
            LedgerEntry.objects.bulk_create(ledger)
            created += len(contracts)
            entries += len(ledger)
            self.ctx.progress(created)
        return {"contracts_created": created, "ledger_entries_created": entries}


# -------------------------------------------------------------------------- payments
class PaymentImporter(Importer):
    kind = ImportKind.PAYMENTS

    def plan(self, sheet: Sheet) -> Plan:
        plan = Plan(kind=self.kind)
        readers = self.readers(sheet, plan)
        if readers is None:
            return plan
        numbers = sorted({parsing.text(r.raw("contract_no")) for r in readers})
        contracts: dict[str, Contract] = {}
        for part in chunks(numbers):
            contracts.update({c.contract_no: c for c in Contract.objects.filter(
                contract_no__in=part, branch_id__in=self.ctx.allowed_ids)})
        refs = sorted({parsing.text(r.raw("reference")) for r in readers} - {""})
        known_refs: set[str] = set()
        for part in chunks(refs):
            known_refs |= set(Payment.objects.filter(reference__in=part)
                              .values_list("reference", flat=True))
        known_plain = set(Payment.objects.filter(
            contract__in=list(contracts.values()), reference="")
            .values_list("contract_id", "amount", "paid_at"))
        texts: dict[int, tuple[str, str]] = {}
        seen: dict[Any, int] = {}
        for r in readers:
            no = r.get("contract_no")
            amount = r.get("amount", parsing.decimal, minimum=Decimal("0.01"))
            method = r.get("method", parsing.pay_method)
            day = r.get("paid_at", parsing.date, not_future=True)
            ref = parsing.text(r.raw("reference"))
            contract = contracts.get(no or "")
            if no and contract is None:
                r.error("contract_no", _("Unknown contract “%(value)s”.") % {"value": no})
            if r.errors or contract is None:
                continue
            paid_at = timezone.make_aware(dt.datetime.combine(day, dt.time(12)))
            key = ref or (contract.pk, amount, paid_at)
            if key in seen:
                r.error("reference", _("Duplicate of row %(row)s.") % {"row": seen[key]})
                continue
            seen[key] = r.row
            if (ref and ref in known_refs) or (not ref and key in known_plain):
                texts[r.row] = (Action.MATCH, _("payment already recorded"))
                continue
            payment = Payment(contract=contract, amount=amount, method=method, paid_at=paid_at,
                              reference=ref, recorded_by=self.ctx.user,
                              note=parsing.text(r.raw("note"))[:200])
            if not _clean(r, payment, ["contract", "recorded_by"], {"paid_at": "paid_at"}):
                continue
            plan.items.append(payment)
            texts[r.row] = (Action.CREATE, _("new payment of %(amount)s on contract %(no)s")
                            % {"amount": amount, "no": no})
        return self.finish(plan, readers, texts)

    def apply(self, plan: Plan) -> dict[str, int]:
        n = 0
        for batch in chunks(plan.items):
            n += len(Payment.objects.bulk_create(batch))
            self.ctx.progress(n)
        return {"payments_created": n}


# ----------------------------------------------------------------------------- exams
class ExamImporter(Importer):
    kind = ImportKind.EXAMS

    def plan(self, sheet: Sheet) -> Plan:
        plan = Plan(kind=self.kind)
        readers = self.readers(sheet, plan)
        if readers is None:
            return plan
        refs = StudentRefs(self.ctx, readers)
        ids = sorted(refs.ids)
        known: set[tuple[Any, ...]] = set()
        for part in chunks(ids):
            known |= set(ExamScore.objects.filter(student_id__in=part).values_list(
                "student_id", "subject", "exam_name", "exam_date"))
        texts: dict[int, tuple[str, str]] = {}
        seen: dict[tuple[Any, ...], int] = {}
        for r in readers:
            sid = refs.resolve(r)
            exam = r.get("exam_name")
            subject = r.get("subject", parsing.subject)
            score = r.get("score", parsing.decimal, minimum=ZERO)
            full = r.get("full_marks", parsing.decimal, required=False) or Decimal("150")
            day = r.get("exam_date", parsing.date, not_future=True)
            kind = r.get("exam_kind", parsing.exam_kind) or "quiz"
            if r.errors or sid is None:
                continue
            key = (sid, subject, exam, day)
            if key in seen:
                r.error("exam_name", _("Duplicate of row %(row)s.") % {"row": seen[key]})
                continue
            seen[key] = r.row
            if key in known:
                texts[r.row] = (Action.MATCH, _("exam result already recorded"))
                continue
            obj = ExamScore(student_id=sid, subject=subject, exam_name=exam, kind=kind,
                            exam_date=day, score=score, full_marks=full)
            if not _clean(r, obj, ["student"], {"exam_date": "exam_date"}):
                continue
            plan.items.append(obj)
            texts[r.row] = (Action.CREATE, _("new result %(exam)s %(score)s/%(full)s")
                            % {"exam": exam, "score": score, "full": full})
        return self.finish(plan, readers, texts)

    def apply(self, plan: Plan) -> dict[str, int]:
        n = 0
        for batch in chunks(plan.items):
            n += len(ExamScore.objects.bulk_create(batch))
            self.ctx.progress(n)
        return {"exam_scores_created": n}


# ------------------------------------------------------------------------ attendance
@dataclass
class AttendanceItem:
    row: int
    group: ClassGroup
    date: dt.date
    start: dt.time
    end: dt.time
    student_id: int
    status: str
    note: str


class AttendanceImporter(Importer):
    kind = ImportKind.ATTENDANCE

    def plan(self, sheet: Sheet) -> Plan:
        plan = Plan(kind=self.kind)
        readers = self.readers(sheet, plan)
        if readers is None:
            return plan
        refs = StudentRefs(self.ctx, readers)
        groups = {(g.name.lower()): g for g in ClassGroup.objects.filter(
            branch_id__in=self.ctx.allowed_ids).select_related("branch")}
        sessions = {(s.class_group_id, s.date, s.start_time): s.pk
                    for s in ClassSession.objects.filter(
                        class_group__in=list(groups.values()))}
        known = set(Attendance.objects.filter(session_id__in=list(sessions.values()))
                    .values_list("session_id", "student_id"))
        texts: dict[int, tuple[str, str]] = {}
        seen: dict[tuple[Any, ...], int] = {}
        for r in readers:
            gname = r.get("class_group")
            day = r.get("date", parsing.date, not_future=True)
            start = r.get("start_time", parsing.time)
            end = r.get("end_time", parsing.time)
            sid = refs.resolve(r)
            status = r.get("status", parsing.attendance_status)
            group = groups.get((gname or "").lower())
            if gname and group is None:
                r.error("class_group", _("Unknown class “%(value)s”.") % {"value": gname})
            if r.errors or group is None or sid is None:
                continue
            end = end or (dt.datetime.combine(day, start) + dt.timedelta(hours=2)).time()
            if end <= start:
                r.error("end_time", _("A lesson must end after it starts."))
                continue
            key = (group.pk, day, start, sid)
            if key in seen:
                r.error("name_zh", _("Duplicate of row %(row)s.") % {"row": seen[key]})
                continue
            seen[key] = r.row
            session_id = sessions.get((group.pk, day, start))
            if session_id and (session_id, sid) in known:
                texts[r.row] = (Action.MATCH, _("attendance already recorded"))
                continue
            plan.items.append(AttendanceItem(r.row, group, day, start, end, sid, status,
                                             parsing.text(r.raw("note"))[:200]))
            texts[r.row] = (Action.CREATE, _("%(status)s at %(class)s on %(date)s")
                            % {"status": Attendance.Status(status).label, "class": group.name,
                               "date": day.isoformat()})
        return self.finish(plan, readers, texts)

    def apply(self, plan: Plan) -> dict[str, int]:
        actor = self.ctx.user
        n = sessions_created = 0
        for batch in chunks(plan.items):
            slots = {(it.group.pk, it.date, it.start): it for it in batch}
            q = Q(pk__in=[])
            for gid, day, start in slots:
                q |= Q(class_group_id=gid, date=day, start_time=start)
            have = {(s.class_group_id, s.date, s.start_time): s.pk
                    for s in ClassSession.objects.filter(q)}
            new = [ClassSession(class_group=it.group, date=it.date, start_time=it.start,
                                end_time=it.end, teacher_id=it.group.teacher_id,
                                hours=_hours(it.start, it.end))
                   for key, it in slots.items() if key not in have]
            for s in ClassSession.objects.bulk_create(new):
                have[(s.class_group_id, s.date, s.start_time)] = s.pk
            sessions_created += len(new)
            rows = [Attendance(session_id=have[(it.group.pk, it.date, it.start)],
                               student_id=it.student_id, status=it.status, date=it.date,
                               recorded_by=actor, note=it.note) for it in batch]
            n += len(Attendance.objects.bulk_create(rows))
            self.ctx.progress(n)
        return {"attendance_created": n, "sessions_created": sessions_created}


def _hours(start: dt.time, end: dt.time) -> Decimal:
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    return (Decimal(minutes) / Decimal(60)).quantize(Decimal("0.01"))
