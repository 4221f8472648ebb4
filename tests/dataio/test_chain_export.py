"""The generated chain export imports through the services, every kind (the browser test
in tests/e2e/test_import_chain.py does the same through the page)."""
from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from dataio import services
from dataio.models import ImportJob
from lifecycle.models import Transition
from students.models import Student
from tests.factories import CourseFactory

from .chain_export import COURSES, STUDENT_HEAD, chain_export

pytestmark = pytest.mark.django_db


def _run(user, kind, name, data, *, mapping=None, options=None, values=None):
    job = services.import_job_create(actor=user, kind=kind, upload=SimpleUploadedFile(name, data),
                                     run_later=False, options=options or {})
    if mapping:
        job.mapping = mapping
        job.save(update_fields=["mapping"])
    if values:
        job.options = {**job.options, "values": values}
        job.save(update_fields=["options"])
    job = services.import_validate(job_id=job.pk)
    assert job.error_count == 0, (kind, job.errors[:5])
    services.import_confirm(job=job, actor=user, run_later=False)
    job = services.import_commit(job_id=job.pk)
    assert job.status == ImportJob.Status.DONE, (kind, job.errors[:5])
    return job


def test_the_whole_chain_imports_and_places_accounts(manager_a, counselor_a):
    for code, name in COURSES:
        CourseFactory(code=code, name=name)
    files = chain_export(students=30, today=timezone.localdate(),
                         counselor=counselor_a.username)
    mapping = {"学员名称": "name_zh", "家庭住址": "", "备注": ""}
    jobs = {}
    for kind, (name, data) in files.items():
        jobs[kind] = _run(manager_a, kind, name, data,
                          mapping=mapping if kind == "students" else None,
                          options={"consumes": kind == "attendance"},
                          values={"subject": {"奥数": "other"}} if kind == "exams" else None)
    assert jobs["students"].summary["encoding"] == "gbk"
    assert Student.objects.filter(external_id__startswith="XB").count() == 30
    assert "家庭住址" in STUDENT_HEAD
    periods = set(Student.objects.values_list("period", flat=True))
    assert {"maturity", "growth", "socialization", "termination", "lapsed",
            "prospecting"} <= periods
    assert set(Transition.objects.values_list("trigger", flat=True)) == {"import"}
    assert jobs["attendance"].summary["written"]["lessons_charged"] > 0
