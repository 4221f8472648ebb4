"""Plans for the students side of the demo: the catalogue, packages (with their pre-drawn
roll calls), class groups and the weekly lesson schedule of a chain of renewals."""
from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from crm.db import BATCH_SIZE
from crm.demo import last_weekday_on_or_before, wchoice
from crm.models import Branch
from crm.roles import Role
from parents.models import Parent
from students.demo.vocabulary import (
    ABSENT,
    ATT,
    CONSUMING,
    FORMAT_PRICE,
    FORMAT_ZH,
    GRADE_ZH,
    LATE,
    LEAVE,
    LEVEL_FORMATS,
    LEVEL_SUBJECTS,
    SESSION_HOURS,
    SUBJECT_ZH,
    TEACHER_SUBJECTS,
    level_of,
)
from students.models import ClassGroup, Contract, Course, Student
from students.models.account import UNDER_14_GRADES


def course_key(grade: str) -> str:
    if grade in ("P1", "P2", "P3"):
        return "PL"
    if grade in ("P4", "P5", "P6"):
        return "PH"
    return grade


def build_courses(seed: int) -> dict[tuple[str, str, str], Course]:
    """The catalogue: per grade (primary: lower/upper), subject and format."""
    rng = random.Random(f"{seed}:courses")
    wanted = []
    for key in ["PL", "PH", "J1", "J2", "J3", "S1", "S2", "S3"]:
        level = key[0]
        subjects = list(LEVEL_SUBJECTS[level])
        if key == "J1":
            subjects = [s for s in subjects if s not in ("physics", "chemistry")]
        elif key == "J2":
            subjects = [s for s in subjects if s != "chemistry"]
        level_zh = {"PL": "小学低年级", "PH": "小学高年级"}.get(key) or GRADE_ZH[key]
        for subject in subjects:
            for fmt in LEVEL_FORMATS[level]:
                lo, hi = FORMAT_PRICE[(level, fmt)]
                wanted.append(Course(
                    code=f"demo-{key.lower()}-{subject}-{fmt.replace('_', '')}",
                    name=f"{level_zh}{SUBJECT_ZH[subject]}{FORMAT_ZH[fmt]}",
                    subject=subject, format=fmt, level=key,
                    unit_price=Decimal(rng.randrange(lo, hi + 1, 10)),
                ))
    existing = {c.code: c for c in Course.objects.filter(code__in=[w.code for w in wanted])}
    Course.objects.bulk_create([w for w in wanted if w.code not in existing],
                               batch_size=BATCH_SIZE)
    existing = {c.code: c for c in Course.objects.filter(code__in=[w.code for w in wanted])}
    return {(c.level, c.subject, c.format): c for c in existing.values()}



def teacher_subjects(by_branch: dict[int, dict[str, list]]) -> dict[int, str]:
    """Each branch's teachers cover the subjects in turn (teacher user id -> subject)."""
    return {t.pk: TEACHER_SUBJECTS[i % len(TEACHER_SUBJECTS)]
            for roles in by_branch.values() for i, t in enumerate(roles[Role.TEACHER])}


@dataclass
class ContractPlan:
    course: Course
    hours: int
    gifted: int
    is_trial: bool
    is_renewal: bool
    statuses: list[str]  # pre-drawn roll calls until the package is used up
    used: int = 0
    dates: list[dt.date] = field(default_factory=list)
    end: str = "active"  # active | completed | expired | refund | cancel
    refund_status: str = ""
    refund_at: dt.date | None = None
    refund_decided: dt.date | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    signed_on: dt.date | None = None
    obj: Contract | None = None


@dataclass
class GroupPlan:
    branch: Branch
    course: Course
    slot: tuple[int, dt.time, dt.time]
    teacher: object
    room: str = ""
    chains: int = 0
    dates: set[dt.date] = field(default_factory=set)
    active: bool = False
    obj: ClassGroup | None = None
    sessions: dict[dt.date, int] = field(default_factory=dict)  # date -> session id


@dataclass
class Chain:
    """Consecutive packages of one course in one class group (renewals follow on)."""

    course: Course
    contracts: list[ContractPlan]
    group: GroupPlan | None = None


@dataclass
class StudentPlan:
    student: Student
    guardians: list[tuple[Parent, str, bool, bool]]  # parent, relation, primary, decides
    period: str
    base: str  # the period the facts are built for (at_risk: the one it came from)
    main: Chain | None = None
    extra: Chain | None = None
    absence_run: int = 0
    end_date: dt.date | None = None
    end_kind: str = ""
    # A won-back account: its earlier relationship (ended at old_end) before `main`.
    old: Chain | None = None
    old_end: dt.date | None = None
    # Left for a reason outside the institution (moved, timetable): still satisfied.
    external_exit: bool = False
    # Its first ended relationship ran through an at-risk spell (absences) before the end.
    risk_before_end: bool = False
    maturity_on: dt.date | None = None  # the day it reached maturity, if it did
    # A recovered at-risk spell: (package, flagged on, attending again on, cleared on).
    spell: tuple | None = None
    maturity_satisfaction: float | None = None  # the latest survey's mean that day
    pre_surveys: list = field(default_factory=list)  # surveys planned with the history
    moves: list = field(default_factory=list)  # the dated history (lifecycle.demo_history)
    referrer: tuple | None = None  # (kind, Student, Parent) who sent this family

    @property
    def chains(self) -> list[Chain]:
        """Every chain of packages, oldest relationship first."""
        return [c for c in (self.old, self.main, self.extra) if c is not None]

    @property
    def paid(self) -> list[ContractPlan]:
        """The paid packages of the current relationship (main, then the cross-sell)."""
        return [c for ch in (self.main, self.extra) if ch for c in ch.contracts
                if not c.is_trial]


def draw_statuses(rng: random.Random, budget: int) -> list[str]:
    """Roll calls until the package (incl. gifted hours) is used up: never overdrawn."""
    seq, left = [], budget
    while left >= SESSION_HOURS:
        r = rng.random()
        status = ATT if r < 0.86 else LATE if r < 0.91 else LEAVE if r < 0.96 else ABSENT
        seq.append(status)
        if status in CONSUMING:
            left -= SESSION_HOURS
    return seq


def paid_package(rng: random.Random, course: Course, *, first: bool, renewal: bool) -> ContractPlan:
    if first:
        hours = rng.choice([20, 30, 40, 40, 60])
        gifted = rng.choice([2, 4]) if rng.random() < 0.15 else 0
    else:
        hours = rng.choices([40, 48, 60, 80, 100, 120], weights=[35, 20, 25, 12, 5, 3])[0]
        gifted = rng.choice([2, 4, 6, 10]) if rng.random() < 0.4 else 0
    return ContractPlan(course=course, hours=hours, gifted=gifted, is_trial=False,
                        is_renewal=renewal, statuses=draw_statuses(rng, hours + gifted))


def trial_package(course: Course) -> ContractPlan:
    return ContractPlan(course=course, hours=SESSION_HOURS, gifted=0, is_trial=True,
                        is_renewal=False, statuses=[ATT])


def pick_course(rng: random.Random, courses: dict[tuple[str, str, str], Course], grade: str,
                exclude: str = "") -> Course:
    level = level_of(grade)
    key = course_key(grade)
    subjects = {s: w for s, w in LEVEL_SUBJECTS[level].items()
                if s != exclude and any(k[0] == key and k[1] == s for k in courses)}
    subject = wchoice(rng, subjects)
    formats = {f: w for f, w in LEVEL_FORMATS[level].items() if (key, subject, f) in courses}
    return courses[(key, subject, wchoice(rng, formats))]


def validity(plan: ContractPlan, rng: random.Random) -> None:
    first = plan.dates[0] if plan.dates else plan.signed_on
    plan.valid_from = first - dt.timedelta(days=rng.randint(0, 6))
    plan.signed_on = plan.valid_from - dt.timedelta(days=rng.randint(0, 10))
    if plan.is_trial:
        plan.valid_until = plan.valid_from + dt.timedelta(days=30)
        return
    weeks = math.ceil(plan.hours / SESSION_HOURS / 0.9) + 4
    months = 6 if weeks <= 26 else 12 if weeks <= 52 else 18
    plan.valid_until = plan.valid_from + dt.timedelta(days=round(months * 30.5))
    if plan.dates:
        plan.valid_until = max(plan.valid_until, plan.dates[-1] + dt.timedelta(days=14))


def schedule_chain(rng: random.Random, chain: Chain, anchor: dt.date, last_used: int,
                    absences: int) -> None:
    """Lay the chain's lessons out weekly, backwards from `anchor` (its latest lesson).

    The last package has used `last_used` of its drawn roll calls, earlier ones all of
    theirs; the final `absences` lessons become absences (a run the risk scan will see).
    """
    weekday = chain.group.slot[0]
    day = last_weekday_on_or_before(anchor, weekday)
    paid = [c for c in chain.contracts if not c.is_trial]
    for i, plan in enumerate(reversed(paid)):
        plan.used = last_used if i == 0 else len(plan.statuses)
        plan.used = max(1, min(plan.used, len(plan.statuses)))
        plan.dates = [day - dt.timedelta(weeks=plan.used - 1 - k) for k in range(plan.used)]
        if i == 0 and absences:
            for k in range(max(0, plan.used - absences), plan.used):
                plan.statuses[k] = ABSENT
        day = plan.dates[0] - dt.timedelta(weeks=1 + rng.choice([0, 0, 0, 1, 2]))
    for plan in chain.contracts:
        if plan.is_trial:
            plan.used = 1
            first = paid[0].dates[0] if paid else anchor + dt.timedelta(weeks=1)
            plan.dates = [last_weekday_on_or_before(first, weekday)
                          - dt.timedelta(weeks=rng.randint(1, 2))]
    for plan in chain.contracts:
        validity(plan, rng)


def book(chain: Chain, *, active: bool) -> None:
    """Reserve the chain's lesson dates in its class group (sessions are made per date)."""
    for plan in chain.contracts:
        chain.group.dates.update(plan.dates)
    chain.group.active = chain.group.active or active



def under_14(student: Student, today: dt.date) -> bool:
    """The PIPL rule the generator follows (mirrors Student.needs_guardian_consent)."""
    if student.birth_date is None:
        return student.grade in UNDER_14_GRADES
    return (student.age_on(today) or 0) < settings.PIPL_CONSENT_AGE
