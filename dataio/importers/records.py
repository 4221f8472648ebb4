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
from django.db.models import Sum
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
from students.services import (
    Lesson,
    ledger_charge_history,
    ledger_open_balances,
    prepayment_errors,
)

from .. import parsing
from ..constraints import validate_checks
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
    """The model's field and check-constraint rules, the constraints evaluated in Python
    (dataio.constraints: no query per row)."""
    try:
        obj.full_clean(exclude=exclude, validate_unique=False, validate_constraints=False)
        validate_checks(obj)
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
    as_of: dt.date | None = None


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
            as_of = r.get("balance_as_of", parsing.date, not_future=True)
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
                ended_on=(as_of or today) if remaining == 0 else None)
            if r.errors or not _clean(r, contract, ["student", "branch", "course", "class_group",
                                                    "sales_counselor"],
                                      {"valid_until": "valid_until", "discount": "discount"}):
                continue
            had_contract.add(sid)
            hours_left[sid] = (hours_left.get(sid) or ZERO) + remaining
            plan.items.append(ContractItem(r.row, contract, remaining, as_of))
            texts[r.row] = (Action.CREATE, _(
                "new contract %(no)s for %(name)s: %(hours)s hours, %(left)s left")
                % {"no": no, "name": student.name_zh, "hours": total, "left": remaining})
        return self.finish(plan, readers, texts)

    def apply(self, plan: Plan) -> dict[str, int]:
        """Contracts in bulk; their hours left become one opening entry each through the
        ledger service (students.services.ledger_open_balances)."""
        actor = self.ctx.user
        now = timezone.now()
        tz = timezone.get_current_timezone()
        created = entries = 0
        for batch in chunks(plan.items):
            contracts = Contract.objects.bulk_create([it.contract for it in batch])
            balances = [(c, it.remaining,
                         dt.datetime.combine(it.as_of, dt.time(23, 59), tzinfo=tz)
                         if it.as_of else now)
                        for it, c in zip(batch, contracts, strict=True)]
            entries += len(ledger_open_balances(balances=balances, actor=actor))
            created += len(contracts)
            self.ctx.progress(created)
        return {"contracts_created": created, "ledger_entries_created": entries}

    def placement(self, plan: Plan) -> tuple[set[int], dict[int, Any]]:
        return {it.contract.student_id for it in plan.items}, {}


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

    def placement(self, plan: Plan) -> tuple[set[int], dict[int, Any]]:
        return {p.contract.student_id for p in plan.items}, {}


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
            subject = self._subject(r, plan)
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

    def _subject(self, r: RowReader, plan: Plan) -> str | None:
        """The subject; names the built-in list lacks (奥数, 科学...) are mapped by the user
        in the page (options["values"]["subject"]) and listed for that until then."""
        raw = parsing.text(r.raw("subject"))
        chosen = (self.ctx.options.get("values") or {}).get("subject", {})
        if raw in chosen:
            return chosen[raw]
        if not raw:
            return r.get("subject")
        try:
            return parsing.subject(raw)
        except parsing.CellError as exc:
            unknown = plan.unknown_values.setdefault("subject", [])
            if raw not in unknown:
                unknown.append(raw)
            r.error("subject", exc.reason + " " + _("Map it to a subject in the page."))
            return None

    def apply(self, plan: Plan) -> dict[str, int]:
        n = 0
        for batch in chunks(plan.items):
            n += len(ExamScore.objects.bulk_create(batch))
            self.ctx.progress(n)
        return {"exam_scores_created": n}


# ------------------------------------------------------------------------ attendance
# A lesson without a time in the old system: 00:00 marks "time unknown".
NO_TIME = dt.time(0, 0)
DEFAULT_HOURS = Decimal("2")


@dataclass
class AttendanceItem:
    row: int
    group: ClassGroup | None  # None: the placeholder class of (branch, course)
    placeholder: tuple[int, int] | None
    date: dt.date
    start: dt.time
    end: dt.time
    hours: Decimal
    student_id: int
    status: str
    note: str

    @property
    def group_key(self) -> Any:
        return self.group.pk if self.group is not None else self.placeholder


def placeholder_name(course: Course) -> str:
    """The class that holds imported lessons of a course when the file names no class."""
    return _("%(course)s (imported lessons)") % {"course": course.name}


class AttendanceImporter(Importer):
    """Historic attendance. By default a fact only (the hours used arrive with the
    contract's opening balance); with the file option "consumes", attended lessons after
    a contract's opening date draw hours (students.services.ledger_charge_history)."""

    kind = ImportKind.ATTENDANCE

    def plan(self, sheet: Sheet) -> Plan:
        plan = Plan(kind=self.kind)
        readers = self.readers(sheet, plan)
        if readers is None:
            return plan
        refs = StudentRefs(self.ctx, readers)
        students = dict(Student.objects.filter(pk__in=refs.ids).values_list("pk", "branch_id"))
        groups = {(g.name.lower()): g for g in ClassGroup.objects.filter(
            branch_id__in=self.ctx.allowed_ids).select_related("branch", "course")}
        by_branch_name = {(g.branch_id, g.name): g for g in groups.values()}
        courses = list(Course.objects.filter(is_active=True))
        contracts: dict[int, list[tuple[dt.date, dt.date, int]]] = {}
        for part in chunks(sorted(refs.ids)):
            for sid, start, until, cid in Contract.objects.filter(student_id__in=part).order_by(
                    "signed_on").values_list("student_id", "valid_from", "valid_until",
                                             "course_id"):
                contracts.setdefault(sid, []).append((start, until, cid))
        course_by_id = {c.pk: c for c in courses}
        texts: dict[int, tuple[str, str]] = {}
        seen: dict[tuple[Any, ...], int] = {}
        rows: list[tuple[RowReader, AttendanceItem]] = []
        for r in readers:
            gname = r.get("class_group")
            course_raw = parsing.text(r.raw("course"))
            day = r.get("date", parsing.date, not_future=True)
            start = r.get("start_time", parsing.time)
            end = r.get("end_time", parsing.time)
            hours = r.get("hours", parsing.decimal, required=False, minimum=Decimal("0.25"))
            sid = refs.resolve(r)
            status = r.get("status", parsing.attendance_status)
            group = groups.get((gname or "").lower()) if gname else None
            if gname and group is None:
                r.error("class_group", _("Unknown class “%(value)s”.") % {"value": gname})
            if r.errors or sid is None:
                continue
            placeholder = None
            if group is None:
                branch_id = students[sid]
                course = None
                if course_raw:
                    course = next((c for c in courses if course_raw.lower() in (
                        c.code.lower(), c.name.lower()) and c.branch_id in (None, branch_id)),
                        None)
                    if course is None:
                        r.error("course", _("Unknown course “%(value)s”.")
                                % {"value": course_raw})
                        continue
                else:
                    mine = contracts.get(sid, [])
                    cid = next((c for f, u, c in mine if f <= day <= u),
                               mine[-1][2] if mine else None)
                    course = course_by_id.get(cid) if cid else None
                    if course is None:
                        r.error("class_group", _("Give the class or the course: the student "
                                                 "has no contract to take the course from."))
                        continue
                placeholder = (branch_id, course.pk)
                group = by_branch_name.get((branch_id, placeholder_name(course)))
                if group is not None:
                    placeholder = None
            start = start or NO_TIME
            if end is None:
                end = (dt.datetime.combine(day, start)
                       + dt.timedelta(hours=float(hours or DEFAULT_HOURS))).time()
            if end <= start:
                r.error("end_time", _("A lesson must end after it starts."))
                continue
            item = AttendanceItem(r.row, group, placeholder, day, start, end,
                                  hours or _hours(start, end), sid, status,
                                  parsing.text(r.raw("note"))[:200])
            key = (item.group_key, day, start, sid)
            if key in seen:
                r.error("date", _("Duplicate of row %(row)s.") % {"row": seen[key]})
                continue
            seen[key] = r.row
            rows.append((r, item))
        known = self._known([it for _r, it in rows])
        for r, it in rows:
            if (it.group_key, it.date, it.start, it.student_id) in known:
                texts[r.row] = (Action.MATCH, _("attendance already recorded"))
                continue
            plan.items.append(it)
            name = (it.group.name if it.group is not None
                    else placeholder_name(course_by_id[it.placeholder[1]]))
            texts[r.row] = (Action.CREATE, _("%(status)s at %(class)s on %(date)s")
                            % {"status": Attendance.Status(it.status).label, "class": name,
                               "date": it.date.isoformat()})
        return self.finish(plan, readers, texts)

    @staticmethod
    def _known(items: list[AttendanceItem]) -> set[tuple[Any, ...]]:
        """(group key, date, start, student) already recorded; set-based per class."""
        gids = sorted({it.group.pk for it in items if it.group is not None})
        known: set[tuple[Any, ...]] = set()
        for part in chunks(gids):
            for gid, day, start, sid in Attendance.objects.filter(
                    session__class_group_id__in=part).values_list(
                    "session__class_group_id", "session__date", "session__start_time",
                    "student_id"):
                known.add((gid, day, start, sid))
        return known

    def _placeholders(self, items: list[AttendanceItem]) -> dict[tuple[int, int], ClassGroup]:
        """The placeholder class of each (branch, course), created on first use."""
        out: dict[tuple[int, int], ClassGroup] = {}
        courses = {c.pk: c for c in Course.objects.filter(
            pk__in={it.placeholder[1] for it in items if it.placeholder})}
        for branch_id, course_id in sorted({it.placeholder for it in items if it.placeholder}):
            course = courses[course_id]
            out[(branch_id, course_id)], _new = ClassGroup.objects.get_or_create(
                branch_id=branch_id, name=placeholder_name(course)[:100],
                defaults={"course": course, "is_active": False})
        return out

    def apply(self, plan: Plan) -> dict[str, int]:
        actor = self.ctx.user
        n = sessions_created = 0
        placeholders = self._placeholders(plan.items)
        for it in plan.items:
            if it.group is None and it.placeholder is not None:
                it.group = placeholders[it.placeholder]
        consumes = bool(self.ctx.options.get("consumes"))
        lessons: list[Lesson] = []
        for batch in chunks(plan.items):
            slots = {(it.group.pk, it.date, it.start): it for it in batch}
            have: dict[tuple[Any, ...], int] = {}
            for gid in {k[0] for k in slots}:
                days = [k[1] for k in slots if k[0] == gid]
                for s in ClassSession.objects.filter(class_group_id=gid, date__in=days).values(
                        "pk", "date", "start_time"):
                    have[(gid, s["date"], s["start_time"])] = s["pk"]
            new = [ClassSession(class_group=it.group, date=it.date, start_time=it.start,
                                end_time=it.end, teacher_id=it.group.teacher_id,
                                hours=it.hours)
                   for key, it in slots.items() if key not in have]
            for s in ClassSession.objects.bulk_create(new):
                have[(s.class_group_id, s.date, s.start_time)] = s.pk
            sessions_created += len(new)
            rows = [Attendance(session_id=have[(it.group.pk, it.date, it.start)],
                               student_id=it.student_id, status=it.status, date=it.date,
                               recorded_by=actor, note=it.note) for it in batch]
            created = Attendance.objects.bulk_create(rows)
            if consumes:
                lessons += [Lesson(it.student_id, it.date, it.hours, a.pk)
                            for it, a in zip(batch, created, strict=True)
                            if it.status in Attendance.CONSUMING]
            n += len(created)
            self.ctx.progress(n)
        charged = ledger_charge_history(lessons=lessons, actor=actor) if consumes else {}
        return {"attendance_created": n, "sessions_created": sessions_created,
                **{f"lessons_{k}": v for k, v in charged.items()}}

    def placement(self, plan: Plan) -> tuple[set[int], dict[int, Any]]:
        return {it.student_id for it in plan.items}, {}


def _hours(start: dt.time, end: dt.time) -> Decimal:
    minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
    return (Decimal(minutes) / Decimal(60)).quantize(Decimal("0.01"))
