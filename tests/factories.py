"""factory_boy factories for every core model; tests build data with these, never fixtures."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from crm.models import Branch, StaffProfile
from crm.roles import Role
from parents.models import Guardianship, Parent
from students.models import (
    ClassGroup,
    ClassSession,
    Complaint,
    Contract,
    Course,
    ExamScore,
    Interaction,
    LedgerEntry,
    SatisfactionSurvey,
    Student,
)


class BranchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Branch
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"b{n}")
    name = factory.Sequence(lambda n: f"校区{n}")
    city = "杭州"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    is_staff = True
    password = factory.django.Password("pass-1234")


def staff(role: str, branch: Branch | None = None, **kwargs) -> object:
    """A user with a staff profile of `role` (branch omitted only for head office)."""
    from django.contrib.auth.models import Group

    from crm.roles import sync_role_groups

    user = UserFactory(**kwargs)
    if branch is None and role != Role.HEAD_OFFICE:
        branch = BranchFactory()
    StaffProfile.objects.create(user=user, role=role, branch=branch,
                                display_name=user.username)
    if not Group.objects.filter(name=role).exists():
        sync_role_groups()
    user.groups.add(Group.objects.get(name=role))
    user.save()
    return user


class StudentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Student

    branch = factory.SubFactory(BranchFactory)
    name_zh = factory.Sequence(lambda n: f"王小{'明红刚丽华强'[n % 6]}{n}")
    grade = "S2"  # high school: no PIPL consent needed by default
    birth_date = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=16 * 365))


class ParentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Parent

    branch = factory.SubFactory(BranchFactory)
    name = factory.Sequence(lambda n: f"李{n}")
    phone = factory.Sequence(lambda n: f"+86138{n:08d}")


class GuardianshipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Guardianship

    student = factory.SubFactory(StudentFactory)
    parent = factory.SubFactory(ParentFactory, branch=factory.SelfAttribute("..student.branch"))
    relation = Guardianship.Relation.MOTHER
    is_primary_contact = True
    is_decision_maker = True


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    code = factory.Sequence(lambda n: f"math-{n}")
    name = factory.Sequence(lambda n: f"高二数学{n}")
    subject = "math"
    unit_price = Decimal("200.00")


class ClassGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClassGroup

    branch = factory.SubFactory(BranchFactory)
    course = factory.SubFactory(CourseFactory)
    name = factory.Sequence(lambda n: f"高二数学{n}班")


class ClassSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClassSession

    class_group = factory.SubFactory(ClassGroupFactory)
    date = factory.LazyFunction(timezone.localdate)
    start_time = dt.time(18, 0)
    end_time = dt.time(20, 0)
    hours = Decimal("2.00")


class ContractFactory(factory.django.DjangoModelFactory):
    """A paid contract; its purchased hours are written to the ledger as services do."""

    class Meta:
        model = Contract
        skip_postgeneration_save = True

    contract_no = factory.Sequence(lambda n: f"HT{n:06d}")
    student = factory.SubFactory(StudentFactory)
    branch = factory.SelfAttribute("student.branch")
    course = factory.SubFactory(CourseFactory)
    hours_purchased = Decimal("40")
    list_price = Decimal("8000")
    valid_from = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=30))
    valid_until = factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=335))
    signed_on = factory.LazyFunction(lambda: timezone.localdate() - dt.timedelta(days=30))

    @factory.post_generation
    def ledger(self, create, extracted, **kwargs):
        if create:
            LedgerEntry.objects.create(contract=self, kind=LedgerEntry.Kind.PURCHASED,
                                       hours=self.hours_purchased, occurred_at=timezone.now())


class ExamScoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExamScore

    student = factory.SubFactory(StudentFactory)
    subject = "math"
    exam_name = factory.Sequence(lambda n: f"月考{n}")
    exam_date = factory.LazyFunction(timezone.localdate)
    score = Decimal("110")
    full_marks = Decimal("150")


class InteractionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Interaction

    student = factory.SubFactory(StudentFactory)
    with_whom = "student"
    channel = "call"
    occurred_at = factory.LazyFunction(timezone.now)
    summary = "电话回访"


class ComplaintFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Complaint

    student = factory.SubFactory(StudentFactory)
    raised_by = "student"
    category = "teaching"
    description = "老师讲得太快"
    created_at = factory.LazyFunction(timezone.now)
    sla_due = factory.LazyFunction(lambda: timezone.now() + dt.timedelta(days=2))


class SurveyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SatisfactionSurvey

    student = factory.SubFactory(StudentFactory)
    respondent = "student"
    surveyed_at = factory.LazyFunction(timezone.now)
    overall = 4
