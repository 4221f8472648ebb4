"""The marketing domain of the demo seeder: where each family heard of us (channels),
who referred it (real earlier customers), and its lead: pool, owner, tier and the dated
pipeline (new -> trial -> enrolled, or still open, or lost).

Called by the orchestrator in lifecycle/demo.py with its chunk builder `b`. Stages follow
marketing.services.prospects.NEXT_STAGES and tiers the real tiering rules; the rows are
written in bulk with the chunk."""
from __future__ import annotations

import datetime as dt
import itertools
import json
import random
from decimal import Decimal
from typing import TYPE_CHECKING

from crm.db import db_datetime, temporals_as_text
from crm.demo import WOMAN_NAMES, local_dt, person_name, wchoice
from crm.roles import Role
from lifecycle.periods import Period
from marketing.models import (
    Channel,
    ChurnReason,
    ExitInterview,
    PipelineStep,
    Pool,
    Prospect,
    Referral,
    RewardPolicy,
    Stage,
    Urgency,
)
from marketing.services.prospects import NEXT_STAGES
from marketing.tiering import TierFacts, tier_for, tier_points
from students.demo.plans import StudentPlan
from students.demo.vocabulary import CONSUMING

if TYPE_CHECKING:
    from lifecycle.demo import ChunkBuilder

CHANNEL_WEIGHTS = {"walk_in": 15, "phone": 12, "referral": 30, "lecture": 12, "online": 18,
                   "school_partnership": 8, "other": 5}
LECTURES = ["高考志愿填报讲座", "中考政策解读会", "期末学习方法讲座"]


def active_channels() -> tuple[list[Channel], list[int]]:
    """The channels a demo family may come from, with their drawing weights."""
    channels = list(Channel.objects.filter(is_active=True).order_by("sort_order", "code"))
    return channels, [CHANNEL_WEIGHTS.get(c.code, 5) for c in channels]


def draw_source(rng: random.Random, channels: list[Channel],
                weights: list[int]) -> tuple[Channel | None, str]:
    """The channel a student came by and its detail (who referred, which lecture)."""
    channel = rng.choices(channels, weights=weights)[0] if channels else None
    detail = ""
    if channel is not None and channel.is_referral:
        detail = f"{person_name(rng, WOMAN_NAMES)}家长推荐"
    elif channel is not None and channel.code == "lecture":
        detail = rng.choice(LECTURES)
    return channel, detail


# --------------------------------------------------------------------------- referrals

REFERRER_POOL = 3000  # earlier customers kept per branch as possible referrers
REFERRAL_REWARD = ("老带新奖励", "赠送 4 课时", Decimal("600"))


def churn_reasons() -> dict[str, int]:
    """The managed churn-reason list (seeded by a migration): code -> id."""
    return dict(ChurnReason.objects.filter(is_active=True).values_list("code", "pk"))


def reward_policy() -> RewardPolicy:
    """The demo's referral reward (created once, reused on --append)."""
    name, reward, value = REFERRAL_REWARD
    policy, _created = RewardPolicy.objects.get_or_create(
        name=name, defaults={"reward": reward, "value": value})
    return policy


def _first_paid_on(sp: StudentPlan) -> dt.date | None:
    days = [c.signed_on for ch in sp.chains for c in ch.contracts if not c.is_trial]
    return min(days) if days else None


def pick_referrers(b: ChunkBuilder) -> None:
    """Give every family that came by word of mouth a real referrer: an earlier customer
    of the same branch (a parent, sometimes the student) from another family, who was
    already paying when the family registered. Deterministic per seed."""
    rng, pool = b.rng, b.world.referrers
    for sp in b.plans:
        first = _first_paid_on(sp)
        if first is not None:
            primary = next(p for p, _r, pr, _d in sp.guardians if pr)
            pool.setdefault(sp.student.branch.pk, []).append((sp.student, primary, first))
    for sp in b.plans:
        st = sp.student
        if st.source is None or not st.source.is_referral:
            continue
        candidates = pool.get(st.branch.pk, [])
        for _try in range(20):
            if not candidates:
                break
            student, parent, since = rng.choice(candidates)
            if (student is not st and since < st.created_at.date()
                    and not any(parent is p for p, *_ in sp.guardians)):
                kind = Referral.Kind.PARENT if rng.random() < 0.75 else Referral.Kind.STUDENT
                sp.referrer = (kind, student, parent)
                st.source_detail = (f"{parent.name}推荐" if kind == Referral.Kind.PARENT
                                    else f"{student.name_zh}同学推荐")
                break
        if sp.referrer is None:  # nobody on file yet: a family friend, named as told
            sp.referrer = (Referral.Kind.OUTSIDE, None, st.source_detail.removesuffix("家长推荐")
                           or person_name(rng, WOMAN_NAMES))
    for rows in pool.values():
        if len(rows) > REFERRER_POOL:
            del rows[:len(rows) - REFERRER_POOL]


def _referrals(b: ChunkBuilder) -> list[Referral]:
    rng, policy = b.rng, b.world.reward_policy
    out = []
    for sp in b.plans:
        if sp.referrer is None:
            continue
        kind, student, parent = sp.referrer
        st = sp.student
        outside = kind == Referral.Kind.OUTSIDE
        first = _first_paid_on(sp)
        status, changed = Referral.RewardStatus.PENDING, None
        if first is not None:  # the referred family paid: the reward was earned, often paid
            status = (Referral.RewardStatus.PAID if rng.random() < 0.6
                      else Referral.RewardStatus.EARNED)
            changed = local_dt(min(b.today, first + dt.timedelta(days=rng.randint(0, 20))), 16)
        out.append(Referral(
            referred=st, kind=kind,
            referrer_student=student if kind == Referral.Kind.STUDENT else None,
            referrer_parent=parent if kind == Referral.Kind.PARENT else None,
            referrer_name=parent if outside else "",
            reward_policy=policy, reward_status=status, reward_changed_at=changed,
            recorded_by=st.created_by, created_at=st.created_at))
    return out


# --------------------------------------------------------------------------- prospects

LOST_REASONS = ["试听后选择了其他机构", "价格超出预算", "上课时间不合适", "多次联系未回复",
                "暂时不需要补习"]
URGENCY_WEIGHTS = {Urgency.HIGH: 30, Urgency.MEDIUM: 50, Urgency.LOW: 20}


def _pipeline(rng: random.Random, sp: StudentPlan, today: dt.date
              ) -> list[tuple[str, dt.date, dict, str]]:
    """The lead's dated stages (stage, on, evidence, note) from its facts: a trial booked
    when its contract was signed, attended when its roll call says so, enrolled on the
    first paid contract; an open lead was invited or visited, or lost."""
    created = sp.student.created_at.date()
    steps: list[tuple[str, dt.date, dict, str]] = [(Stage.NEW, created, {}, "")]
    chains = sp.chains
    trial = next((c for ch in chains for c in ch.contracts if c.is_trial and c.dates), None)
    if trial is not None and trial.signed_on >= created:
        steps.append((Stage.TRIAL_BOOKED, trial.signed_on, {}, ""))
        if trial.statuses[0] in CONSUMING:
            steps.append((Stage.TRIAL_ATTENDED, trial.dates[0],
                          {"contract": trial.obj.pk}, ""))
    paid = sorted((c for ch in chains for c in ch.contracts if not c.is_trial),
                  key=lambda c: c.signed_on)
    if paid:
        steps.append((Stage.ENROLLED, paid[0].signed_on, {"contract": paid[0].obj.pk}, ""))
        return steps
    span = max(0, (today - created).days)
    r = rng.random()
    if trial is None and r < 0.55:
        mid = created + dt.timedelta(days=rng.randint(0, span))
        steps.append((Stage.INVITED, mid, {}, "邀请参加公开课"))
        if rng.random() < 0.5:
            steps.append((Stage.VISITED, min(today, mid + dt.timedelta(days=rng.randint(1, 7))),
                          {}, "到校参观"))
    elif r > (0.75 if trial is None else 0.7) and span > 14:
        last = steps[-1][1]
        steps.append((Stage.LOST, min(today, last + dt.timedelta(days=rng.randint(3, 30))),
                      {}, ""))
    return steps


def _check(steps: list[tuple[str, dt.date, dict, str]]) -> None:
    """The same table prospect_advance enforces (enrolled: from any open stage)."""
    for (a, _d, _e, _n), (b_, _d2, _e2, _n2) in itertools.pairwise(steps):
        assert b_ == Stage.ENROLLED or b_ in NEXT_STAGES[a], (a, b_)


def write_acquisition(b: ChunkBuilder) -> None:
    """Every account's lead (pool, owner, tier, stage) with its dated pipeline, and the
    referrals of families who came by word of mouth."""
    rng, today = b.rng, b.today
    policies = b.world.marketing_policies
    prospects, pipelines = [], []
    for sp in b.plans:
        st = sp.student
        steps = _pipeline(rng, sp, today)
        _check(steps)
        stage, last_on = steps[-1][0], steps[-1][1]
        urgency = rng.choices(list(URGENCY_WEIGHTS), weights=list(URGENCY_WEIGHTS.values()))[0]
        facts = TierFacts(
            urgency=urgency, referral=bool(st.source and st.source.is_referral),
            grade=st.grade, contacted=True,
            trial_booked=any(s == Stage.TRIAL_BOOKED for s, *_ in steps))
        policy = policies[st.branch.pk]
        points = tier_points(facts, policy)
        owner = st.counselor
        changed = max(st.created_at, local_dt(last_on, rng.randint(10, 19), rng.randint(0, 59)))
        open_ = stage not in (Stage.ENROLLED, Stage.LOST)
        prospects.append(Prospect(
            student=st, owner=owner, pool=Pool.PRIVATE if owner else Pool.PUBLIC,
            claimed_at=st.created_at if owner else None, urgency=urgency,
            tier=tier_for(points, policy), tier_points=points, stage=stage,
            stage_changed_at=changed, last_activity_at=changed,
            lost_reason=rng.choice(LOST_REASONS) if stage == Stage.LOST else "",
            next_follow_up=today + dt.timedelta(days=rng.randint(0, 10)) if open_ else None,
            created_at=st.created_at))
        pipelines.append((steps, owner))
    b.put(Prospect, prospects)
    if prospects and prospects[0].pk is None:  # backends without RETURNING
        ids = dict(Prospect.objects.filter(student__in=[p.student for p in prospects])
                   .values_list("student_id", "pk"))
        for p in prospects:
            p.pk = ids[p.student.pk]
    rows = []
    text = temporals_as_text()
    for prospect, (steps, owner) in zip(prospects, pipelines, strict=True):
        for stage, on, evidence, note in steps:
            at = max(prospect.created_at, local_dt(on, rng.randint(10, 19), rng.randint(0, 59)))
            rows.append((prospect.pk, stage, on, db_datetime(at, text),
                         owner.pk if owner else None, note, json.dumps(evidence)))
    b.raw(PipelineStep, ["prospect_id", "stage", "on", "at", "actor_id", "note", "evidence"],
          rows)
    b.put(Referral, _referrals(b))
    _exit_interviews(b)


# --------------------------------------------------------------------------- exit interviews

# Why families leave, by the kind of story (codes of the managed ChurnReason list).
OUTSIDE_REASONS = {"moved": 50, "schedule": 25, "need_ended": 25}
INSIDE_REASONS = {"results": 30, "teacher": 15, "price": 15, "competitor": 20,
                  "service_complaint": 15, "schedule": 5}
REASON_DETAIL = {"moved": "搬家，离校区太远", "schedule": "学校课业太重，时间排不开",
                 "need_ended": "考试结束，暂时不需要补习", "results": "成绩提升不明显",
                 "teacher": "对老师不满意，想换老师", "price": "觉得课时费偏高",
                 "competitor": "换了其他机构", "service_complaint": "反馈问题没有及时处理"}


def _exit_interviews(b: ChunkBuilder) -> None:
    """Most terminations get their exit interview within days (DOMAIN.md §6: record the
    reason), tied to the move into termination and the period it was lost in."""
    rng, today = b.rng, b.today
    reasons = b.world.churn_reasons
    if not reasons:
        return
    text = temporals_as_text()
    rows = []
    for sp in b.plans:
        for m in sp.moves:
            if m.to_period != Period.TERMINATION or rng.random() > 0.75:
                continue
            outside = sp.external_exit and m is sp.moves[-1 if sp.period == Period.TERMINATION
                                                         else -2]
            code = wchoice(rng, OUTSIDE_REASONS if outside else INSIDE_REASONS)
            held = min(today, m.at.date() + dt.timedelta(days=rng.randint(1, 10)))
            st = sp.student
            interviewer = st.counselor or b.world.staff[st.branch.pk][Role.MANAGER][0]
            rows.append((st.pk, m.pk, reasons[code], REASON_DETAIL.get(code, ""),
                         m.from_period, interviewer.pk, held,
                         db_datetime(local_dt(held, rng.randint(10, 19)), text)))
    b.raw(ExitInterview, ["student_id", "transition_id", "reason_id", "detail",
                          "period_lost_in", "interviewer_id", "held_on", "created_at"], rows)
