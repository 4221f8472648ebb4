"""Writes the engagement facts of a demo chunk: exams, contacts, complaints and surveys,
shaped by each student's period (the risk scan and value scores read them).

Called by the orchestrator in lifecycle/demo.py with its chunk builder `b`."""
from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import TYPE_CHECKING

from crm.db import db_datetime
from crm.demo import local_dt
from crm.roles import Role
from lifecycle.periods import Period
from students.demo.plans import StudentPlan, pick_course
from students.demo.vocabulary import (
    COMPLAINT_TEXT,
    CONSUMING,
    EXIT_REASONS,
    INTERACTION_TEXT,
    SURVEY_COMMENTS,
    level_of,
)
from students.models import Complaint, ExamScore, Interaction, SatisfactionSurvey

if TYPE_CHECKING:
    from lifecycle.demo import ChunkBuilder


def maturity_survey(rng: random.Random, sp: StudentPlan) -> float:
    """The satisfied survey shortly before the account reached maturity (kept on the plan
    until the chunk is written); returns the mean rating of the later of the two answers,
    the figure the maturity rule read that day."""
    day = max(sp.student.created_at.date(),
              sp.maturity_on - dt.timedelta(days=rng.randint(1, 20)))
    primary = next(p for p, _r, pr, _d in sp.guardians if pr)
    for who, hour in (("student", rng.randint(10, 15)), ("parent", rng.randint(16, 21))):
        overall = rng.randint(4, 5)
        sp.pre_surveys.append(SatisfactionSurvey(
            student=sp.student, respondent=who, parent=primary if who == "parent" else None,
            surveyed_at=local_dt(day, hour), overall=overall,
            teaching=max(4, min(5, overall + rng.choice([-1, 0, 0, 1]))),
            service=max(4, min(5, overall + rng.choice([-1, 0, 0, 1]))),
            environment=rng.randint(4, 5), recommend=overall * 2 - rng.randint(0, 1),
            comment=SURVEY_COMMENTS[overall] if rng.random() < 0.5 else ""))
    last = sp.pre_surveys[-1]
    return (last.overall + last.teaching + last.service + last.environment) / 4


def write_engagement(b: ChunkBuilder) -> None:
    """Exams, contacts, complaints and surveys, shaped by each student's period."""
    rng, world, today = b.rng, b.world, b.today
    exams, interactions, complaints, surveys = [], [], [], []
    for sp in b.plans:
        st = sp.student
        bstaff = world.staff[st.branch.pk]
        staff_member = st.counselor or bstaff[Role.FRONT_DESK][0]
        parents = [p for p, *_ in sp.guardians]
        primary = next(p for p, _r, pr, _d in sp.guardians if pr)
        main = sp.main
        course_name = (main.course.name if main else
                       pick_course(rng, world.courses, st.grade).name)
        start = st.created_at.date()
        end = sp.end_date or today
        # Those who left for reasons outside the institution were not unhappy with it.
        worse = (sp.period in (Period.AT_RISK, Period.TERMINATION, Period.LAPSED)
                 and not sp.external_exit)

        def survey(day: dt.date, lo: int, hi: int, *, st=st, primary=primary) -> None:
            """Student and parent answer separately (each may skip it)."""
            for who in ("student", "parent"):
                if rng.random() < 0.8:
                    overall = rng.randint(lo, hi)
                    surveys.append(SatisfactionSurvey(
                        student=st, respondent=who,
                        parent=primary if who == "parent" else None,
                        surveyed_at=local_dt(day, rng.randint(10, 21)), overall=overall,
                        teaching=max(1, min(5, overall + rng.choice([-1, 0, 0, 1]))),
                        service=max(1, min(5, overall + rng.choice([-1, 0, 0, 1]))),
                        environment=rng.randint(3, 5),
                        recommend=max(0, min(10, overall * 2 + rng.randint(-2, 0))),
                        comment=SURVEY_COMMENTS[overall] if rng.random() < 0.5 else ""))

        def contact(kind: str, day: dt.date, sentiment: str, *, st=st, parents=parents,
                    primary=primary, course_name=course_name, staff_member=staff_member,
                    ) -> None:
            with_parent = rng.random() < 0.7
            parent = (primary if rng.random() < 0.7 else rng.choice(parents)) \
                if with_parent else None
            who = "家长" if with_parent else "学员"
            interactions.append((
                st.pk, "parent" if with_parent else "student",
                parent.pk if parent else None,
                rng.choices(["call", "wechat", "visit", "meeting", "sms"],
                            weights=[35, 35, 15, 10, 5])[0],
                staff_member.pk, db_datetime(local_dt(day, rng.randint(9, 20), rng.randint(0, 59))),
                rng.choice(INTERACTION_TEXT[kind]).format(
                    course=course_name, who=who, reason=rng.choice(EXIT_REASONS)),
                sentiment,
                today + dt.timedelta(days=rng.randint(1, 14))
                if kind in ("negative", "first") and day >= today - dt.timedelta(days=14)
                else None))

        contact("first", start, "neutral")
        if sp.period == Period.PROSPECTING:
            trial = main.contracts[0] if main else None
            if trial is not None and trial.statuses[0] in CONSUMING and rng.random() < 0.7:
                # A trial that went well: follow-up calls and the trial feedback form.
                day = trial.dates[0]
                for _i in range(2):
                    contact("trial", min(today, day + dt.timedelta(days=rng.randint(0, 5))),
                            "positive")
                survey(min(today, day + dt.timedelta(days=1)), 4, 5)
                continue
            for _i in range(rng.randint(0, 2)):
                day = start + dt.timedelta(days=rng.randint(0, max(0, (today - start).days)))
                contact("trial" if main else "first", day,
                        rng.choice(["positive", "neutral", "neutral", "negative"]))
            continue
        span = max(1, (end - start).days)
        for _i in range(rng.randint(1, 4)):
            day = start + dt.timedelta(days=rng.randint(1, span))
            contact("regular", min(day, today), "positive" if rng.random() < 0.6 else "neutral")
        if sp.absence_run or sp.period == Period.AT_RISK:
            for _i in range(rng.randint(1, 2)):
                contact("negative", today - dt.timedelta(days=rng.randint(0, 10)), "negative")
        if sp.period in (Period.TERMINATION, Period.LAPSED):
            contact("exit", min(today, end + dt.timedelta(days=rng.randint(1, 10))),
                    "positive" if sp.external_exit else "negative")
            if sp.period == Period.LAPSED and rng.random() < 0.4:
                contact("winback", today - dt.timedelta(days=rng.randint(0, 40)), "neutral")
        if sp.spell is not None:  # the call about the absences, then the good news
            _plan, flagged, back, _cleared = sp.spell
            contact("negative", flagged + dt.timedelta(days=rng.randint(1, 3)), "negative")
            contact("regular", back + dt.timedelta(days=rng.randint(1, 7)), "positive")
        if sp.old_end is not None:  # the call that brought a lapsed family back
            back = min(c.signed_on for c in sp.paid)
            contact("winback", back - dt.timedelta(days=rng.randint(3, 20)), "positive")

        # exam results in the main subject, trending up (or down when it goes badly)
        subject = main.course.subject
        full = Decimal(150) if subject in ("math", "english", "chinese") and \
            level_of(st.grade) != "P" else Decimal(100)
        level = rng.uniform(0.5, 0.82)
        slope = rng.uniform(0.015, 0.04) * (-1 if (worse and rng.random() < 0.7)
                                            or rng.random() < 0.15 else 1)
        day = (max(start, today - dt.timedelta(days=365))
               + dt.timedelta(days=rng.randint(20, 40)))
        i = 0
        while day <= end:
            pct = min(0.98, max(0.2, level + slope * i + rng.uniform(-0.03, 0.03)))
            kind = ("final" if day.month in (1, 6) else "midterm" if day.month in (4, 11)
                    else "mock" if st.grade == "S3" and day.month in (3, 5) else "quiz")
            label = {"final": "期末考试", "midterm": "期中考试", "mock": "模拟考试",
                     "quiz": "月考"}[kind]
            exams.append((st.pk, subject, f"{day.year}年{day.month}月{label}", kind, day,
                          Decimal(round(float(full) * pct * 2)) / 2, full,
                          db_datetime(local_dt(min(today, day + dt.timedelta(days=3)), 20))))
            day += dt.timedelta(days=rng.randint(28, 45))
            i += 1

        # complaints: the best source of at-risk causes. An account at risk now has one
        # still open from before its flag, past its deadline: with the absences that is
        # the second fact that carried it over the threshold (its history says so, and
        # one fact counts once: the absences alone are below it).
        flagged_on = next((m.at.date() for m in reversed(sp.moves)
                           if m.to_period == Period.AT_RISK), None)
        if rng.random() < ({Period.AT_RISK: 1.0, Period.TERMINATION: 0.5,
                            Period.LAPSED: 0.2}.get(sp.period, 0.05) if worse else 0.05):
            category = rng.choice(list(COMPLAINT_TEXT))
            recent = sp.period == Period.AT_RISK
            created_day = (max(start, flagged_on - dt.timedelta(days=rng.randint(3, 8)))
                           if recent and flagged_on is not None
                           else today - dt.timedelta(days=rng.randint(0, 12)) if recent
                           else start + dt.timedelta(days=rng.randint(1, span)))
            created = local_dt(min(created_day, today), rng.randint(9, 20))
            status = (rng.choice(["open", "in_progress", "in_progress"]) if recent
                      else "resolved" if rng.random() < 0.85 else "in_progress")
            resolved = (min(created + dt.timedelta(hours=rng.randint(2, 96)), local_dt(today, 20))
                        if status == "resolved" else None)
            by_parent = rng.random() < 0.7
            complaints.append(Complaint(
                student=st, raised_by="parent" if by_parent else "student",
                parent=primary if by_parent else None, category=category,
                description=COMPLAINT_TEXT[category], status=status,
                owner=st.counselor or bstaff[Role.MANAGER][0],
                sla_due=created + dt.timedelta(hours=48), created_at=created,
                resolved_at=resolved,
                resolution="已与家长沟通并调整安排" if resolved else ""))

        # satisfaction: the survey that let it reach maturity (planned with its history),
        # then the latest one
        surveys.extend(sp.pre_surveys)
        # DOMAIN.md §6: new customers get a satisfaction check in their first weeks.
        first_weeks = sp.period == Period.SOCIALIZATION
        if rng.random() < (0.6 if worse else 0.9 if first_weeks else 0.55):
            lo, hi = (1, 3) if worse else ((4, 5) if sp.period == Period.MATURITY
                                           or sp.external_exit
                                           or (first_weeks and rng.random() < 0.7) else (3, 5))
            day = min(today, end - dt.timedelta(days=rng.randint(0, 20)))
            survey(max(day, start), lo, hi)
    b.raw(ExamScore, ["student_id", "subject", "exam_name", "kind", "exam_date", "score",
                          "full_marks", "recorded_at"], exams)
    b.raw(Interaction, ["student_id", "with_whom", "parent_id", "channel", "staff_id",
                            "occurred_at", "summary", "sentiment", "next_follow_up"],
              interactions)
    b.put(Complaint, complaints)
    b.put(SatisfactionSurvey, surveys)
