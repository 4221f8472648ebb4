"""Issue #21 item 9: a CSV with a NUL byte, or any crash in the dry run, ends the job with
a clear error instead of leaving it "validating" for ever."""
from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from dataio import services
from dataio.models import ImportJob

from .conftest import csv_bytes
from .test_import_students import ROWS, ZH

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.dataio.urls")]


def test_a_csv_with_a_nul_byte_is_refused_with_a_clear_error(run_import, manager_a):
    data = csv_bytes([ZH, *ROWS]).replace(b"\n", b"\x00\n", 1)
    job = run_import(manager_a, data)
    assert job.status != ImportJob.Status.VALIDATING
    assert job.error_count >= 1
    assert "NUL" in job.errors[0]["reason"]
    with pytest.raises(ValidationError):
        services.import_confirm(job=job, actor=manager_a, run_later=False)
    job.refresh_from_db()
    assert job.status != ImportJob.Status.DONE


def test_an_unexpected_crash_in_the_dry_run_fails_the_job(run_import, manager_a, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "_columns", boom)
    job = run_import(manager_a, csv_bytes([ZH, *ROWS]))
    assert job.status == ImportJob.Status.FAILED
    assert "database went away" in job.errors[0]["reason"]
