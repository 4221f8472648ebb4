"""Project package: settings, URLs, the Celery app and the cross-cutting core
(branches, staff roles, permissions, audit)."""
from .celery import app as celery_app

__all__ = ("celery_app",)
