"""Template helpers of the marketing pages."""
from typing import Any

from django import template

register = template.Library()


@register.filter
def get_item(mapping: Any, key: Any) -> Any:
    """mapping[key] in a template (dict rows keyed by month or dimension)."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None


@register.inclusion_tag("marketing/_account_marketing.html", takes_context=True)
def account_marketing(context: Any, student: Any) -> dict[str, Any]:
    """The account page's recovery and word-of-mouth card: the exit interview (due or
    recorded) and who referred the family. Two queries; shown to the roles that act."""
    from crm.permissions import role_of
    from lifecycle.periods import ENDED_PERIODS

    from ..models import ExitInterview, Referral
    from ..selectors import can_record_referrals
    from ..services.recovery import INTERVIEW_ROLES, exit_interview_due

    user = context["request"].user
    ended = student.period in ENDED_PERIODS
    return {
        "student": student,
        "can_interview": role_of(user) in INTERVIEW_ROLES,
        "can_refer": can_record_referrals(user),
        "interview_due": ended and exit_interview_due(student),
        "interview": (ExitInterview.objects.filter(student=student).select_related("reason")
                      .order_by("-held_on", "-id").first()),
        "referral": (Referral.objects.filter(referred=student).select_related(
            "referrer_student", "referrer_parent", "referrer_staff").first()),
    }


@register.inclusion_tag("marketing/_account_trials.html")
def account_trials(student: Any) -> dict[str, Any]:
    """The account page's trial lessons (latest first) with their outcome. One query."""
    from ..models import TrialLesson

    return {"student": student,
            "trials": list(TrialLesson.objects.filter(student=student)
                           .select_related("course", "teacher__staff_profile")
                           .order_by("-date", "-start_time", "-id")[:5])}
