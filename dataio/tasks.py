"""Thin tasks: ids in, services do the work. Both are safe to run twice: the services
claim the job with a conditional UPDATE and return if it moved on."""
from __future__ import annotations

from celery import shared_task

from . import services


@shared_task(name="dataio.import_validate_task")
def import_validate_task(job_id: int) -> str:
    return services.import_validate(job_id=job_id).status


@shared_task(name="dataio.import_commit_task")
def import_commit_task(job_id: int) -> str:
    return services.import_commit(job_id=job_id).status
