"""Word of mouth (DOMAIN.md §6-§7): who referred whom, and the referrer's reward."""
from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.services import audit
from parents.phones import normalize_phone
from students.models import Student

from ..models import Channel, Prospect, Referral, RewardPolicy
from ..selectors.facts import paid_contracts
from ..selectors.referrals import (
    can_record_referrals,
    can_set_rewards,
    referrer_parents,
    referrer_staff,
    referrer_students,
    scope_referrals,
)
from .prospects import prospect_retier

REFERRAL_CHANNEL = "referral"

# Reward status moves: earned when the referred family pays, then paid out; void ends it.
REWARD_NEXT: dict[str, frozenset[str]] = {
    Referral.RewardStatus.PENDING: frozenset({Referral.RewardStatus.EARNED,
                                              Referral.RewardStatus.VOID}),
    Referral.RewardStatus.EARNED: frozenset({Referral.RewardStatus.PAID,
                                             Referral.RewardStatus.VOID}),
    Referral.RewardStatus.PAID: frozenset(),
    Referral.RewardStatus.VOID: frozenset({Referral.RewardStatus.PENDING}),
}


def _check_recorder(actor: Any, referred: Student, referrers: dict[str, Any]) -> None:
    """A person recording a referral must see the referred account and may name only
    referrers of their own branch (head office: any); an unseen id is "not found", so
    the answer never reveals that a record exists."""
    from crm.permissions import scope_students

    if not can_record_referrals(actor):
        raise PermissionDenied(_("Your role may not record referrals."))
    if not scope_students(actor, Student.objects.filter(pk=referred.pk)).exists():
        raise ValidationError({"referred": _("No such student that you can see.")})
    pools = {"referrer_student": referrer_students, "referrer_parent": referrer_parents,
             "referrer_staff": referrer_staff}
    for field, who in referrers.items():
        if who is not None and not pools[field](actor).filter(pk=who.pk).exists():
            raise ValidationError({field: _("No such person in your branch.")})


@transaction.atomic
def referral_record(*, referred: Student, kind: str, actor: Any = None,
                    referrer_student: Student | None = None, referrer_parent: Any = None,
                    referrer_staff: Any = None, referrer_name: str = "",
                    referrer_phone: str = "", reward_policy: RewardPolicy | None = None,
                    note: str = "") -> Referral:
    """Attribute an account to its referrer (one referrer per account).

    An account without a source gets the referral channel, so the funnel by source and
    the prospect tier (word of mouth outweighs everything) see it. With a staff `actor`
    (pages, API) the actor's role and branch are checked; `actor=None` is the system
    (imports, tests of the rules).
    """
    if actor is not None:
        _check_recorder(actor, referred, {"referrer_student": referrer_student,
                                          "referrer_parent": referrer_parent,
                                          "referrer_staff": referrer_staff})
    if Referral.objects.filter(referred=referred).exists():
        raise ValidationError({"referred": ValidationError(
            _("This student's referrer is already recorded."), code="duplicate")})
    referrers = {Referral.Kind.STUDENT: referrer_student, Referral.Kind.PARENT: referrer_parent,
                 Referral.Kind.STAFF: referrer_staff}
    if kind not in Referral.Kind.values:
        raise ValidationError({"kind": _("Unknown kind of referrer.")})
    if kind != Referral.Kind.OUTSIDE and referrers[kind] is None:
        # Named on the field that is missing, so a form or client can point at it.
        field = {Referral.Kind.STUDENT: "referrer_student", Referral.Kind.PARENT:
                 "referrer_parent", Referral.Kind.STAFF: "referrer_staff"}[kind]
        raise ValidationError({field: _("Name the referrer.")})
    if kind == Referral.Kind.OUTSIDE and not referrer_name.strip():
        raise ValidationError({"referrer_name": _("Give the referrer's name.")})
    if referrer_student is not None and referrer_student.pk == referred.pk:
        raise ValidationError({"referrer_student": _("A student cannot refer themselves.")})
    if referrer_parent is not None and referred.guardianships.filter(
            parent=referrer_parent).exists():
        raise ValidationError({"referrer_parent": _(
            "A guardian of the student cannot be their referrer.")})
    if referrer_phone:
        referrer_phone = normalize_phone(referrer_phone)
    referral = Referral(
        referred=referred, kind=kind,
        referrer_student=referrer_student if kind == Referral.Kind.STUDENT else None,
        referrer_parent=referrer_parent if kind == Referral.Kind.PARENT else None,
        referrer_staff=referrer_staff if kind == Referral.Kind.STAFF else None,
        referrer_name=referrer_name.strip(), referrer_phone=referrer_phone,
        reward_policy=reward_policy, note=note.strip(),
        recorded_by=actor if getattr(actor, "pk", None) else None,
    )
    referral.full_clean()
    referral.save()
    if referred.source_id is None:
        channel = Channel.objects.filter(code=REFERRAL_CHANNEL).first()
        if channel is not None:
            referred.source = channel
            referred.save(update_fields=["source", "updated_at"])
    prospect = Prospect.objects.filter(student=referred).first()
    if prospect is not None:
        prospect_retier(prospect)
    audit(actor=actor, action="referral.record", obj=referred,
          data={"referral": referral.pk, "kind": kind})
    return referral


@transaction.atomic
def referral_reward_set(*, referral: Referral, status: str, actor: Any) -> Referral:
    """Move a reward along pending -> earned -> paid (or void); audited (it is money).

    Counselors, managers and head office only, on referrals they can see.
    """
    if not can_set_rewards(actor):
        raise PermissionDenied(_("Your role may not change referral rewards."))
    if not scope_referrals(actor).filter(pk=referral.pk).exists():
        raise PermissionDenied(_("This referral is not in your scope."))
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    if status not in REWARD_NEXT.get(referral.reward_status, frozenset()):
        raise ValidationError({"reward_status": _(
            "A reward cannot go from “%(from)s” to “%(to)s”.")
            % {"from": referral.get_reward_status_display(), "to": status}})
    if status == Referral.RewardStatus.EARNED and not paid_contracts().filter(
            student=referral.referred_id).exists():
        raise ValidationError({"reward_status": _(
            "The reward is earned when the referred family has a paid contract.")})
    old = referral.reward_status
    referral.reward_status, referral.reward_changed_at = status, timezone.now()
    referral.save(update_fields=["reward_status", "reward_changed_at"])
    audit(actor=actor, action="referral.reward", obj=referral.referred,
          data={"referral": referral.pk, "from": old, "to": status})
    return referral


def referral_rewards_refresh() -> int:
    """Pending rewards whose referred family now has a paid contract become earned.

    A conditional update: running it twice changes nothing the second time.
    """
    return (Referral.objects.filter(reward_status=Referral.RewardStatus.PENDING,
                                    reward_policy__isnull=False,
                                    referred__in=paid_contracts().values("student"))
            .update(reward_status=Referral.RewardStatus.EARNED,
                    reward_changed_at=timezone.now()))


@transaction.atomic
def referral_update(*, referral: Referral, actor: Any,
                    reward_policy: RewardPolicy | None = None, note: str | None = None
                    ) -> Referral:
    """Change the reward policy or the note of a referral whose reward is still pending
    (once earned, the promise made to the referrer is fixed)."""
    if not can_record_referrals(actor):
        raise PermissionDenied(_("Your role may not record referrals."))
    if not scope_referrals(actor).filter(pk=referral.pk).exists():
        raise PermissionDenied(_("This referral is not in your scope."))
    referral = Referral.objects.select_for_update().get(pk=referral.pk)
    changed: list[str] = []
    if reward_policy != referral.reward_policy:
        if referral.reward_status != Referral.RewardStatus.PENDING:
            raise ValidationError({"reward_policy": _(
                "The reward policy can change only while the reward is pending.")})
        if reward_policy is not None and not reward_policy.is_active:
            raise ValidationError({"reward_policy": _("This reward policy is not active.")})
        referral.reward_policy = reward_policy
        changed.append("reward_policy")
    if note is not None and note.strip() != referral.note:
        referral.note = note.strip()
        changed.append("note")
    if changed:
        referral.full_clean()
        referral.save(update_fields=changed)
        audit(actor=actor, action="referral.edit", obj=referral.referred,
              data={"referral": referral.pk, "fields": changed})
    return referral
