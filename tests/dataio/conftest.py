from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dataio import services
from dataio.models import ImportJob


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def csv_bytes(rows: list[list[Any]], encoding: str = "utf-8-sig") -> bytes:
    buf = io.StringIO()
    csv.writer(buf).writerows(rows)
    return buf.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


@pytest.fixture
def run_import(django_capture_on_commit_callbacks) -> Callable[..., ImportJob]:
    """Upload + dry run (+ confirm) through the services and the (eager) tasks."""

    def run(user: Any, data: bytes, *, kind: str = "students", name: str = "f.csv",
            confirm: bool = False, branch: Any = None) -> ImportJob:
        with django_capture_on_commit_callbacks(execute=True):
            job = services.import_job_create(actor=user, kind=kind, branch=branch,
                                             upload=SimpleUploadedFile(name, data))
        job.refresh_from_db()
        if confirm:
            assert job.error_count == 0, job.errors
            with django_capture_on_commit_callbacks(execute=True):
                services.import_confirm(job=job, actor=user)
            job.refresh_from_db()
        return job

    return run


@pytest.fixture(autouse=True)
def _no_ssl_redirect(settings):
    """Production redirects to HTTPS; the test client speaks plain HTTP."""
    settings.SECURE_SSL_REDIRECT = False
