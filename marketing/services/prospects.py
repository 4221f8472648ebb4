"""Prospects: tiering, the follow-up pipeline, lead pools and assignment (DOMAIN.md §6).

The pipeline is a table of allowed next stages (like lifecycle.periods): `prospect_advance`
refuses anything else and appends a dated, owned PipelineStep. Two stages are facts, not
claims: "trial attended" needs a real Attendance row on a trial contract, "enrolled"
needs a paid contract. The first paid contract then moves the account out of
prospecting through the lifecycle rules; this module never writes Student.period.
"""
from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, DateTimeField, F, Max, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.models import AuditLog, Branch
from crm.permissions import role_of
from crm.roles import Role
from crm.services import audit
from lifecycle.periods import Period
from students.models import Interaction, Student

from ..models import (
    AssignmentCursor,
    AssignmentMode,
    Campaign,
    PipelineStep,
    Pool,
    Prospect,
    Stage,
    Tier,
    Urgency,
)
from ..selectors.facts import paid_contracts, trial_attendances, trial_lessons_attended
from ..selectors.policy import policies_by_branch, policy_for
from ..tiering import TierFacts, tier_for, tier_points

logger = logging.getLogger(__name__)

# The one table of allowed moves. "enrolled" is reachable from every open stage, but only
# with a paid contract as evidence (see prospect_advance); "lost" can be re-opened.
NEXT_STAGES: dict[str, frozenset[str]] = {
    Stage.NEW: frozenset({Stage.INVITED, Stage.VISITED, Stage.TRIAL_BOOKED, Stage.LOST}),
    Stage.INVITED: frozenset({Stage.VISITED, Stage.TRIAL_BOOKED, Stage.LOST}),
    Stage.VISITED: frozenset({Stage.TRIAL_BOOKED, Stage.LOST}),
    Stage.TRIAL_BOOKED: frozenset({Stage.TRIAL_ATTENDED, Stage.LOST}),
    Stage.TRIAL_ATTENDED: frozenset({Stage.LOST}),
    Stage.LOST: frozenset({Stage.INVITED}),
    Stage.ENROLLED: frozenset(),
}
OPEN_STAGES = frozenset({Stage.NEW, Stage.INVITED, Stage.VISITED, Stage.TRIAL_BOOKED,
                         Stage.TRIAL_ATTENDED})
TRIAL_OR_LATER = frozenset({Stage.TRIAL_BOOKED, Stage.TRIAL_ATTENDED, Stage.ENROLLED})
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _user(actor: Any) -> Any:
    return actor if getattr(actor, "pk", None) else None


def _err(field: str, message: str, code: str) -> ValidationError:
    """A field error that keeps its code (a plain dict message would drop it)."""
    return ValidationError({field: ValidationError(message, code=code)})


def _stage_label(stage: str) -> str:
    return str(Stage(stage).label) if stage in Stage.values else stage


# --- tier ------------------------------------------------------------------------------

def prospect_retier(prospect: Prospect) -> Prospect:
    """Recompute the rule tier (the staff override, if any, stays in force)."""
    student = prospect.student
    policy = policy_for(student.branch_id)
    facts = TierFacts(
        urgency=prospect.urgency,
        referral=bool(student.source_id and student.source.is_referral)
        or hasattr(student, "referral"),
        grade=student.grade,
        contacted=Interaction.objects.filter(student=student).exists(),
        trial_booked=prospect.stage in TRIAL_OR_LATER
        or prospect.steps.filter(stage=Stage.TRIAL_BOOKED).exists(),
    )
    points = tier_points(facts, policy)
    tier = tier_for(points, policy)
    if (points, tier) != (prospect.tier_points, prospect.tier):
        prospect.tier_points, prospect.tier = points, tier
        prospect.save(update_fields=["tier_points", "tier"])
    return prospect


@transaction.atomic
def prospect_tier_override(*, prospect: Prospect, tier: str, reason: str,
                           actor: Any) -> Prospect:
    """Staff set the tier by hand (or clear it with tier=""); the reason is required."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Say why the tier is set by hand.")})
    if tier and tier not in Tier.values:
        raise ValidationError({"tier": _("Unknown tier.")})
    prospect = Prospect.objects.select_for_update().get(pk=prospect.pk)
    old = prospect.tier_override
    prospect.tier_override = tier
    prospect.tier_override_reason = reason if tier else ""
    prospect.tier_override_by = _user(actor) if tier else None
    prospect.save(update_fields=["tier_override", "tier_override_reason", "tier_override_by"])
    audit(actor=actor, action="prospect.tier_override", obj=prospect.student,
          data={"prospect": prospect.pk, "from": old, "to": tier, "rule_tier": prospect.tier,
                "reason": reason})
    return prospect


# --- creation --------------------------------------------------------------------------

@transaction.atomic
def prospect_ensure(*, student: Student, campaign: Campaign | None = None,
                    urgency: str = Urgency.MEDIUM, actor: Any = None,
                    next_follow_up: dt.date | None = None) -> Prospect:
    """The prospect row of an account, created on first use (families registered by front
    desk get theirs here or from the hourly sync). A counselor already on the account
    owns the lead; otherwise it starts in the branch's public pool."""
    existing = Prospect.objects.filter(student=student).first()
    if existing is not None:
        return existing
    if urgency not in Urgency.values:
        raise ValidationError({"urgency": _("Unknown urgency.")})
    owner = student.counselor
    prospect = Prospect.objects.create(
        student=student, campaign=campaign, urgency=urgency, owner=owner,
        pool=Pool.PRIVATE if owner else Pool.PUBLIC,
        claimed_at=timezone.now() if owner else None, next_follow_up=next_follow_up,
        created_at=student.created_at or timezone.now(),
    )
    PipelineStep.objects.create(prospect=prospect, stage=Stage.NEW,
                                on=timezone.localdate(prospect.created_at), actor=_user(actor))
    return prospect_retier(prospect)


@transaction.atomic
def prospects_create_imported(*, leads: list[tuple[Student, str, dt.date | None]],
                              actor: Any = None) -> int:
    """Prospect rows for accounts an import brought in: (student, urgency, next follow-up).

    The bulk twin of prospect_ensure for a 50,000-row file (three statements per 2,000
    instead of five per lead), with the same rules: the account's counselor owns the
    lead, else the branch's public pool; the tier from the policy's points (a lead from
    an import has no interaction or trial yet). Accounts that already have one are left.
    """
    have = set(Prospect.objects.filter(student__in=[s for s, _u, _f in leads])
               .values_list("student_id", flat=True))
    fresh = [(s, u, f) for s, u, f in leads if s.pk not in have]
    if not fresh:
        return 0
    policies = policies_by_branch({s.branch_id for s, _u, _f in fresh})
    now = timezone.now()
    rows = []
    for student, urgency, follow in fresh:
        if urgency not in Urgency.values:
            raise ValidationError({"urgency": _("Unknown urgency.")})
        policy = policies[student.branch_id]
        facts = TierFacts(urgency=urgency, grade=student.grade, contacted=False,
                          trial_booked=False,
                          referral=bool(student.source_id and student.source.is_referral))
        points = tier_points(facts, policy)
        owner_id = student.counselor_id
        rows.append(Prospect(student=student, urgency=urgency, owner_id=owner_id,
                             pool=Pool.PRIVATE if owner_id else Pool.PUBLIC,
                             claimed_at=now if owner_id else None, next_follow_up=follow,
                             created_at=student.created_at or now, tier_points=points,
                             tier=tier_for(points, policy)))
    made = Prospect.objects.bulk_create(rows, batch_size=2000)
    PipelineStep.objects.bulk_create(
        [PipelineStep(prospect=p, stage=Stage.NEW, on=timezone.localdate(p.created_at),
                      actor=_user(actor)) for p in made], batch_size=2000)
    return len(made)


def prospects_create_missing(*, branch_id: int | None = None) -> int:
    """Give every prospecting account without a prospect row one (set-based insert)."""
    students = Student.objects.filter(period=Period.PROSPECTING, prospect__isnull=True)
    if branch_id is not None:
        students = students.filter(branch_id=branch_id)
    created = 0
    for student in students.select_related("source").iterator(chunk_size=500):
        prospect_ensure(student=student)
        created += 1
    return created


# --- pipeline --------------------------------------------------------------------------

def _apply_first_purchase(student: Student) -> str | None:
    """Run the lifecycle rules on one account (the scan's code, for one row).

    The rules, not this app, decide that a paid contract means socialization; the move
    goes through account_transition, the single door for period changes.
    """
    from lifecycle.rules import decide
    from lifecycle.selectors import account_facts, facts_of
    from lifecycle.selectors import policy_for as lifecycle_policy_for
    from lifecycle.services import account_transition

    policy = lifecycle_policy_for(student.branch_id)
    now = timezone.now()
    row = account_facts(Student.objects.filter(pk=student.pk), policy=policy, now=now).first()
    if row is None:
        return None
    facts = facts_of(row, policy=policy, now=now)
    decision = decide(facts, policy, now)
    if decision is None or decision.to_period != Period.SOCIALIZATION:
        return None
    try:
        account_transition(student=student, to_period=decision.to_period,
                           trigger=decision.trigger, reason=decision.reason,
                           evidence=decision.evidence, win_back=decision.win_back,
                           expected_from=facts.period)
    except ValidationError:
        # Moved meanwhile (the scan got there first): nothing left to do.
        logger.info("first-purchase move of %s already made", student.pk)
        return None
    return decision.to_period


@transaction.atomic
def prospect_advance(*, prospect: Prospect, stage: str, actor: Any = None,
                     on: dt.date | None = None, note: str = "", lost_reason: str = "",
                     next_follow_up: dt.date | None = None) -> PipelineStep:
    """Move a prospect to the next pipeline stage and append the dated step.

    Refused when the table does not allow it; "trial attended" is dated by the real
    attendance, "enrolled" by the paid contract; "lost" needs a reason.
    """
    if stage not in Stage.values:
        raise ValidationError({"stage": _("Unknown stage.")})
    # of=self: the joined source is nullable (an outer join PostgreSQL cannot lock).
    prospect = Prospect.objects.select_for_update(of=("self",)).select_related(
        "student", "student__source").get(pk=prospect.pk)
    current = prospect.stage
    evidence: dict[str, Any] = {}
    if stage == Stage.ENROLLED:
        if current == Stage.ENROLLED:
            raise ValidationError({"stage": _("The prospect is already enrolled.")})
        contract = (paid_contracts().filter(student=prospect.student_id)
                    .order_by("signed_on", "id").first())
        if contract is None:
            raise _err("stage", _("Enrolled is set by a paid contract; none is recorded for "
                                  "this student."), "no_paid_contract")
        on = contract.signed_on
        evidence = {"contract": contract.pk}
    elif stage not in NEXT_STAGES[current]:
        raise _err("stage", _("A prospect cannot go from “%(from)s” to “%(to)s”.")
                   % {"from": _stage_label(current), "to": _stage_label(stage)}, "illegal_stage")
    if stage == Stage.TRIAL_ATTENDED:
        # Evidence: a present roll call on a trial contract, or a trial lesson whose
        # outcome says the student sat it (marketing.services.trials).
        att = (trial_attendances().filter(student=prospect.student_id)
               .order_by("date", "id").first())
        lesson = (trial_lessons_attended().filter(student=prospect.student_id)
                  .order_by("date", "id").first())
        if att is None and lesson is None:
            raise _err("stage", _("A trial counts as attended only when its attendance is "
                                  "recorded at roll call."), "no_trial_attendance")
        if lesson is not None and (att is None or lesson.date <= att.date):
            on = lesson.date
            evidence = {"trial_lesson": lesson.pk}
        else:
            on = att.date
            evidence = {"attendance": att.pk, "contract": att.contract_id}
    if stage == Stage.LOST:
        lost_reason = (lost_reason or "").strip()
        if not lost_reason:
            raise ValidationError({"lost_reason": _("Say why the prospect was lost.")})
        prospect.lost_reason = lost_reason
    elif current == Stage.LOST:
        prospect.lost_reason = ""
    today = timezone.localdate()
    on = on or today
    if on > today:
        raise ValidationError({"on": _("A step cannot be dated in the future.")})
    now = timezone.now()
    step = PipelineStep.objects.create(prospect=prospect, stage=stage, on=on, at=now,
                                       actor=_user(actor), note=note.strip(), evidence=evidence)
    prospect.stage, prospect.stage_changed_at, prospect.last_activity_at = stage, now, now
    if next_follow_up is not None:
        prospect.next_follow_up = next_follow_up
    elif stage in {Stage.ENROLLED, Stage.LOST}:
        prospect.next_follow_up = None
    prospect.save(update_fields=["stage", "stage_changed_at", "last_activity_at",
                                 "next_follow_up", "lost_reason"])
    prospect_retier(prospect)
    if stage == Stage.ENROLLED:
        _apply_first_purchase(prospect.student)
    return step


@transaction.atomic
def prospect_follow_up(*, prospect: Prospect, on: dt.date | None, actor: Any = None,
                       urgency: str | None = None) -> Prospect:
    """Set the next follow-up date (and optionally the urgency); counts as activity."""
    prospect = Prospect.objects.select_for_update().get(pk=prospect.pk)
    fields = ["next_follow_up", "last_activity_at"]
    prospect.next_follow_up, prospect.last_activity_at = on, timezone.now()
    if urgency is not None:
        if urgency not in Urgency.values:
            raise ValidationError({"urgency": _("Unknown urgency.")})
        prospect.urgency = urgency
        fields.append("urgency")
    prospect.save(update_fields=fields)
    return prospect_retier(prospect)


def prospect_sync(*, prospect: Prospect) -> list[str]:
    """Advance a prospect from the facts: trial attendance and paid contracts. Idempotent."""
    done: list[str] = []
    student_id = prospect.student_id
    if (prospect.stage in {Stage.NEW, Stage.INVITED, Stage.VISITED, Stage.TRIAL_BOOKED}
            and (trial_attendances().filter(student=student_id).exists()
                 or trial_lessons_attended().filter(student=student_id).exists())):
        if prospect.stage != Stage.TRIAL_BOOKED:
            # The trial happened, so it was booked; record both so the funnel adds up.
            prospect_advance(prospect=prospect, stage=Stage.TRIAL_BOOKED,
                             note=_("Recorded from the trial's attendance."))
        prospect_advance(prospect=prospect, stage=Stage.TRIAL_ATTENDED)
        done.append(Stage.TRIAL_ATTENDED)
        prospect.refresh_from_db()
    if prospect.stage != Stage.ENROLLED and paid_contracts().filter(student=student_id).exists():
        prospect_advance(prospect=prospect, stage=Stage.ENROLLED)
        done.append(Stage.ENROLLED)
    return done


def prospects_sync(*, branch_id: int | None = None) -> dict[str, int]:
    """The hourly job: create missing prospect rows, then advance those with new facts.

    Candidates are found set-based; each prospect is advanced in its own transaction.
    """
    created = prospects_create_missing(branch_id=branch_id)
    qs = Prospect.objects.exclude(stage=Stage.ENROLLED)
    if branch_id is not None:
        qs = qs.filter(student__branch_id=branch_id)
    candidates = qs.filter(
        Q(student__in=paid_contracts().values("student"))
        | (Q(stage__in=[Stage.NEW, Stage.INVITED, Stage.VISITED, Stage.TRIAL_BOOKED])
           & (Q(student__in=trial_attendances().values("student"))
              | Q(student__in=trial_lessons_attended().values("student")))))
    moved = 0
    for prospect in candidates.iterator(chunk_size=200):
        if prospect_sync(prospect=prospect):
            moved += 1
    return {"created": created, "advanced": moved}


# --- pools -----------------------------------------------------------------------------

def private_lead_count(user: Any) -> int:
    """Open leads a counselor holds (enrolled and lost ones no longer count to the cap)."""
    return Prospect.objects.filter(owner=user, stage__in=list(OPEN_STAGES)).count()


def _check_counselor(prospect: Prospect, counselor: Any) -> None:
    profile = getattr(counselor, "staff_profile", None)
    if role_of(counselor) != Role.COUNSELOR or profile is None:
        raise ValidationError({"owner": _("Leads are held by counselors.")})
    if profile.branch_id != prospect.student.branch_id:
        raise ValidationError({"owner": _("The counselor works in another branch.")})


def _check_cap(counselor: Any, branch_id: int) -> None:
    cap = policy_for(branch_id).private_pool_cap
    held = private_lead_count(counselor)
    if held >= cap:
        raise _err("owner", _("%(name)s already holds %(n)s private leads; the cap is %(cap)s. "
                              "Release or close some first.")
                   % {"name": str(counselor), "n": held, "cap": cap}, "pool_cap")


def _set_owner(prospect: Prospect, owner: Any, *, actor: Any, action: str,
               data: dict | None = None) -> Prospect:
    now = timezone.now()
    prospect.owner = owner
    prospect.pool = Pool.PRIVATE if owner else Pool.PUBLIC
    prospect.claimed_at = now if owner else None
    prospect.last_activity_at = now
    prospect.save(update_fields=["owner", "pool", "claimed_at", "last_activity_at"])
    student = prospect.student
    # The caseload follows the lead: Student.counselor is what scoping reads.
    student.counselor = owner
    student.save(update_fields=["counselor", "updated_at"])
    audit(actor=actor, action=action, obj=student,
          data={"prospect": prospect.pk, "owner": getattr(owner, "pk", None), **(data or {})})
    return prospect


@transaction.atomic
def prospect_claim(*, prospect: Prospect, counselor: Any) -> Prospect:
    """A counselor takes a lead from the public pool into their private pool (cap applies)."""
    prospect = Prospect.objects.select_for_update().select_related("student").get(pk=prospect.pk)
    _check_counselor(prospect, counselor)
    if prospect.owner_id is not None:
        raise _err("owner", _("Someone else claimed this lead first."), "taken")
    if prospect.stage not in OPEN_STAGES:
        raise ValidationError({"stage": _("Only open leads can be claimed.")})
    # Lock the counselor's leads so two claims at once cannot both pass the cap.
    list(Prospect.objects.select_for_update().filter(owner=counselor).values_list("pk"))
    _check_cap(counselor, prospect.student.branch_id)
    return _set_owner(prospect, counselor, actor=counselor, action="prospect.claim")


@transaction.atomic
def prospect_assign(*, prospect: Prospect, counselor: Any, actor: Any) -> Prospect:
    """A manager gives a lead to a counselor (the counselor's cap still applies)."""
    prospect = Prospect.objects.select_for_update().select_related("student").get(pk=prospect.pk)
    _check_counselor(prospect, counselor)
    if prospect.owner_id == counselor.pk:
        return prospect
    list(Prospect.objects.select_for_update().filter(owner=counselor).values_list("pk"))
    _check_cap(counselor, prospect.student.branch_id)
    return _set_owner(prospect, counselor, actor=actor, action="prospect.assign",
                      data={"previous_owner": prospect.owner_id})


@transaction.atomic
def prospect_release(*, prospect: Prospect, actor: Any, reason: str = "") -> Prospect:
    """Put a lead back into the branch's public pool."""
    prospect = Prospect.objects.select_for_update().select_related("student").get(pk=prospect.pk)
    if prospect.owner_id is None:
        return prospect
    return _set_owner(prospect, None, actor=actor, action="prospect.release",
                      data={"previous_owner": prospect.owner_id, "reason": reason})


def branch_counselors(branch_id: int) -> list[Any]:
    """Active counselors of a branch, in a stable order (round robin walks it)."""
    return list(get_user_model().objects.filter(
        is_active=True, staff_profile__role=Role.COUNSELOR, staff_profile__branch_id=branch_id,
    ).order_by("pk"))


@transaction.atomic
def leads_auto_assign(*, branch: Branch, actor: Any = None, mode: str | None = None,
                      limit: int = 500) -> list[tuple[int, int]]:
    """Hand the public pool's new leads to counselors, round robin or least loaded.

    Counselors at their cap are skipped; leads are taken oldest first. Returns
    [(prospect id, counselor id)]. The branch cursor is locked so two runs interleave
    correctly instead of giving the same counselor two turns.
    """
    policy = policy_for(branch.pk)
    mode = mode or policy.assignment_mode
    counselors = branch_counselors(branch.pk)
    if not counselors:
        return []
    cursor, _created = AssignmentCursor.objects.get_or_create(branch=branch)
    cursor = AssignmentCursor.objects.select_for_update().get(pk=cursor.pk)
    load = dict(Prospect.objects.filter(owner__in=counselors, stage__in=list(OPEN_STAGES))
                .values("owner").annotate(n=Count("pk")).values_list("owner", "n"))
    load = {c.pk: load.get(c.pk, 0) for c in counselors}
    leads = list(Prospect.objects.select_for_update(skip_locked=True)
                 .filter(owner__isnull=True, stage=Stage.NEW, student__branch=branch)
                 .order_by("created_at", "pk")[:limit])
    ids = [c.pk for c in counselors]
    by_id = {c.pk: c for c in counselors}
    out: list[tuple[int, int]] = []
    for lead in leads:
        open_ids = [i for i in ids if load[i] < policy.private_pool_cap]
        if not open_ids:
            break
        if mode == AssignmentMode.LEAST_LOADED:
            chosen = min(open_ids, key=lambda i: (load[i], i))
        else:
            last = cursor.last_user_id
            after = [i for i in open_ids if last is None or i > last]
            chosen = (after or open_ids)[0]
            cursor.last_user_id = chosen
        _set_owner(lead, by_id[chosen], actor=actor, action="prospect.assign",
                   data={"mode": mode})
        load[chosen] += 1
        out.append((lead.pk, chosen))
    cursor.save(update_fields=["last_user"])
    return out


def _idle_since_expr() -> Greatest:
    """The last sign of life of a lead: its own activity or the latest interaction."""
    last_contact = (Interaction.objects.filter(student=OuterRef("student")).order_by()
                    .values("student").annotate(t=Max("occurred_at")).values("t"))
    epoch = Value(_EPOCH, output_field=DateTimeField())
    # Coalesce both sides: GREATEST ignores NULL on PostgreSQL but not on SQLite.
    return Greatest(Coalesce(F("last_activity_at"), epoch),
                    Coalesce(Subquery(last_contact, output_field=DateTimeField()), epoch))


def release_idle_leads(*, now: dt.datetime | None = None) -> int:
    """Return private leads idle for the branch's policy days to the public pool.

    Idempotent and safe alongside staff: each lead is released with a conditional
    update (still owned by the same counselor, still idle), so a second run, or a
    counselor who just touched the lead, finds nothing to release.
    """
    now = now or timezone.now()
    owned = Prospect.objects.filter(owner__isnull=False, stage__in=list(OPEN_STAGES))
    branch_ids = set(owned.values_list("student__branch_id", flat=True).distinct())
    released = 0
    for branch_id, policy in policies_by_branch(sorted(branch_ids)).items():
        cutoff = now - dt.timedelta(days=policy.idle_release_days)
        rows = list(owned.filter(student__branch_id=branch_id)
                    .annotate(idle_since=_idle_since_expr())
                    .filter(idle_since__lt=cutoff)
                    .values_list("pk", "owner_id", "student_id"))
        if not rows:
            continue
        done: list[tuple[int, int, int]] = []
        with transaction.atomic():
            for pk, owner_id, student_id in rows:
                n = (Prospect.objects.filter(pk=pk, owner_id=owner_id,
                                             last_activity_at__lt=cutoff)
                     .exclude(student__interactions__occurred_at__gte=cutoff).update(
                    owner=None, pool=Pool.PUBLIC, claimed_at=None, last_activity_at=now))
                if not n:
                    continue  # touched or taken meanwhile
                Student.objects.filter(pk=student_id, counselor_id=owner_id).update(
                    counselor=None, updated_at=now)
                done.append((pk, owner_id, student_id))
            if done:
                AuditLog.objects.bulk_create([
                    AuditLog(action="prospect.idle_release", object_type="students.student",
                             object_id=str(student_id), branch_id=branch_id,
                             data={"prospect": pk, "previous_owner": owner_id,
                                   "idle_days": policy.idle_release_days})
                    for pk, owner_id, student_id in done])
        released += len(done)
    return released
