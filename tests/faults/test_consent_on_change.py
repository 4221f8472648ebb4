"""Issue #21 item 13: a change that makes a student an under-14 needs a guardian's consent,
through every door (API, workspace edit page, admin) as at registration."""
from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from parents.models import GuardianConsent
from tests.api.conftest import client_for
from tests.factories import StudentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def teen(branch_a, counselor_a):
    """A Senior 1 student with no birth date on file and no guardian consent."""
    return StudentFactory(branch=branch_a, counselor=counselor_a, name_zh="张三", grade="S1",
                          birth_date=None)


@pytest.mark.parametrize("change,field", [({"grade": "P3"}, "grade"),
                                          ({"birth_date": "2016-03-01"}, "birth_date")])
def test_api_refuses_to_make_a_student_under_14_without_consent(counselor_a, teen, change,
                                                                 field):
    res = client_for(counselor_a).patch(f"/api/v1/students/{teen.pk}/", change, format="json")
    assert res.status_code == 400, res.content
    assert field in res.json()["error"]["fields"]
    teen.refresh_from_db()
    assert teen.grade == "S1" and teen.birth_date is None


def test_api_allows_the_change_once_consent_is_on_record(counselor_a, teen):
    GuardianConsent.objects.create(student=teen, guardian_name="张伟",
                                   given_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                                   method="paper", scope=["profile"])
    res = client_for(counselor_a).patch(f"/api/v1/students/{teen.pk}/", {"grade": "P3"},
                                        format="json")
    assert res.status_code == 200, res.content
    teen.refresh_from_db()
    assert teen.grade == "P3"


def test_api_still_updates_ordinary_details(counselor_a, teen):
    res = client_for(counselor_a).patch(f"/api/v1/students/{teen.pk}/",
                                        {"school": "一中", "external_id": "X-1"}, format="json")
    assert res.status_code == 200, res.content
    teen.refresh_from_db()
    assert (teen.school, teen.external_id) == ("一中", "X-1")


def test_admin_change_refuses_to_make_a_student_under_14_without_consent(client, manager_a,
                                                                         branch_a, teen):
    data = {
        "branch": branch_a.pk, "name_zh": "张三", "gender": "m", "grade": "P3",
        "birth_date": "", "decision_style": "parent_led", "learning_style": "",
        "period": teen.period,
        "guardianships-TOTAL_FORMS": "0", "guardianships-INITIAL_FORMS": "0",
        "consents-TOTAL_FORMS": "1", "consents-INITIAL_FORMS": "0",
    }
    client.force_login(manager_a)
    response = client.post(reverse("admin:students_student_change", args=[teen.pk]), data,
                           secure=True)
    assert response.status_code == 200
    teen.refresh_from_db()
    assert teen.grade == "S1"
