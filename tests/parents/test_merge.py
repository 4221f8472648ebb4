"""Merging duplicates moves every related record and keeps a trace of the duplicate."""
import pytest
from django.core.exceptions import ValidationError

from crm.models import AuditLog
from parents.models import ContactConsent, Guardianship, Parent
from parents.services import parent_merge
from students.models import Student
from students.services import attendance_record, student_merge
from tests.factories import (
    ClassSessionFactory,
    ComplaintFactory,
    ContractFactory,
    ExamScoreFactory,
    GuardianshipFactory,
    InteractionFactory,
    ParentFactory,
    StudentFactory,
    SurveyFactory,
)

pytestmark = pytest.mark.django_db


def test_merging_students_moves_every_related_record(manager_a, branch_a):
    keep = StudentFactory(branch=branch_a, name_zh="李明")
    dup = StudentFactory(branch=branch_a, name_zh="李明", goals="考上浙大")
    mother = GuardianshipFactory(student=keep).parent
    GuardianshipFactory(student=dup, parent=mother, is_primary_contact=True,
                        is_decision_maker=False)
    father = GuardianshipFactory(student=dup, is_primary_contact=False,
                                 relation="father").parent
    contract = ContractFactory(student=dup)
    score = ExamScoreFactory(student=dup)
    ExamScoreFactory(student=keep, exam_name=score.exam_name, exam_date=score.exam_date)
    InteractionFactory(student=dup)
    ComplaintFactory(student=dup)
    SurveyFactory(student=dup)

    merged = student_merge(keep=keep, duplicate=dup, actor=manager_a)

    assert not Student.objects.filter(pk=dup.pk).exists()
    assert set(merged.parents.all()) == {mother, father}
    assert merged.guardianships.filter(is_primary_contact=True).count() == 1
    contract.refresh_from_db()
    assert contract.student == merged
    assert merged.exam_scores.count() == 1  # the identical result collapsed
    assert (merged.interactions.count(), merged.complaints.count(),
            merged.surveys.count()) == (1, 1, 1)
    assert merged.goals == "考上浙大"  # blank fields filled from the duplicate
    log = AuditLog.objects.get(action="student.merge")
    assert log.data["duplicate"]["pk"] == dup.pk
    assert log.actor == manager_a


def test_students_with_attendance_at_the_same_lesson_are_not_merged():
    keep, dup = StudentFactory(), StudentFactory()
    session = ClassSessionFactory()
    for s in (keep, dup):
        ContractFactory(student=s)
        attendance_record(session=session, student=s, status="attended")
    with pytest.raises(ValidationError) as exc:
        student_merge(keep=keep, duplicate=dup)
    assert "same lesson" in exc.value.messages[0]
    assert Student.objects.filter(pk=dup.pk).exists()


def test_a_record_cannot_be_merged_into_itself():
    s = StudentFactory()
    with pytest.raises(ValidationError):
        student_merge(keep=s, duplicate=s)


def test_merging_parents_moves_children_and_consents_without_doubling():
    keep, dup = ParentFactory(), ParentFactory(wechat_id="wx_dup")
    shared_child = StudentFactory()
    Guardianship.objects.create(student=shared_child, parent=keep, relation="mother")
    Guardianship.objects.create(student=shared_child, parent=dup, relation="mother",
                                is_decision_maker=True)
    other_child = StudentFactory()
    Guardianship.objects.create(student=other_child, parent=dup, relation="mother")
    ContactConsent.objects.create(parent=keep, channel="sms", granted=False)
    ContactConsent.objects.create(parent=dup, channel="sms", granted=True)
    ContactConsent.objects.create(parent=dup, channel="wechat", granted=True)
    InteractionFactory(student=other_child, with_whom="parent", parent=dup)

    merged = parent_merge(keep=keep, duplicate=dup)

    assert not Parent.objects.filter(pk=dup.pk).exists()
    assert set(merged.students.all()) == {shared_child, other_child}
    assert merged.guardianships.get(student=shared_child).is_decision_maker is True
    assert dict(merged.contact_consents.values_list("channel", "granted")) == {
        "sms": False, "wechat": True}  # keep's own answer wins on conflict
    assert merged.interactions.count() == 1
    assert merged.wechat_id == "wx_dup"
