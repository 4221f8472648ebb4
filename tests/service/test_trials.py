"""Trial lessons as real records: a seat in a class lesson or a one-to-one slot, a teacher,
an outcome that moves the prospect's funnel; the course picker offers the grade first."""
from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from crm.roles import Role
from marketing.models import PipelineStep, Prospect, Stage, TrialLesson
from marketing.services import courses_for, trial_book, trial_record_outcome
from tests.factories import (
    ClassGroupFactory,
    ClassSessionFactory,
    ContractFactory,
    CourseFactory,
    StudentFactory,
    staff,
)
from tests.marketing.factories import paid_contract

pytestmark = pytest.mark.django_db


@pytest.fixture
def teacher(branch_a):
    return staff(Role.TEACHER, branch_a, username="t_chen", first_name="芳", last_name="陈")


@pytest.fixture
def lesson(branch_a, teacher):
    course = CourseFactory(name="高二数学提高班", level="S2")
    group = ClassGroupFactory(branch=branch_a, course=course, teacher=teacher, capacity=3)
    return ClassSessionFactory(class_group=group,
                               date=timezone.localdate() + dt.timedelta(days=2))


def _book(client, student, **data):
    return client.post(reverse("service:trial_book", args=[student.pk]), data)


def test_front_desk_books_a_seat_and_the_prospect_moves_to_trial_booked(
        as_user, family, front_desk_a, lesson, teacher):
    mother = family.parents.get(name="李梅")
    response = _book(as_user(front_desk_a), family, kind="class",
                     course=lesson.class_group.course_id, session=lesson.pk,
                     booked_with="parent", parent=mother.pk)
    trial = TrialLesson.objects.get()
    assert response.status_code == 302
    assert (trial.session, trial.teacher, trial.date, trial.outcome) == (
        lesson, teacher, lesson.date, "booked")
    prospect = Prospect.objects.get(student=family)
    assert prospect.stage == Stage.TRIAL_BOOKED
    assert prospect.next_follow_up == lesson.date
    # Booking the same seat again (a double click) keeps one booking.
    _book(as_user(front_desk_a), family, kind="class", course=lesson.class_group.course_id,
          session=lesson.pk, booked_with="parent", parent=mother.pk)
    assert TrialLesson.objects.count() == 1


def test_a_full_lesson_refuses_the_seat_on_the_lesson_field(as_user, family, front_desk_a,
                                                             lesson, branch_a):
    for _ in range(3):
        trial_book(student=StudentFactory(branch=branch_a), course=lesson.class_group.course,
                   session=lesson, actor=front_desk_a, booked_with="student")
    response = _book(as_user(front_desk_a), family, kind="class",
                     course=lesson.class_group.course_id, session=lesson.pk,
                     booked_with="student")
    assert "session" in response.context["form"].errors
    assert not TrialLesson.objects.filter(student=family).exists()


def test_a_lesson_of_another_course_is_refused(family, front_desk_a, lesson):
    with pytest.raises(ValidationError) as exc:
        trial_book(student=family, course=CourseFactory(), session=lesson, actor=front_desk_a,
                   booked_with="student")
    assert "session" in exc.value.message_dict


def test_a_one_to_one_slot_needs_a_teacher_of_the_branch_who_is_free(
        as_user, family, front_desk_a, teacher, teacher_a):
    course = CourseFactory(format="one_to_one")
    day = timezone.localdate() + dt.timedelta(days=1)
    client = as_user(front_desk_a)
    response = _book(client, family, kind="one_to_one", course=course.pk, date=day,
                     start_time="10:00", end_time="11:00", booked_with="student")
    assert "teacher" in response.context["form"].errors
    _book(client, family, kind="one_to_one", course=course.pk, date=day, start_time="10:00",
          end_time="11:00", teacher=teacher.pk, booked_with="student")
    assert TrialLesson.objects.get().teacher == teacher
    other = StudentFactory(branch=family.branch)
    response = _book(client, other, kind="one_to_one", course=course.pk, date=day,
                     start_time="10:30", end_time="11:30", teacher=teacher.pk,
                     booked_with="student")
    assert "start_time" in response.context["form"].errors  # the teacher is busy then
    assert TrialLesson.objects.count() == 1


def test_attended_moves_the_funnel_to_trial_attended_dated_by_the_lesson(
        as_user, family, named_counselor, teacher):
    course = CourseFactory()
    trial = TrialLesson.objects.create(
        student=family, course=course, date=timezone.localdate(), start_time=dt.time(9),
        end_time=dt.time(10), teacher=teacher, booked_with="student")
    url = reverse("service:trial", args=[trial.pk])
    response = as_user(named_counselor).post(url, {"outcome": "attended", "note": ""})
    assert response.status_code == 302
    trial.refresh_from_db()
    assert trial.outcome == "attended" and trial.outcome_by == named_counselor
    prospect = Prospect.objects.get(student=family)
    assert prospect.stage == Stage.TRIAL_ATTENDED
    step = PipelineStep.objects.get(prospect=prospect, stage=Stage.TRIAL_ATTENDED)
    assert step.on == trial.date and step.evidence == {"trial_lesson": trial.pk}


def test_a_future_trial_cannot_be_marked_attended(family, front_desk_a, teacher):
    trial = TrialLesson.objects.create(
        student=family, course=CourseFactory(), teacher=teacher, booked_with="student",
        date=timezone.localdate() + dt.timedelta(days=1), start_time=dt.time(9),
        end_time=dt.time(10))
    with pytest.raises(ValidationError) as exc:
        trial_record_outcome(trial=trial, outcome="attended", actor=front_desk_a)
    assert "outcome" in exc.value.message_dict
    trial.refresh_from_db()
    assert trial.outcome == "booked"


def test_enrolled_needs_a_paid_contract_then_moves_the_funnel_to_enrolled(
        family, front_desk_a, teacher):
    trial = TrialLesson.objects.create(
        student=family, course=CourseFactory(), teacher=teacher, booked_with="student",
        date=timezone.localdate(), start_time=dt.time(9), end_time=dt.time(10))
    with pytest.raises(ValidationError):
        trial_record_outcome(trial=trial, outcome="enrolled", actor=front_desk_a)
    assert TrialLesson.objects.get().outcome == "booked"
    paid_contract(family)
    trial_record_outcome(trial=trial, outcome="enrolled", actor=front_desk_a)
    assert Prospect.objects.get(student=family).stage == Stage.ENROLLED


def test_not_interested_loses_the_prospect_with_the_reason(family, front_desk_a, teacher):
    trial = TrialLesson.objects.create(
        student=family, course=CourseFactory(), teacher=teacher, booked_with="student",
        date=timezone.localdate(), start_time=dt.time(9), end_time=dt.time(10))
    trial_record_outcome(trial=trial, outcome="not_interested", actor=front_desk_a,
                         note="离家太远")
    prospect = Prospect.objects.get(student=family)
    assert prospect.stage == Stage.LOST and prospect.lost_reason == "离家太远"


def test_a_no_show_keeps_the_stage_and_puts_the_family_on_todays_follow_ups(
        as_user, family, front_desk_a, teacher):
    trial = TrialLesson.objects.create(
        student=family, course=CourseFactory(), teacher=teacher, booked_with="student",
        date=timezone.localdate(), start_time=dt.time(9), end_time=dt.time(10))
    trial_record_outcome(trial=trial, outcome="no_show", actor=front_desk_a)
    assert Prospect.objects.get(student=family).next_follow_up == timezone.localdate()
    rows = as_user(front_desk_a).get(reverse("service:follow_ups")).context["rows"]
    assert [r["student"] for r in rows] == [family]
    with pytest.raises(ValidationError):  # a recorded no-show is not turned into attended
        trial_record_outcome(trial=trial, outcome="attended", actor=front_desk_a)


def test_the_course_picker_offers_courses_fitting_the_grade_first(family, branch_a):
    CourseFactory(name="A初一英语", level="J1")
    fits = CourseFactory(name="Z高二物理", level="S2")
    CourseFactory(name="B小学数学", level="PL")
    names = [c.name for c in courses_for(family)]
    assert names[0] == fits.name
    little = StudentFactory(branch=branch_a, grade="P2")
    assert courses_for(little)[0].name == "B小学数学"


def test_teachers_cannot_book_trials_and_other_branches_get_404(
        as_user, family, teacher_a, front_desk_a, branch_b, lesson):
    assert as_user(teacher_a).get(reverse("service:trial_book",
                                          args=[family.pk])).status_code == 403
    other = StudentFactory(branch=branch_b)
    assert as_user(front_desk_a).get(reverse("service:trial_book",
                                             args=[other.pk])).status_code == 404


def test_the_trial_pages_stay_within_a_fixed_number_of_queries(
        as_user, family, front_desk_a, teacher, lesson, branch_a,
        django_assert_max_num_queries):
    for _ in range(6):
        s = StudentFactory(branch=branch_a)
        TrialLesson.objects.create(student=s, course=lesson.class_group.course, teacher=teacher,
                                   booked_with="student", date=timezone.localdate(),
                                   start_time=dt.time(9), end_time=dt.time(10))
    ContractFactory(student=family)
    client = as_user(front_desk_a)
    client.get(reverse("service:trials"))
    with django_assert_max_num_queries(12):
        response = client.get(reverse("service:trials"))
    assert len(response.context["pending"]) == 6
    with django_assert_max_num_queries(15):
        client.get(reverse("service:trial_book", args=[family.pk]))


def test_a_campaigns_trial_count_includes_trial_lessons_attended(family, front_desk_a,
                                                                 teacher):
    from marketing.models import Campaign
    from marketing.selectors import results_of, with_results
    from tests.marketing.factories import CampaignFactory

    def trials(c):
        return results_of(with_results(Campaign.objects.filter(pk=c.pk)).get())["trials"]

    campaign = CampaignFactory()
    Prospect.objects.create(student=family, campaign=campaign)
    trial = TrialLesson.objects.create(
        student=family, course=CourseFactory(), teacher=teacher, booked_with="student",
        date=timezone.localdate(), start_time=dt.time(9), end_time=dt.time(10))
    assert trials(campaign) == 0
    trial_record_outcome(trial=trial, outcome="attended", actor=front_desk_a)
    assert trials(campaign) == 1
