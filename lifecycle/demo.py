"""Demo data for the quickstart, the admin and load tests (`manage.py seed_demo`): the
orchestrator. Each domain seeds its own rows (crm/demo.py: branches and staff;
parents/demo.py: families; marketing/demo.py: channels; students/demo/: courses, lessons,
money, engagement); this module tells each account's lifecycle story and drives the chunks.

Why a generator and not fixtures: an institution only looks real with thousands of
interlocking facts (families, contracts, lessons, hours, complaints) that obey every
DB constraint and tell a consistent lifecycle story per student, and load tests need
100,000 students. So everything is drawn from a seeded `random.Random` relative to a
fixed reference date (same seed + date -> the same data) and written with
`bulk_create` in chunks of students, one transaction per chunk, memory bounded.

Each student first gets a *story* (the lifecycle period it is in today), and the facts
are derived from it: contracts, weekly lessons and attendance, the lesson-hour ledger
(never negative), payments, refunds, exams, contacts, complaints and surveys; then the
dated history those facts imply (lifecycle/demo_history.py: every move proposed by the
lifecycle rules and checked against the period table), and the account's period fields
are where that history leads. Some stories end (a refund, hours used up, expiry; some
after an at-risk spell, some for reasons outside the institution), some lapse, and some
lapsed families come back (win-back). Every family has its lead (pool, tier, pipeline)
and those who came by word of mouth their referrer (marketing/demo.py).
"""
from __future__ import annotations

import datetime as dt
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from django.db import connection, models, transaction
from django.utils.translation import gettext as _

from crm.demo import (
    BOY_NAMES,
    BRANCHES,
    DEMO_PASSWORD,
    ENGLISH_NAMES,
    GIRL_NAMES,
    PhoneNumbers,
    SeedOptions,
    Stats,
    Writer,
    build_staff,
    flush_seeded,
    historic_created_at,
    last_weekday_on_or_before,
    local_dt,
    login_table,
    name_keys,
    school_year_start,
    wchoice,
)
from crm.models import Branch
from crm.roles import Role
from lifecycle import demo_history
from lifecycle.models import PolicyValues, Transition
from lifecycle.periods import Period
from lifecycle.selectors import policies_by_branch
from marketing import demo as marketing_demo
from marketing.demo import active_channels, draw_source
from marketing.models import Channel, ExitInterview, PipelineStep, Prospect, Referral
from marketing.selectors.policy import policies_by_branch as marketing_policies
from parents import demo as parents_demo
from parents.models import ContactConsent, GuardianConsent, Guardianship, Parent
from students.demo.engagement import maturity_survey, write_engagement
from students.demo.lessons import write_lessons
from students.demo.plans import (
    Chain,
    GroupPlan,
    StudentPlan,
    book,
    build_courses,
    paid_package,
    pick_course,
    schedule_chain,
    teacher_subjects,
    trial_package,
    under_14,
    validity,
)
from students.demo.vocabulary import (
    ABSENT,
    ATT,
    CHAINS_PER_GROUP,
    CONSUMING,
    GOALS,
    GRADES,
    LEVEL_SUBJECTS,
    PERSONALITIES,
    PREFERENCES,
    SCHOOLS,
    SLOTS,
    SUBJECT_ZH,
    UNIVERSITIES,
    level_of,
)
from students.models import (
    Attendance,
    ClassGroup,
    ClassSession,
    Complaint,
    Contract,
    Course,
    ExamScore,
    Interaction,
    LedgerEntry,
    Payment,
    Refund,
    SatisfactionSurvey,
    Student,
)

__all__ = ["BRANCHES", "DEMO_PASSWORD", "SeedOptions", "Stats", "World", "login_table",
           "under_14"]

# Today's period of each student; the facts are generated to match it.
PERIOD_WEIGHTS = {
    Period.PROSPECTING: 20, Period.SOCIALIZATION: 15, Period.GROWTH: 20, Period.MATURITY: 12,
    Period.AT_RISK: 8, Period.TERMINATION: 8, Period.LAPSED: 17,
}
ACTIVE_PERIODS = (Period.SOCIALIZATION, Period.GROWTH, Period.MATURITY)


@dataclass
class World:
    """Shared, already-saved objects (branches, staff, courses) and running counters."""

    opts: SeedOptions
    branches: list[Branch]
    staff: dict[int, dict[str, list]]  # branch id -> role -> users
    teacher_subject: dict[int, str]
    head_office: object
    courses: dict[tuple[str, str, str], Course]  # (grade or level key, subject, format)
    channels: list[Channel]
    channel_weights: list[int]
    phones: PhoneNumbers
    password_hash: str
    contract_seq: int = 0
    payment_seq: int = 0
    group_seq: dict[int, int] = field(default_factory=dict)
    policies: dict = field(default_factory=dict)  # branch id -> lifecycle PolicyValues
    marketing_policies: dict = field(default_factory=dict)  # branch id -> MarketingPolicy
    reward_policy: object = None  # what a referrer earns
    churn_reasons: dict = field(default_factory=dict)  # code -> ChurnReason id
    referrers: dict = field(default_factory=dict)  # branch id -> earlier referrer candidates
    open_groups: dict[tuple[int, int, str], GroupPlan] = field(default_factory=dict)


def existing_student_count() -> int:
    return Student.objects.count()


def build_world(opts: SeedOptions, *, append: bool = False) -> World:
    """Branches, role groups, staff logins and courses: created once, reused by chunks."""
    staff = build_staff(opts)
    channels, channel_weights = active_channels()
    taken: set[str] = set()
    start = 0
    if append:
        taken = set(Parent.objects.values_list("phone", flat=True))
        start = len(taken)
    world = World(
        opts=opts, branches=staff.branches, staff=staff.by_branch,
        teacher_subject=teacher_subjects(staff.by_branch), head_office=staff.head_office,
        courses=build_courses(opts.seed), channels=channels, channel_weights=channel_weights,
        phones=PhoneNumbers(opts.seed, start=start, taken=taken),
        password_hash=staff.password_hash,
        policies=policies_by_branch([b.pk for b in staff.branches]),
        marketing_policies=marketing_policies([b.pk for b in staff.branches]),
        reward_policy=marketing_demo.reward_policy(),
        churn_reasons=marketing_demo.churn_reasons(),
    )
    if append:
        world.contract_seq = Contract.objects.count()
        world.payment_seq = Payment.objects.count()
        world.group_seq = dict(ClassGroup.objects.values("branch").annotate(n=models.Count("pk"))
                               .values_list("branch", "n"))
    return world


# --------------------------------------------------------------------------- the story


def _plan_story(rng: random.Random, world: World, sp: StudentPlan) -> None:
    """Choose contracts (and their pre-drawn attendance) that fit the student's period."""
    grade = sp.student.grade
    course = pick_course(rng, world.courses, grade)
    if sp.period == Period.PROSPECTING:
        if rng.random() < 0.35:
            sp.main = Chain(course, [trial_package(course)])
        return
    base = sp.base
    if base == Period.SOCIALIZATION:
        n = 1
    elif base == Period.GROWTH:
        n = 2
    elif base == Period.MATURITY:
        n = rng.choice([3, 3, 4])
    else:  # ended: early abort (I), mid-way (II) or early exit (III)
        n = rng.choices([1, 2, 3], weights=[55, 30, 15])[0]
    contracts = [paid_package(rng, course, first=i == 0, renewal=i > 0) for i in range(n)]
    if rng.random() < 0.4:
        contracts.insert(0, trial_package(course))
    sp.main = Chain(course, contracts)
    if sp.old_end is not None:
        old = [paid_package(rng, course, first=i == 0, renewal=i > 0)
               for i in range(rng.choice([1, 1, 2]))]
        sp.old = Chain(course, old)
    if base in (Period.GROWTH, Period.MATURITY) and rng.random() < 0.25:
        other = pick_course(rng, world.courses, grade, exclude=course.subject)
        sp.extra = Chain(other, [paid_package(rng, other, first=False, renewal=True)])


def _schedule(rng: random.Random, sp: StudentPlan, today: dt.date) -> None:
    """Place lessons in time so the facts say what the period says."""
    main = sp.main
    if main is None:
        return
    if sp.period == Period.PROSPECTING:  # a trial lesson, no paid package
        trial = main.contracts[0]
        day = today - dt.timedelta(weeks=rng.randint(0, 8))
        trial.dates = [last_weekday_on_or_before(day, main.group.slot[0])]
        trial.used = 1
        if rng.random() < 0.1:
            trial.statuses = [ABSENT]
        validity(trial, rng)
        trial.end = "completed" if trial.statuses[0] in CONSUMING else (
            "expired" if trial.valid_until < today else "active")
        main.group.dates.update(trial.dates)
        if trial.end == "active":
            main.group.active = True
        return
    last = main.contracts[-1]
    w = len(last.statuses)
    if sp.old is not None:  # the first relationship used its hours up and ended
        schedule_chain(rng, sp.old, sp.old_end, len(sp.old.contracts[-1].statuses), 0)
        book(sp.old, active=False)
        for c in sp.old.contracts:
            c.end = "completed"
    if sp.period in ACTIVE_PERIODS or sp.period == Period.AT_RISK:
        lo = max(1, sp.absence_run + 2)
        # Socialization lasts under the policy's 8 weeks of steady attendance (after
        # which the rules move an account to growth): at most 5 weekly lessons so far.
        hi = w - 1
        if sp.period == Period.SOCIALIZATION:
            hi = min(w - 1, 5)
        elif sp.base == Period.SOCIALIZATION:
            hi = min(w - 1, 10)
        used = rng.randint(lo, max(lo, hi))
        schedule_chain(rng, main, today, used, sp.absence_run)
        book(main, active=True)
        if sp.extra is not None:
            extra = sp.extra.contracts[0]
            lo2 = max(2, sp.absence_run + 1)
            used2 = rng.randint(lo2, max(lo2, min(16, len(extra.statuses) - 1)))
            schedule_chain(rng, sp.extra, today, used2, sp.absence_run)
            first_paid = next(c for c in main.contracts if not c.is_trial)
            if extra.signed_on <= first_paid.signed_on + dt.timedelta(days=28):
                sp.extra = None  # would predate the first package: no cross-sell then
            else:
                book(sp.extra, active=True)
        for c in main.contracts[:-1]:
            c.end = "completed"
        return
    # termination / lapsed: the relationship ended at end_date
    kind = sp.end_kind
    absences = 0
    if kind == "completed":
        used = w
    elif sp.risk_before_end and w >= 7:  # three absences in a row, then the refund request
        used, absences = rng.randint(6, w - 1), 3
    else:
        sp.risk_before_end = False
        used = rng.randint(1, min(3 if kind == "cancel" else w, max(1, w - 1)))
    schedule_chain(rng, main, sp.end_date, used, absences)
    book(main, active=False)
    for c in main.contracts[:-1]:
        c.end = "completed"
    last.end = kind
    if kind in ("refund", "cancel"):
        last.refund_at = min(today, last.dates[-1] + dt.timedelta(days=rng.randint(1, 10)))
        if sp.period == Period.LAPSED:
            last.refund_status = Refund.Status.PAID
        else:
            last.refund_status = rng.choices(
                [Refund.Status.REQUESTED, Refund.Status.APPROVED, Refund.Status.PAID],
                weights=[35, 25, 40])[0]
        if kind == "cancel":
            last.refund_status = Refund.Status.PAID
        if last.refund_status != Refund.Status.REQUESTED:
            last.refund_decided = min(today, last.refund_at + dt.timedelta(days=rng.randint(1, 5)))
    if kind == "expired":  # lapsed only: expired long enough ago to have lapsed since
        last.valid_until = min(last.valid_until, today - dt.timedelta(days=rng.randint(95, 150)))
        last.valid_until = max(last.valid_until, last.dates[-1])


def _past_spell(rng: random.Random, sp: StudentPlan, today: dt.date,
                policy: PolicyValues) -> None:
    """Some growing and mature accounts went through an at-risk spell and recovered: three
    absences in a row in the current package (flagged on the third), attendance again
    from the next lesson, and the risk clear for the policy's days before today. The
    absences are the package's own roll calls, so the facts say so too."""
    if (sp.period not in (Period.GROWTH, Period.MATURITY) or sp.absence_run
            or rng.random() >= 0.3):
        return
    plan = [c for c in sp.main.contracts if not c.is_trial][-1]
    after = max(plan.signed_on, sp.maturity_on or plan.signed_on)
    quiet = today - dt.timedelta(weeks=policy.risk_window_weeks + 1)  # before the window
    options = [k for k in range(1, plan.used - 3)
               if plan.dates[k] > after and plan.dates[k + 3] <= quiet
               and plan.dates[k + 3] + dt.timedelta(days=policy.risk_clear_days + 1) < today]
    if not options:
        return
    k = rng.choice(options)
    plan.statuses[k:k + 3] = [ABSENT] * 3
    plan.statuses[k + 3] = ATT  # back in class (fewer hours used: the balance only grows)
    back = plan.dates[k + 3]
    sp.spell = (plan, plan.dates[k + 2], back,
                back + dt.timedelta(days=policy.risk_clear_days + 1))


def _maturity_on(sp: StudentPlan, today: dt.date) -> dt.date | None:
    """The day a story reached maturity (a year as a customer and a third package), or None
    when its facts do not get there before what came next (an at-risk flag, the end)."""
    paid = sorted(sp.paid, key=lambda c: c.signed_on)
    if sp.base != Period.MATURITY and not (sp.external_exit and len(paid) >= 3):
        return None
    if len(paid) < 3:
        return None
    day = max(paid[2].signed_on, paid[0].signed_on + dt.timedelta(days=365))
    main_paid = [c for c in sp.main.contracts if not c.is_trial]
    limit = today
    if sp.period == Period.AT_RISK:
        limit = demo_history.risk_day(main_paid[-1], sp.absence_run) - dt.timedelta(days=1)
    elif sp.period in (Period.TERMINATION, Period.LAPSED):
        limit = demo_history.end_day(main_paid[-1], sp.end_kind) - dt.timedelta(days=1)
    return day if day <= limit else None


# --------------------------------------------------------------------------- a chunk


class ChunkBuilder(Writer):
    """Generates one chunk of families in memory, then writes it in dependency order."""

    def __init__(self, world: World, chunk_no: int, size: int, stats: Stats) -> None:
        self.world, self.size, self.stats = world, size, stats
        self.opts = world.opts
        self.today = world.opts.today
        self.rng = random.Random(f"{world.opts.seed}:chunk:{chunk_no}")
        self.plans: list[StudentPlan] = []
        self.parents: list[Parent] = []
        self.touched: dict[int, GroupPlan] = {}  # groups used by this chunk, in order

    # -- families ---------------------------------------------------------------------
    def _family(self, remaining: int) -> None:
        for spec in parents_demo.draw_family(self, remaining):
            self._student(*spec)

    def _student(self, branch: Branch, surname: str, grade: str,
                 members: list[tuple[Parent, str]], situation: str) -> None:
        rng, world, today = self.rng, self.world, self.today
        level = level_of(grade)
        gender = rng.choices(["m", "f", "u"], weights=[49, 49, 2])[0]
        name = surname + rng.choice(BOY_NAMES if gender == "m" else GIRL_NAMES
                                    if gender == "f" else BOY_NAMES + GIRL_NAMES)
        full, initials = name_keys(name)
        birth = None
        if rng.random() < 0.9:
            age = 6 + GRADES.index(grade)
            start = school_year_start(today)
            birth = (start.replace(year=start.year - age - 1)
                     + dt.timedelta(days=rng.randint(1, 365)))
        period = wchoice(rng, PERIOD_WEIGHTS)
        base = period
        if period == Period.AT_RISK:
            base = rng.choices(ACTIVE_PERIODS, weights=[30, 40, 30])[0]
        elif period in (Period.TERMINATION, Period.LAPSED):
            base = period
        subject_hint = rng.choice(list(LEVEL_SUBJECTS[level]))
        style = rng.choices(["student_led", "parent_led", "joint"],
                            weights={"S": [35, 30, 35], "J": [15, 50, 35],
                                     "P": [3, 80, 17]}[level])[0]
        counselors = world.staff[branch.pk][Role.COUNSELOR]
        counselor = rng.choice(counselors) if (
            period != Period.PROSPECTING or rng.random() < 0.6) else None
        channel, detail = draw_source(rng, world.channels, world.channel_weights)
        student = Student(
            branch=branch, counselor=counselor, name_zh=name, name_pinyin=full,
            name_initials=initials,
            name_en=rng.choice(ENGLISH_NAMES) if level == "S" and rng.random() < 0.3 else "",
            gender=gender, birth_date=birth, school=rng.choice(SCHOOLS[level]), grade=grade,
            family_situation=situation,
            goals=rng.choice(GOALS[level]).format(subj=SUBJECT_ZH[subject_hint]),
            target_university=rng.choice(UNIVERSITIES) if level == "S" and rng.random() < 0.7
            else "",
            source=channel, source_detail=detail, decision_style=style,
            personality=rng.choice(PERSONALITIES),
            learning_style=rng.choice(["", "visual", "auditory", "reading", "kinesthetic"]),
            preferences=rng.choice(PREFERENCES), period=period,
            previous_period=base if period == Period.AT_RISK else "",
            created_by=world.staff[branch.pk][Role.FRONT_DESK][0],
        )
        # Primary contact and deciders: consistent with the decision style (DOMAIN.md §2).
        relations = [rel for _p, rel in members]
        if Guardianship.Relation.GRANDPARENT in relations and (
                len(members) == 1 or rng.random() < 0.4):
            primary = relations.index(Guardianship.Relation.GRANDPARENT)
        elif Guardianship.Relation.MOTHER in relations and rng.random() < 0.8:
            primary = relations.index(Guardianship.Relation.MOTHER)
        else:
            primary = 0 if relations[0] != Guardianship.Relation.GRANDPARENT or len(members) == 1 \
                else 1
        parents_idx = [i for i, r in enumerate(relations) if r != Guardianship.Relation.GRANDPARENT]
        deciders: set[int] = set()
        if style != "student_led":
            if parents_idx:
                deciders.add(primary if primary in parents_idx else parents_idx[0])
                if len(parents_idx) > 1 and rng.random() < 0.3:
                    deciders.update(parents_idx)
            else:
                deciders.add(primary)
        guardians = [(p, rel, i == primary, i in deciders) for i, (p, rel) in enumerate(members)]
        sp = StudentPlan(student=student, guardians=guardians, period=period, base=base)
        if period == Period.AT_RISK:
            sp.absence_run = rng.randint(3, 5)
        elif period in ACTIVE_PERIODS and rng.random() < 0.06:
            sp.absence_run = 3  # not flagged yet: the risk scan should find these
        # Ended within the policy's 90 days: still in termination; earlier: lapsed.
        if period == Period.TERMINATION:
            sp.end_date = today - dt.timedelta(days=rng.randint(7, 85))
            sp.end_kind = rng.choices(["refund", "completed", "cancel"], weights=[60, 25, 15])[0]
        elif period == Period.LAPSED:
            sp.end_date = today - dt.timedelta(days=rng.randint(105, 400))
            sp.end_kind = rng.choices(["completed", "expired", "refund"], weights=[45, 35, 20])[0]
        if period in (Period.TERMINATION, Period.LAPSED):
            # Some leave for reasons outside the institution (moved, timetable) and are
            # still satisfied; some first went through an at-risk spell (absences).
            sp.external_exit = rng.random() < 0.45
            if sp.external_exit and rng.random() < 0.5:
                sp.end_kind = "refund"  # moved away: the unused hours are refunded
            sp.risk_before_end = (not sp.external_exit and sp.end_kind == "refund"
                                  and rng.random() < 0.5)
        elif period == Period.SOCIALIZATION and rng.random() < 0.25:
            # Won back: an earlier relationship ended (and lapsed) before this one.
            sp.old_end = today - dt.timedelta(days=rng.randint(200, 520))
        _plan_story(rng, world, sp)
        self.plans.append(sp)

    # -- class groups -----------------------------------------------------------------
    def _group_for(self, branch: Branch, course: Course, cohort: str) -> GroupPlan:
        """Chains of the same branch, course and time (now / ended quarter) share a class.

        Groups stay open across chunks until full, so lessons are shared by classmates.
        """
        rng, world = self.rng, self.world
        key = (branch.pk, course.pk, cohort)
        group = world.open_groups.get(key)
        if group is None or group.chains >= CHAINS_PER_GROUP[course.format]:
            teachers = world.staff[branch.pk][Role.TEACHER]
            fit = [t for t in teachers if world.teacher_subject[t.pk] == course.subject]
            group = GroupPlan(branch=branch, course=course, slot=rng.choice(SLOTS),
                              teacher=rng.choice(fit or teachers),
                              room=f"{rng.choice('ABC')}{rng.randint(1, 4)}0{rng.randint(1, 9)}")
            world.open_groups[key] = group
        group.chains += 1
        self.touched[id(group)] = group
        return group

    def plan(self) -> None:
        while len(self.plans) < self.size:
            self._family(self.size - len(self.plans))
        for sp in self.plans:
            cohort = "now" if sp.end_date is None else \
                f"{sp.end_date.year}q{(sp.end_date.month - 1) // 3}"
            for chain in (sp.main, sp.extra):
                if chain is not None:
                    chain.group = self._group_for(sp.student.branch, chain.course, cohort)
            if sp.old is not None:
                old_cohort = f"{sp.old_end.year}q{(sp.old_end.month - 1) // 3}"
                sp.old.group = self._group_for(sp.student.branch, sp.old.course, old_cohort)
        for sp in self.plans:
            _schedule(self.rng, sp, self.today)
            first = [c.signed_on for ch in sp.chains for c in ch.contracts]
            created = (min(first) - dt.timedelta(days=self.rng.randint(3, 45)) if first
                       else self.today - dt.timedelta(days=self.rng.randint(0, 150)))
            sp.student.created_at = local_dt(created, self.rng.randint(9, 20),
                                             self.rng.randint(0, 59))
            self._history(sp)
            self.stats.periods[sp.period] += 1
        marketing_demo.pick_referrers(self)
        for parent in self.parents:  # parents registered with the first child's first contact
            parent.created_at = None
        for sp in self.plans:
            for p, _rel, _pr, _d in sp.guardians:
                if p.created_at is None or p.created_at > sp.student.created_at:
                    p.created_at = sp.student.created_at

    def _history(self, sp: StudentPlan) -> None:
        """The dated moves of the account; its period fields are where they lead."""
        if sp.period != Period.PROSPECTING:
            sp.maturity_on = _maturity_on(sp, self.today)
            if sp.maturity_on is None and sp.base == Period.MATURITY:
                # Not a year as a customer yet: the same facts tell a growth story.
                sp.base = Period.GROWTH
                if sp.period == Period.MATURITY:
                    sp.period = Period.GROWTH
            if sp.maturity_on is not None:
                sp.maturity_satisfaction = maturity_survey(self.rng, sp)
        policy = self.world.policies[sp.student.branch.pk]
        _past_spell(self.rng, sp, self.today, policy)
        sp.moves = demo_history.walk(sp, policy, self.today)
        st = sp.student
        st.period = sp.period
        st.previous_period = sp.moves[-1].from_period if sp.period == Period.AT_RISK else ""
        st.period_since = sp.moves[-1].at if sp.moves else st.created_at

    # -- writing ----------------------------------------------------------------------
    def write(self) -> None:
        """Insert the chunk, parents before children; ORM for small tables, raw for big."""
        self.put(Parent, self.parents)
        self.put(Student, [sp.student for sp in self.plans])
        parents_demo.write_guardians(self)
        write_lessons(self)
        write_engagement(self)
        demo_history.write_history(self)
        marketing_demo.write_acquisition(self)


# --------------------------------------------------------------------------- driver

SEEDED_MODELS: list[type[models.Model]] = [
    Parent, Student, Guardianship, GuardianConsent, ContactConsent, ClassGroup, ClassSession,
    Contract, Attendance, LedgerEntry, Refund, Payment, ExamScore, Interaction, Complaint,
    SatisfactionSurvey, Transition, Prospect, PipelineStep, Referral, ExitInterview,
]
# What --flush empties (with their history tables and whatever cascades from them).
WIPED_MODELS: list[type[models.Model]] = [
    LedgerEntry, Attendance, Payment, Refund, ExamScore, Interaction, Complaint,
    SatisfactionSurvey, Contract, ClassSession, ClassGroup, Course, GuardianConsent,
    ContactConsent, Guardianship, Parent, Student,
]


def flush_demo_data() -> None:
    """Remove all students and everything hanging off them, courses and the demo staff."""
    flush_seeded(WIPED_MODELS)


def seed(opts: SeedOptions, *, append: bool = False,
         progress: Callable[[str], None] | None = None) -> tuple[World, Stats]:
    """Generate `opts.students` students in chunks; one transaction per chunk."""
    started = time.monotonic()
    stats = Stats()
    say = progress or (lambda _msg: None)
    with transaction.atomic():
        world = build_world(opts, append=append)
    chunks = math.ceil(opts.students / opts.chunk_size) if opts.students else 0
    done = 0
    with historic_created_at([Student, Parent, Guardianship, Contract]):
        for n in range(chunks):
            size = min(opts.chunk_size, opts.students - done)
            builder = ChunkBuilder(world, n, size, stats)
            builder.plan()
            with transaction.atomic():
                builder.write()
            done += size
            elapsed = time.monotonic() - started
            say(_("chunk %(n)d/%(total)d: %(done)d/%(all)d students, %(rows)d rows, "
                  "%(rate).0f students/s") % {
                "n": n + 1, "total": chunks, "done": done, "all": opts.students,
                "rows": sum(stats.rows.values()), "rate": done / max(elapsed, 1e-6)})
    if connection.vendor == "postgresql":
        # COPY bypasses the planner's statistics until autovacuum gets round to them; with
        # stale estimates the account pages pick sequential scans over millions of rows.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    stats.seconds = time.monotonic() - started
    return world, stats

