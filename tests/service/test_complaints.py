"""Complaints and surveys as workspace pages: enter, assign, resolve on an SLA clock, record
a survey answer; both on the 360 page and in the next scan's risk factors."""
from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from lifecycle.models import RiskState
from lifecycle.pipeline import scan_lifecycle
from students.models import Complaint, Interaction, SatisfactionSurvey
from tests.factories import ComplaintFactory, InteractionFactory, StudentFactory

pytestmark = pytest.mark.django_db


def _enter(client, student, **data):
    url = reverse("service:complaint_create", args=[student.pk])
    body = {"raised_by": "parent", "category": "teaching", "description": "老师讲得太快",
            **data}
    return client.post(url, body)


def test_a_counselor_enters_a_complaint_from_a_parent_with_the_sla_from_the_policy(
        as_user, family, named_counselor):
    mother = family.parents.get(name="李梅")
    response = _enter(as_user(named_counselor), family, parent=mother.pk)
    complaint = Complaint.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("service:complaint", args=[complaint.pk])
    assert complaint.parent == mother and complaint.owner == named_counselor
    assert complaint.status == Complaint.Status.OPEN
    assert complaint.sla_due == complaint.created_at + dt.timedelta(hours=48)


def test_a_parent_complaint_without_the_parent_names_the_field_and_saves_nothing(
        as_user, family, named_counselor):
    response = _enter(as_user(named_counselor), family)
    assert "parent" in response.context["form"].errors
    assert not Complaint.objects.exists()


def test_a_double_clicked_submit_records_one_complaint(as_user, family, named_counselor):
    client = as_user(named_counselor)
    mother = family.parents.get(name="李梅")
    _enter(client, family, parent=mother.pk)
    _enter(client, family, parent=mother.pk)
    assert Complaint.objects.count() == 1


def test_front_desk_and_teachers_cannot_enter_complaints(as_user, family, front_desk_a,
                                                         teacher_a):
    assert _enter(as_user(front_desk_a), family, raised_by="student").status_code == 403
    assert _enter(as_user(teacher_a), family, raised_by="student").status_code == 403
    assert as_user(front_desk_a).get(reverse("service:complaints")).status_code == 403
    assert not Complaint.objects.exists()


def test_another_branch_cannot_see_or_enter_a_complaint(as_user, family, manager_b):
    complaint = ComplaintFactory(student=family)
    client = as_user(manager_b)
    assert _enter(client, family, raised_by="student").status_code == 404
    assert client.get(reverse("service:complaint", args=[complaint.pk])).status_code == 404


def test_a_manager_assigns_and_the_owner_resolves_with_a_resolution(
        as_user, family, named_counselor, manager_a, counselor_a2):
    complaint = ComplaintFactory(student=family, owner=named_counselor)
    url = reverse("service:complaint", args=[complaint.pk])
    as_user(manager_a).post(url, {"status": "in_progress", "owner": manager_a.pk,
                                  "resolution": ""})
    complaint.refresh_from_db()
    assert complaint.owner == manager_a and complaint.status == "in_progress"
    # Resolving without saying what was done is refused, on the field.
    response = as_user(named_counselor).post(url, {"status": "resolved", "resolution": ""})
    assert "resolution" in response.context["form"].errors
    complaint.refresh_from_db()
    assert complaint.status == "in_progress" and complaint.resolved_at is None
    as_user(named_counselor).post(url, {"status": "resolved", "resolution": "换了老师"})
    complaint.refresh_from_db()
    assert complaint.status == "resolved" and complaint.resolved_at is not None
    assert complaint.owner == manager_a  # a counselor cannot reassign


def test_a_counselor_cannot_reassign_a_complaint(as_user, family, named_counselor,
                                                  manager_a):
    complaint = ComplaintFactory(student=family, owner=named_counselor)
    url = reverse("service:complaint", args=[complaint.pk])
    as_user(named_counselor).post(url, {"status": "open", "owner": manager_a.pk,
                                        "resolution": ""})
    complaint.refresh_from_db()
    assert complaint.owner == named_counselor


def test_the_list_puts_late_complaints_first_and_flags_them(as_user, family, manager_a,
                                                             django_assert_max_num_queries):
    late = ComplaintFactory(student=family, sla_due=timezone.now() - dt.timedelta(hours=3))
    on_time = ComplaintFactory(student=family)
    for _ in range(5):
        ComplaintFactory(student=StudentFactory(branch=family.branch))
    client = as_user(manager_a)
    client.get(reverse("service:complaints"))  # warm the session and permission caches
    with django_assert_max_num_queries(12):
        response = client.get(reverse("service:complaints"))
    rows = list(response.context["page"].object_list)
    assert rows[0] == late and rows[0].overdue == 1
    assert on_time in rows
    html = response.content.decode()
    assert 'data-sla="overdue"' in html
    overdue_only = client.get(reverse("service:complaints") + "?show=overdue")
    assert list(overdue_only.context["page"].object_list) == [late]


def test_the_360_page_shows_the_complaint_late_with_its_owner_by_name(
        as_user, family, named_counselor, manager_a):
    ComplaintFactory(student=family, owner=named_counselor,
                     sla_due=timezone.now() - dt.timedelta(hours=1))
    html = as_user(manager_a).get(reverse("students:detail", args=[family.pk])).content.decode()
    assert 'data-sla="overdue"' in html and "张伟" in html and "zhangw_login" not in html


def test_a_complaint_entered_on_the_page_changes_the_next_scans_risk_factors(
        as_user, family, named_counselor):
    family.period = "growth"
    family.save()
    scan_lifecycle()
    before = {f["code"] for f in RiskState.objects.get(student=family).factors}
    assert "open_complaints" not in before
    _enter(as_user(named_counselor), family, raised_by="student")
    scan_lifecycle()
    after = {f["code"] for f in RiskState.objects.get(student=family).factors}
    assert "open_complaints" in after


def test_a_survey_answer_from_the_father_is_recorded_and_shown(as_user, family,
                                                               named_counselor):
    father = family.parents.get(name="王强")
    client = as_user(named_counselor)
    url = reverse("service:survey_create", args=[family.pk])
    response = client.post(url, {"respondent": "parent", "parent": father.pk, "overall": "2",
                                 "teaching": "3", "service": "", "environment": "",
                                 "recommend": "4", "comment": "作业太多"})
    assert response.status_code == 302
    survey = SatisfactionSurvey.objects.get()
    assert (survey.parent, survey.overall, survey.teaching, survey.service,
            survey.recommend) == (father, 2, 3, None, 4)
    html = client.get(reverse("students:detail", args=[family.pk])).content.decode()
    assert "王强" in html and "2/5" in html


def test_a_survey_rating_out_of_range_names_the_field(as_user, family, named_counselor):
    url = reverse("service:survey_create", args=[family.pk])
    response = as_user(named_counselor).post(url, {"respondent": "student", "overall": "9",
                                                   "recommend": "11"})
    errors = response.context["form"].errors
    assert "overall" in errors and "recommend" in errors
    assert not SatisfactionSurvey.objects.exists()


def test_front_desk_cannot_record_a_survey(as_user, family, front_desk_a):
    url = reverse("service:survey_create", args=[family.pk])
    assert as_user(front_desk_a).post(url, {"respondent": "student",
                                            "overall": "5"}).status_code == 403


def test_a_survey_taken_on_a_call_logs_the_call_once(as_user, family, named_counselor):
    father = family.parents.get(name="王强")
    client = as_user(named_counselor)
    url = reverse("service:survey_create", args=[family.pk])
    data = {"respondent": "parent", "parent": father.pk, "overall": "5", "log_call": "on"}
    client.post(url, data)
    client.post(url, data)  # a double click
    assert SatisfactionSurvey.objects.count() == 1
    call = Interaction.objects.get()
    assert (call.channel, call.parent, call.staff, call.sentiment) == ("call", father,
                                                                       named_counselor,
                                                                       "positive")


def test_the_complaint_page_stays_within_a_fixed_number_of_queries(
        as_user, family, manager_a, django_assert_max_num_queries):
    complaint = ComplaintFactory(student=family)
    client = as_user(manager_a)
    url = reverse("service:complaint", args=[complaint.pk])
    client.get(url)
    with django_assert_max_num_queries(12):
        client.get(url)
    with django_assert_max_num_queries(14):
        client.get(reverse("service:complaint_create", args=[family.pk]))
    with django_assert_max_num_queries(12):
        client.get(reverse("service:survey_create", args=[family.pk]))


def test_a_low_parent_survey_recorded_on_the_page_enters_the_next_scan(
        as_user, family, named_counselor):
    family.period = "growth"
    family.save()
    scan_lifecycle()
    assert "parent_satisfaction" not in {
        f["code"] for f in RiskState.objects.get(student=family).factors}
    father = family.parents.get(name="王强")
    as_user(named_counselor).post(reverse("service:survey_create", args=[family.pk]), {
        "respondent": "parent", "parent": father.pk, "overall": "1"})
    scan_lifecycle()
    assert "parent_satisfaction" in {
        f["code"] for f in RiskState.objects.get(student=family).factors}


def test_no_login_leaks_onto_the_service_lists_where_a_name_exists(
        as_user, family, named_counselor, manager_a):
    ComplaintFactory(student=family, owner=named_counselor)
    InteractionFactory(student=family, next_follow_up=timezone.localdate(),
                       occurred_at=timezone.now() - dt.timedelta(days=1))
    client = as_user(manager_a)
    for url in (reverse("service:complaints"), reverse("service:follow_ups")):
        html = client.get(url).content.decode()
        assert "张伟" in html and "zhangw_login" not in html
