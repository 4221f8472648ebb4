"""API test helpers: HTTPS clients per role and a small two-branch institution."""
from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.factories import (
    ClassGroupFactory,
    ClassSessionFactory,
    ComplaintFactory,
    ContractFactory,
    CourseFactory,
    ExamScoreFactory,
    GuardianshipFactory,
    InteractionFactory,
    StudentFactory,
    SurveyFactory,
)


class HttpsClient(APIClient):
    """Requests over HTTPS: SECURE_SSL_REDIRECT is on outside DEBUG, as in production."""

    def generic(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("secure", True)
        return super().generic(*args, **kwargs)


def client_for(user: Any = None) -> APIClient:
    client = HttpsClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture(autouse=True)
def _fast_passwords(settings: Any) -> None:
    """Every role fixture hashes a password; the production hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_throttle_counters() -> None:
    """Throttle counters live in the cache; each test starts with none."""
    cache.clear()


@pytest.fixture
def world(branch_a, branch_b, counselor_a, teacher_a) -> dict[str, Any]:
    """One of everything in branch A (in counselor A's caseload, taught by teacher A) and
    a twin in branch B. Returns the rows by name; `*_b` are branch B's."""
    from parents.models import Guardianship
    from students.models import Payment, Refund

    out: dict[str, Any] = {}
    for suffix, branch, counselor, teacher in (("", branch_a, counselor_a, teacher_a),
                                               ("_b", branch_b, None, None)):
        course = CourseFactory(branch=branch)
        group = ClassGroupFactory(branch=branch, course=course, teacher=teacher)
        student = StudentFactory(branch=branch, counselor=counselor)
        guardianship: Guardianship = GuardianshipFactory(student=student)
        contract = ContractFactory(student=student, course=course, class_group=group)
        session = ClassSessionFactory(class_group=group)
        payment = Payment.objects.create(contract=contract, amount="1000", method="wechat",
                                         paid_at=contract.created_at, reference=f"ref{suffix}")
        refund = Refund.objects.create(contract=contract, reason="搬家", amount="100",
                                       requested_at=contract.created_at)
        from students.services import attendance_record

        attendance = attendance_record(session=session, student=student, status="attended")
        out.update({
            f"branch{suffix}": branch, f"course{suffix}": course,
            f"class_group{suffix}": group, f"student{suffix}": student,
            f"parent{suffix}": guardianship.parent, f"guardianship{suffix}": guardianship,
            f"contract{suffix}": contract, f"session{suffix}": session,
            f"payment{suffix}": payment, f"refund{suffix}": refund,
            f"attendance{suffix}": attendance,
            f"ledger_entry{suffix}": contract.ledger.first(),
            f"exam_score{suffix}": ExamScoreFactory(student=student),
            f"interaction{suffix}": InteractionFactory(student=student),
            f"complaint{suffix}": ComplaintFactory(student=student),
            f"survey{suffix}": SurveyFactory(student=student),
        })
    return out
