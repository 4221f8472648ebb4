"""Staff roles: one Django group per role, with the model permissions it needs.

The branch/caseload scoping of rows is in `crm.permissions`; these groups only
decide which models a role may view or change at all (the admin uses them).
"""
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    FRONT_DESK = "front_desk", _("Front desk")
    COUNSELOR = "counselor", _("Counselor")
    TEACHER = "teacher", _("Teacher")
    MANAGER = "manager", _("Branch manager")
    HEAD_OFFICE = "head_office", _("Head office")


_ACCOUNT = ["students.student", "parents.parent", "parents.guardianship",
            "parents.guardianconsent", "parents.contactconsent"]
_ENGAGEMENT = ["students.interaction", "students.complaint", "students.satisfactionsurvey"]
_MONEY = ["students.contract", "students.ledgerentry", "students.payment", "students.refund",
          "students.transfer", "students.retentionattempt"]
_TEACHING = ["students.course", "students.classgroup", "students.classsession",
             "students.attendance", "students.examscore", "students.makeup"]
_NOTICES = ["students.messagelog", "students.channelpreference"]
_SCORES = ["lifecycle.accountscore", "lifecycle.branchsnapshot", "lifecycle.scorehistory"]
_RETENTION_POLICY = ["lifecycle.playbook", "lifecycle.riskprofile"]
_MARKETING = ["marketing.campaign", "marketing.prospect", "marketing.referral",
              "marketing.exitinterview", "marketing.enquiry"]
_TIMETABLE_PLAN = ["timetable.room", "timetable.term", "timetable.closedday",
                   "timetable.schedulerule", "timetable.teacheravailability"]
_TIMETABLE_LOG = ["timetable.holiday", "timetable.sessionslot", "timetable.sessionchange",
                  "timetable.conflictoverride"]
_MARKETING_POLICY = ["marketing.marketingpolicy", "marketing.churnreason",
                     "marketing.rewardpolicy", "marketing.channel"]

# role -> {model label: actions}
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    Role.FRONT_DESK: {
        "auth.user": ("view",),
        **{m: ("view", "add", "change") for m in _ACCOUNT},
        **{m: ("view", "add") for m in ["students.interaction"]},
        **{m: ("view",)
           for m in ["students.course", "students.classgroup", "students.classsession"]},
        **{m: ("view", "add", "change") for m in ["students.attendance", "students.makeup"]},
        # Front desk hears "a friend sent us" first; rewards (money) stay with counselors.
        "marketing.referral": ("view", "add"),
        **{m: ("view",) for m in _TIMETABLE_PLAN + _TIMETABLE_LOG},
        "timetable.leaverequest": ("view", "add"),
    },
    Role.COUNSELOR: {
        "auth.user": ("view",),
        "lifecycle.retentiontask": ("view", "change"),
        "lifecycle.accountscore": ("view",),
        **{m: ("view", "add", "change") for m in _MARKETING if m != "marketing.campaign"},
        **{m: ("view",) for m in _NOTICES},
        "lifecycle.transition": ("view",),
        **{m: ("view", "add", "change") for m in _ACCOUNT + _ENGAGEMENT},
        **{m: ("view",) for m in _MONEY + _TEACHING},
        **{m: ("view",) for m in _TIMETABLE_PLAN + _TIMETABLE_LOG},
        "timetable.leaverequest": ("view", "add"),
    },
    Role.TEACHER: {
        # Teachers may see who a pupil's guardians are, with contacts masked.
        **{m: ("view",) for m in ["students.student", "students.course", "students.classgroup",
                                  "parents.parent", "parents.guardianship"]},
        **{m: ("view", "add", "change") for m in ["students.classsession", "students.attendance",
                                                  "students.examscore"]},
        "students.interaction": ("view", "add"),
        **{m: ("view",) for m in ["timetable.room", "timetable.term", "timetable.schedulerule"]},
        "timetable.calendarfeed": ("view", "add", "change"),
    },
    Role.MANAGER: {
        **{m: ("view", "add", "change") for m in _ACCOUNT + _ENGAGEMENT + _MONEY + _TEACHING},
        **{m: ("view",) for m in _NOTICES},
        "students.contractpolicy": ("view", "change"),
        "lifecycle.retentiontask": ("view", "change"),
        **{m: ("view",) for m in _SCORES},
        **{m: ("view", "change") for m in _RETENTION_POLICY},
        **{m: ("view", "add", "change") for m in _MARKETING},
        **{m: ("view", "change") for m in _MARKETING_POLICY},
        "auth.user": ("view",),
        "lifecycle.transition": ("view",),
        "lifecycle.lifecyclepolicy": ("view", "change"),
        "lifecycle.scanrun": ("view",),
        "crm.staffprofile": ("view",),
        "crm.branch": ("view",),
        "crm.auditlog": ("view",),
        **{m: ("view", "add", "change") for m in _TIMETABLE_PLAN},
        **{m: ("view",) for m in _TIMETABLE_LOG},
        "timetable.leaverequest": ("view", "add"),
    },
    Role.HEAD_OFFICE: {
        **{m: ("view", "add", "change", "delete")
           for m in _ACCOUNT + _ENGAGEMENT + _MONEY + _TEACHING},
        **{m: ("view",) for m in _NOTICES},
        "students.contractpolicy": ("view", "add", "change"),
        "lifecycle.retentiontask": ("view", "change"),
        **{m: ("view",) for m in _SCORES},
        **{m: ("view", "add", "change") for m in _RETENTION_POLICY},
        **{m: ("view", "add", "change") for m in _MARKETING + _MARKETING_POLICY},
        "auth.user": ("view", "add", "change"),
        "lifecycle.transition": ("view",),
        "lifecycle.lifecyclepolicy": ("view", "add", "change"),
        "lifecycle.scanrun": ("view",),
        "crm.staffprofile": ("view", "add", "change"),
        "crm.branch": ("view", "add", "change"),
        "crm.auditlog": ("view",),
        **{m: ("view", "add", "change") for m in [*_TIMETABLE_PLAN, "timetable.holiday"]},
        **{m: ("view",) for m in _TIMETABLE_LOG if m != "timetable.holiday"},
        "timetable.leaverequest": ("view", "add"),
    },
}


def sync_role_groups(**kwargs: Any) -> None:
    """Create/refresh one auth group per role with exactly the permissions above."""
    from django.contrib.auth.models import Group, Permission

    for role, grants in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        wanted = []
        for label, actions in grants.items():
            app_label, model = label.split(".")
            codenames = [f"{a}_{model}" for a in actions]
            wanted.extend(
                Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
            )
        group.permissions.set(wanted)
