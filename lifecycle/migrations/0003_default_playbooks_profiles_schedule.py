"""Defaults as data: the DOMAIN.md §6 playbooks, a socialization risk profile and the
nightly schedule (a django_celery_beat PeriodicTask managers can see and adjust)."""
from decimal import Decimal

from django.db import migrations

PLAYBOOKS = [
    # code, period, segment, condition, value, assignee, due, hours, cooldown, priority,
    # zh title, en title, zh description, en description
    ("first-lesson-follow-up", "socialization", "", "first_lesson", None, "counselor",
     "hours", 48, 365, 60,
     "首课回访（48小时内联系决策人）", "First-lesson follow-up with the decider within 48 h",
     "首课后48小时内联系决策人，了解体验和需求，完善客户信息，做好满意度确认。",
     "Within 48 hours of the first lesson, call the decider: how did it go, what do they "
     "need; complete the customer record and check satisfaction."),
    ("renewal-conversation", "growth", "", "hours_left", Decimal("4"), "counselor",
     "hours", 168, 60, 60,
     "续费沟通（剩余课时约4周）", "Renewal conversation (about 4 weeks of hours left)",
     "剩余课时约4周时与决策人沟通学习效果和下一阶段计划，提出续费建议。",
     "With about four weeks of hours left, review progress with the decider and propose "
     "the next package."),
    ("referral-request", "maturity", "", "in_period", None, "counselor",
     "hours", 336, 180, 30,
     "请求转介绍", "Ask for a referral",
     "成熟期客户信任度高：表达感谢，邀请推荐同学或亲友，并告知转介绍礼遇。",
     "Mature customers trust us: thank them, ask them to recommend classmates or "
     "relatives, mention the referral reward."),
    ("at-risk-manager-call", "at_risk", "core", "in_period", None, "manager",
     "hours", 24, 14, 90,
     "核心客户危险期：校区主管24小时内致电", "Core account at risk: branch manager calls within 24 h",
     "核心价值客户进入危险期：主管亲自联系决策人，找出原因（先看投诉），当场给出解决方案。",
     "A core account is at risk: the branch manager calls the decider, finds the cause "
     "(complaints first) and offers a fix."),
    ("at-risk-recovery", "at_risk", "", "in_period", None, "counselor",
     "hours", 48, 14, 70,
     "危险期挽留：找原因、联系决策人", "At risk: find the cause, talk to the decider",
     "查看预警原因，48小时内联系决策人，解决问题并记录结果；按客户价值决定投入。",
     "Read the warning's reasons, talk to the decider within 48 hours, fix what can be "
     "fixed and record the outcome; invest according to the account's value."),
    ("exit-interview", "termination", "", "in_period", None, "counselor",
     "hours", 72, 365, 50,
     "离校访谈并记录原因", "Exit interview and record the reason",
     "了解解约/不续费的真实原因并记录，能挽回则提出挽回方案。",
     "Find out and record the real reason for leaving; offer a way back where possible."),
    ("win-back", "lapsed", "", "in_period", None, "counselor",
     "next_term", 0, 120, 30,
     "挽回：新学期开学或考试后再联系", "Win back at the next term or after exams",
     "在新学期开学前或大考之后的合适时机重新联系，介绍新课程或优惠。",
     "Re-approach at the right moment (before a new term, after exams) with new courses "
     "or an offer."),
]

SOCIALIZATION_PROFILE = {
    # The first weeks: two missed lessons already matter, contact must be close, no
    # baseline or exam trend to judge yet.
    "threshold": 50, "absence_streak": 2, "weight_absences": 30,
    "attendance_rate": Decimal("0.8"), "weight_attendance": 20,
    "weight_attendance_drop": 0, "contact_days": 14, "weight_contact": 15,
    "weight_exam": 5,
}


def forwards(apps, schema_editor):
    Playbook = apps.get_model("lifecycle", "Playbook")
    for (code, period, segment, cond, value, assignee, due, hours, cooldown, prio,
         tzh, ten, dzh, den) in PLAYBOOKS:
        Playbook.objects.get_or_create(code=code, branch=None, defaults={
            "period": period, "segment": segment, "condition": cond,
            "condition_value": value, "assignee": assignee, "due": due, "due_hours": hours,
            "cooldown_days": cooldown, "priority": prio, "title_zh": tzh, "title_en": ten,
            "description_zh": dzh, "description_en": den})
    RiskProfile = apps.get_model("lifecycle", "RiskProfile")
    RiskProfile.objects.get_or_create(branch=None, period="socialization",
                                      defaults=SOCIALIZATION_PROFILE)
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    cron, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="2", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="Asia/Shanghai")
    PeriodicTask.objects.get_or_create(
        name="lifecycle: nightly scores, rules and retention tasks",
        defaults={"task": "lifecycle.tasks.nightly_lifecycle_task", "crontab": cron,
                  "enabled": True, "kwargs": "{}",
                  "description": "Recompute figures -> scores -> lifecycle rules -> "
                                 "retention tasks; escalate overdue tasks; refresh the "
                                 "branch snapshots. Resumable and idempotent per day."})


def backwards(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        task="lifecycle.tasks.nightly_lifecycle_task").delete()
    apps.get_model("lifecycle", "RiskProfile").objects.filter(branch=None,
                                                              period="socialization").delete()
    apps.get_model("lifecycle", "Playbook").objects.filter(
        branch=None, code__in=[p[0] for p in PLAYBOOKS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("lifecycle", "0002_scores_playbooks_tasks"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
