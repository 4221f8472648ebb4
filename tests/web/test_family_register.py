import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.roles import Role
from marketing.models import Channel
from parents.models import ContactConsent, GuardianConsent, Parent
from students.models import Student
from tests.factories import staff

pytestmark = pytest.mark.django_db
URL = "/families/register/"


def _form(parents, students, **family):
    """POST data for the one-page form: lists of dicts per parent / student row."""
    data = {
        "parents-TOTAL_FORMS": str(len(parents)), "parents-INITIAL_FORMS": "0",
        "parents-MIN_NUM_FORMS": "1", "parents-MAX_NUM_FORMS": "6",
        "students-TOTAL_FORMS": str(len(students)), "students-INITIAL_FORMS": "0",
        "students-MIN_NUM_FORMS": "1", "students-MAX_NUM_FORMS": "6",
        **family,
    }
    for i, p in enumerate(parents):
        row = {"relation": "mother", "contact_channels": [], **p}
        data.update({f"parents-{i}-{k}": v for k, v in row.items()})
    for i, s in enumerate(students):
        row = {"gender": "u", "decision_style": "joint", "consent_by": "0", **s}
        data.update({f"students-{i}-{k}": v for k, v in row.items()})
    return data


MOTHER = {"name": "李梅", "phone": "138 1234 5678", "relation": "mother",
          "is_primary_contact": "on", "contact_channels": ["phone", "wechat"]}
FATHER = {"name": "王强", "phone": "+86 139 1234 5678", "relation": "father",
          "is_decision_maker": "on"}
OLDER = {"name_zh": "王大宝", "grade": "S2", "decision_style": "student_led",
         "birth_date": (timezone.localdate() - dt.timedelta(days=16 * 365)).isoformat()}
YOUNGER = {"name_zh": "王小宝", "grade": "P3", "consent_method": "paper", "consent_by": "0",
           "birth_date": (timezone.localdate() - dt.timedelta(days=8 * 365)).isoformat()}


def test_front_desk_registers_two_parents_and_two_children_in_one_form(as_user, front_desk_a,
                                                                       branch_a):
    channel, _ = Channel.objects.get_or_create(code="walk_in_test", name_zh="上门",
                                               name_en="Walk-in")
    data = _form([MOTHER, FATHER], [OLDER, YOUNGER], source=channel.pk,
                 source_detail="朋友介绍")
    response = as_user(front_desk_a).post(URL, data)
    assert response.status_code == 302, response.context and response.context["reg"].parents.errors
    older = Student.objects.get(name_zh="王大宝")
    assert response["Location"] == reverse("students:detail", args=[older.pk])
    assert older.branch == branch_a and older.source == channel
    assert older.decision_style == "student_led" and older.source_detail == "朋友介绍"
    younger = Student.objects.get(name_zh="王小宝")
    assert set(younger.parents.values_list("name", flat=True)) == {"李梅", "王强"}
    assert GuardianConsent.objects.get(student=younger).guardian.name == "李梅"
    mother = Parent.objects.get(phone="+8613812345678")
    assert set(ContactConsent.objects.filter(parent=mother).values_list("channel", flat=True)) \
        == {"phone", "wechat"}
    assert older.guardianships.get(parent=mother).is_primary_contact
    follow = as_user(front_desk_a).get(response["Location"])
    assert "Family registered" in follow.content.decode()


def test_a_teacher_cannot_open_the_registration_form(as_user, branch_a):
    teacher = staff(Role.TEACHER, branch_a, username="t_reg")
    response = as_user(teacher).get(URL)
    assert response.status_code == 403
    assert "error-403" in response.content.decode()


def test_an_under_14_without_guardian_consent_gets_a_field_error(as_user, front_desk_a):
    child = {**YOUNGER, "consent_method": ""}
    response = as_user(front_desk_a).post(URL, _form([MOTHER], [child]))
    assert response.status_code == 200
    errors = response.context["reg"].students.forms[0].errors
    assert "consent_method" in errors
    assert not Student.objects.exists()


def test_a_bad_phone_is_reported_on_its_field(as_user, front_desk_a):
    response = as_user(front_desk_a).post(URL, _form([{**MOTHER, "phone": "12345"}], [OLDER]))
    assert "phone" in response.context["reg"].parents.forms[0].errors
    assert 'is-invalid' in response.content.decode()


def test_the_same_phone_twice_in_one_form_is_refused(as_user, front_desk_a):
    response = as_user(front_desk_a).post(
        URL, _form([MOTHER, {**FATHER, "phone": "13812345678"}], [OLDER]))
    assert "phone" in response.context["reg"].parents.forms[1].errors


def test_two_primary_contacts_are_refused(as_user, front_desk_a):
    response = as_user(front_desk_a).post(
        URL, _form([MOTHER, {**FATHER, "is_primary_contact": "on"}], [OLDER]))
    assert response.context["reg"].parents.non_form_errors()


def test_a_known_phone_offers_the_existing_family_instead_of_a_copy(as_user, front_desk_a,
                                                                   family_a):
    data = _form([{**MOTHER, "phone": "138 0000 1111", "name": "李梅"}],
                 [{**OLDER, "name_zh": "王二宝"}])
    response = as_user(front_desk_a).post(URL, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="duplicate-offer"' in html
    assert reverse("students:detail", args=[family_a.pk]) in html
    assert "phone" in response.context["reg"].parents.forms[0].errors
    assert Parent.objects.count() == 1 and Student.objects.count() == 1


def test_the_new_child_can_be_added_to_the_existing_family(as_user, front_desk_a, family_a):
    data = _form([{**MOTHER, "phone": "138 0000 1111"}], [{**OLDER, "name_zh": "王二宝"}],
                 link_existing="1")
    response = as_user(front_desk_a).post(URL, data)
    assert response.status_code == 302
    mother = Parent.objects.get()
    assert set(mother.students.values_list("name_zh", flat=True)) == {"王小明", "王二宝"}


def test_a_family_page_links_to_adding_a_child(as_user, front_desk_a, family_a):
    mother = family_a.parents.get()
    html = as_user(front_desk_a).get(reverse("parents:detail", args=[mother.pk])).content.decode()
    assert "王小明" in html and f"?family={mother.pk}" in html
    form = as_user(front_desk_a).get(URL, {"family": mother.pk})
    assert form.context["linking"]
    assert 'name="link_existing"' in form.content.decode()


def test_head_office_picks_the_branch(as_user, head_office, branch_b):
    data = _form([MOTHER], [OLDER], branch=branch_b.pk)
    assert as_user(head_office).post(URL, data).status_code == 302
    assert Student.objects.get().branch == branch_b


def test_a_counselor_registering_keeps_the_family_in_their_caseload(as_user, counselor_a):
    assert as_user(counselor_a).post(URL, _form([MOTHER], [OLDER])).status_code == 302
    assert Student.objects.get().counselor == counselor_a


def test_another_branchs_family_page_is_a_404(as_user, front_desk_a, family_b):
    parent = family_b.parents.get()
    assert as_user(front_desk_a).get(reverse("parents:detail", args=[parent.pk])).status_code \
        == 404
