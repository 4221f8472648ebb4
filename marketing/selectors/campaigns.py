"""Campaign reads: who sees which campaigns, the audience a segment produces, results."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.db.models.functions import Coalesce

from crm.permissions import branch_of, role_of, scope_students
from crm.roles import Role
from lifecycle.models import Transition
from parents.models import ContactConsent, Guardianship
from students.models import ExamScore, Payment, Refund, Student

from ..models import Campaign, Enquiry, HandoffRecipient, Prospect
from .facts import ZERO, paid_contracts, trial_attendances, trial_lessons_attended

MANAGING_ROLES = frozenset({Role.MANAGER, Role.HEAD_OFFICE})


def can_manage_campaigns(user: Any) -> bool:
    """Campaigns spend money and contact families: managers and head office."""
    return role_of(user) in MANAGING_ROLES


def scope_campaigns(user: Any, qs: QuerySet | None = None) -> QuerySet:
    """Head office sees all; branch roles their branch's campaigns and institution-wide ones."""
    qs = Campaign.objects.all() if qs is None else qs
    role = role_of(user)
    if role is None:
        return qs.none()
    if role == Role.HEAD_OFFICE:
        return qs
    return qs.filter(Q(branch=branch_of(user)) | Q(branch__isnull=True))


def segment_students(campaign: Campaign) -> QuerySet:
    """Students matching the campaign's target segment (no scoping, no consent yet).

    Win-back campaigns also keep only the ended accounts worth an offer by value and
    exit reason (analytics.win_back_eligible), whatever periods the segment names.
    """
    qs = Student.objects.all()
    if campaign.branch_id:
        qs = qs.filter(branch_id=campaign.branch_id)
    if campaign.target_periods:
        qs = qs.filter(period__in=campaign.target_periods)
    if campaign.target_grades:
        qs = qs.filter(grade__in=campaign.target_grades)
    if campaign.target_segments:
        # Stored value segments (lifecycle AccountScore): unscored accounts drop out.
        qs = qs.filter(score__segment__in=campaign.target_segments)
    if campaign.kind == Campaign.Kind.WIN_BACK:
        # A win-back offer goes to ended accounts worth it (reason and value); the
        # campaign's own dates are its moment (new term, after exams).
        from crm.models import Branch

        from .analytics import win_back_eligible

        branch_ids = ([campaign.branch_id] if campaign.branch_id
                      else list(Branch.objects.values_list("pk", flat=True)))
        qs = win_back_eligible(qs, branch_ids)
    if campaign.exam_from or campaign.exam_until:
        exams = ExamScore.objects.filter(student=OuterRef("pk"))
        if campaign.exam_from:
            exams = exams.filter(exam_date__gte=campaign.exam_from)
        if campaign.exam_until:
            exams = exams.filter(exam_date__lte=campaign.exam_until)
        qs = qs.filter(Exists(exams))
    return qs


def campaign_audience(campaign: Campaign, user: Any) -> QuerySet:
    """The guardianships a campaign reaches: one row per (student, contactable parent).

    Only the primary contact and decision makers (DOMAIN.md §2: talk to the decider),
    only parents who granted consent on the campaign's channel, and only students both
    the campaign's creator and the asking user may see (a branch manager's campaign
    never reaches another branch, whoever exports it).
    """
    students = segment_students(campaign)
    students = scope_students(user, students)
    if campaign.created_by_id is not None:
        students = scope_students(campaign.created_by, students)
    consented = ContactConsent.objects.filter(parent=OuterRef("parent"),
                                              channel=campaign.contact_channel, granted=True)
    return (Guardianship.objects
            .filter(student__in=students.values("pk"))
            .filter(Q(is_primary_contact=True) | Q(is_decision_maker=True))
            .filter(Exists(consented))
            .select_related("student", "parent", "student__branch")
            .order_by("student_id", "parent_id"))


def _count_sub(qs: QuerySet, key: str) -> Coalesce:
    sub = qs.order_by().values(key).annotate(n=Count("pk", distinct=True)).values("n")
    return Coalesce(Subquery(sub, output_field=IntegerField()), 0)


def _sum_sub(qs: QuerySet, key: str) -> Coalesce:
    dec = DecimalField(max_digits=14, decimal_places=2)
    sub = qs.order_by().values(key).annotate(s=Sum("amount")).values("s")
    return Coalesce(Subquery(sub, output_field=dec), ZERO)


def with_results(qs: QuerySet) -> QuerySet:
    """Annotate each campaign's results set-based (one query for any number of rows):
    enquiries, prospects, trials (real trial attendance), enrolments (paid contract),
    revenue (payments minus refunds paid out, of its prospects) and won back (families
    in its handoffs who came back after the handoff)."""
    mine = Prospect.objects.filter(campaign=OuterRef("pk"))
    won_back = HandoffRecipient.objects.filter(handoff__campaign=OuterRef("pk")).filter(
        Exists(Transition.objects.filter(student=OuterRef("student"), win_back=True,
                                         at__gt=OuterRef("handoff__at"))))
    return qs.annotate(
        r_enquiries=_count_sub(Enquiry.objects.filter(campaign=OuterRef("pk")), "campaign"),
        r_prospects=_count_sub(mine, "campaign"),
        r_trials=_count_sub(mine.filter(
            Q(student__in=trial_attendances().values("student"))
            | Q(student__in=trial_lessons_attended().values("student"))), "campaign"),
        r_enrolments=_count_sub(mine.filter(student__in=paid_contracts().values("student")),
                                "campaign"),
        r_paid=_sum_sub(Payment.objects.filter(
            contract__student__prospect__campaign=OuterRef("pk")),
            "contract__student__prospect__campaign"),
        r_refunded=_sum_sub(Refund.objects.filter(
            contract__student__prospect__campaign=OuterRef("pk"), status=Refund.Status.PAID),
            "contract__student__prospect__campaign"),
        r_won_back=Coalesce(Subquery(
            won_back.order_by().values("handoff__campaign")
            .annotate(n=Count("student", distinct=True)).values("n"),
            output_field=IntegerField()), 0),
    )


def results_of(campaign: Any) -> dict[str, Any]:
    """Plain figures of a campaign annotated by `with_results` (for pages and the API)."""
    revenue = campaign.r_paid - campaign.r_refunded
    per = (campaign.cost / campaign.r_enrolments).quantize(Decimal("0.01")) \
        if campaign.r_enrolments else None
    return {"enquiries": campaign.r_enquiries, "prospects": campaign.r_prospects,
            "trials": campaign.r_trials, "enrolments": campaign.r_enrolments,
            "revenue": revenue, "won_back": campaign.r_won_back, "cost": campaign.cost,
            "cost_per_enrolment": per}


def audience_size(campaign: Campaign, user: Any) -> dict[str, int]:
    """The audience preview on the campaign page: families (students) and parents it
    would reach now, consent and scoping applied, in one aggregate query."""
    return campaign_audience(campaign, user).order_by().aggregate(
        students=Count("student", distinct=True), parents=Count("parent", distinct=True))
