"""Issue #25 step 7: a long import shows a progress bar and the time left."""
from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from dataio.models import ImportJob

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.dataio.urls")]


def test_the_status_fragment_shows_progress_and_time_left(client, manager_a):
    job = ImportJob.objects.create(kind="students", original_name="big.csv", file="x.csv",
                                   status=ImportJob.Status.IMPORTING, rows_total=50_000,
                                   rows_done=10_000, created_by=manager_a,
                                   step_started_at=timezone.now() - dt.timedelta(seconds=20))
    assert 75 <= job.seconds_left <= 85  # 20 s for 10,000 rows: 40,000 more take 80 s
    client.force_login(manager_a)
    html = client.get(f"/data/import/{job.pk}/status/").content.decode()
    assert 'aria-valuenow="20"' in html
    assert 'id="job-eta"' in html and "about 1 minute left" in html


def test_no_estimate_before_the_first_rows_or_after_the_end(manager_a):
    job = ImportJob(kind="students", status=ImportJob.Status.IMPORTING, rows_total=10,
                    rows_done=0, step_started_at=timezone.now())
    assert job.seconds_left is None
    job.status, job.rows_done = ImportJob.Status.DONE, 10
    assert job.seconds_left is None
