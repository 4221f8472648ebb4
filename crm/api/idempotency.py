"""`Idempotency-Key` on POST: a retried create returns the first answer and creates nothing.

The key row is inserted in the same transaction as the create: if the create fails the
key is not kept (the client may fix the body and retry with the same key), if it
succeeds both commit together. A concurrent retry blocks on the unique index until the
first commits, then replays its answer. Same key with a different body: 422.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from crm.models import IdempotencyKey

from .errors import Unprocessable

HEADER = "Idempotency-Key"
REPLAY_HEADER = "Idempotent-Replayed"
MAX_KEY_LENGTH = 100


def _request_hash(request: Request) -> str:
    body = json.dumps(request.data, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def _replay(row: IdempotencyKey, digest: str) -> Response:
    if row.request_hash != digest:
        raise Unprocessable(
            _("This Idempotency-Key was already used with a different request body."),
            code="idempotency_key_reused")
    response = Response(row.response_body, status=row.status_code)
    response[REPLAY_HEADER] = "true"
    return response


def idempotent_call(request: Request, handler: Callable[[], Response]) -> Response:
    """Run `handler` at most once per (user, key, endpoint); replay its answer afterwards."""
    key = request.headers.get(HEADER, "").strip()
    if not key or not request.user.is_authenticated:
        return handler()
    if len(key) > MAX_KEY_LENGTH:
        raise ValidationError({HEADER: [_("At most %(n)d characters.") % {"n": MAX_KEY_LENGTH}]})
    digest = _request_hash(request)
    endpoint = request.path[:200]
    lookup = {"user": request.user, "key": key, "endpoint": endpoint}
    existing = IdempotencyKey.objects.filter(**lookup).first()
    if existing is not None:
        return _replay(existing, digest)
    try:
        with transaction.atomic():
            # Claim the key first: a concurrent twin waits here on the unique index.
            row = IdempotencyKey.objects.create(**lookup, request_hash=digest, status_code=0)
            response = handler()
            if response.status_code >= 400:
                transaction.set_rollback(True)
                return response
            row.status_code = response.status_code
            row.response_body = json.loads(JSONRenderer().render(response.data) or b"null")
            row.save(update_fields=["status_code", "response_body"])
            return response
    except IntegrityError:
        existing = IdempotencyKey.objects.filter(**lookup).first()
        if existing is None:
            raise
        return _replay(existing, digest)


def purge_expired_keys(*, now: dt.datetime | None = None) -> int:
    """Delete keys older than IDEMPOTENCY_KEY_RETENTION_DAYS; returns how many.

    A key only has to outlive a client's retries; kept forever the table (with every
    create's answer body) grows without bound. After this a replay is a new request.
    """
    cutoff = (now or timezone.now()) - dt.timedelta(days=settings.IDEMPOTENCY_KEY_RETENTION_DAYS)
    deleted, _counts = IdempotencyKey.objects.filter(created_at__lt=cutoff).delete()
    return deleted


def idempotent(method: Callable[..., Response]) -> Callable[..., Response]:
    """Decorator for a view's `post`/`create`: honours the Idempotency-Key header."""

    @wraps(method)
    def wrapper(self: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
        return idempotent_call(request, lambda: method(self, request, *args, **kwargs))

    return wrapper
