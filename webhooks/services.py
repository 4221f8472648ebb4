"""Webhook writes: emit events (set-based), sign and send deliveries, retry with backoff.

Why the shape:
* `emit(event_type, items)` creates every (subscription, event) delivery row in one
  INSERT ... ON CONFLICT DO NOTHING (a repeated event is never delivered twice) and sends
  one Celery task per `WEBHOOKS_BATCH_SIZE` deliveries after the rows commit, so a nightly
  run moving thousands of accounts queues a handful of tasks, not thousands.
* `after_commit(flush, value)` lets a service (lifecycle's account_transition) hand over
  one value per write; the values of a whole transaction reach `flush` once, after commit.
  A rolled-back transaction sends nothing.
* Sending holds the delivery's row lock, so two tasks never POST the same delivery at once.
* In production (private networks refused) a delivery resolves the host once, refuses it
  if any address is internal, and connects to the address it checked (no DNS rebinding).
"""
from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import http.client
import ipaddress
import json
import logging
import random
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import EventType, WebhookDelivery, WebhookSubscription

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-CRM-Signature"
TIMESTAMP_HEADER = "X-CRM-Timestamp"
EVENT_HEADER = "X-CRM-Event"
DELIVERY_HEADER = "X-CRM-Delivery"
USER_AGENT = "k12crm-webhooks/1"


@dataclass(frozen=True)
class Event:
    """One thing that happened: a stable id (the dedup key), its branch and its data."""

    id: str
    branch_id: int | None
    data: dict[str, Any]
    occurred_at: dt.datetime = field(default_factory=timezone.now)

    def payload(self, event_type: str) -> dict[str, Any]:
        return {"id": self.id, "type": event_type,
                "occurred_at": self.occurred_at.isoformat(), "data": self.data}


# --- emitting -----------------------------------------------------------------------------

def emit(event_type: str, items: Iterable[Event]) -> int:
    """Queue `items` for every active subscription that wants them; returns rows created.

    Set-based: one query for the subscriptions, one INSERT per 1,000 deliveries, one
    Celery task per batch sent after the transaction commits.
    """
    if event_type not in EventType.values:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    events = list(items)
    if not events:
        return 0
    subscriptions = [s for s in WebhookSubscription.objects.filter(is_active=True)
                     if event_type in (s.event_types or [])]
    now = timezone.now()
    rows = [WebhookDelivery(subscription=sub, event_id=event.id, event_type=event_type,
                            payload=event.payload(event_type), next_attempt_at=now)
            for event in events for sub in subscriptions
            if sub.wants(event_type, event.branch_id)]
    if not rows:
        return 0
    with transaction.atomic():
        WebhookDelivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
        # ON CONFLICT DO NOTHING returns no ids: read back the rows still waiting.
        ids = list(WebhookDelivery.objects.filter(
            subscription__in=[s.pk for s in subscriptions],
            event_id__in=[e.id for e in events], status=WebhookDelivery.Status.PENDING,
            attempts=0).order_by("pk").values_list("pk", flat=True))
        enqueue(ids)
    return len(ids)


def enqueue(ids: list[int]) -> None:
    """One delivery task per batch, sent when the caller's transaction commits."""
    from .tasks import deliver_task

    size = max(1, settings.WEBHOOKS_BATCH_SIZE)
    for start in range(0, len(ids), size):
        deliver_task.delay_on_commit(ids[start:start + size])


class _Batch:
    """The values handed to `after_commit` during one transaction, flushed once."""

    def __init__(self, flush: Callable[[list[Any]], None]) -> None:
        self.flush = flush
        self.values: list[Any] = []
        self.done = False

    def __call__(self) -> None:
        values, self.values, self.done = self.values, [], True
        if values:
            self.flush(values)


def after_commit(flush: Callable[[list[Any]], None], value: Any) -> None:
    """Collect `value`; after the current transaction commits call `flush(values)` once.

    Many writes in one transaction (a chunk of the nightly scan) cost one on_commit
    callback. If the transaction rolls back the callback and its values are dropped.
    `flush` must re-read what it needs from the database: a value added inside a
    savepoint that later rolled back may still be in the batch. Errors in `flush` are
    logged, never raised into the committed caller (robust on_commit).
    """
    conn = transaction.get_connection()
    batches: dict[Any, _Batch] = conn.__dict__.setdefault("_webhook_batches", {})
    batch = batches.get(flush)
    pending = conn.in_atomic_block and batch is not None and not batch.done and any(
        callback is batch for _sids, callback, _robust in conn.run_on_commit)
    if not pending:
        batch = batches[flush] = _Batch(flush)
        batch.values.append(value)
        transaction.on_commit(batch, robust=True)
        return
    assert batch is not None
    batch.values.append(value)


# --- subscriptions --------------------------------------------------------------------------

def check_url(url: str) -> None:
    """Refuse URLs the server must not call (plain http in production, internal hosts)."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port out of range)
    except ValueError as exc:
        raise ValidationError({"url": ValidationError(_("Enter a valid URL."),
                                                      code="invalid")}) from exc
    allowed = {"https"} if settings.WEBHOOKS_REQUIRE_HTTPS else {"https", "http"}
    if parts.scheme not in allowed:
        raise ValidationError({"url": ValidationError(
            _("The URL must start with https://."), code="insecure_url")})
    if not parts.hostname:
        raise ValidationError({"url": ValidationError(_("Enter a valid URL."),
                                                      code="invalid")})
    if not settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS and _internal_name(parts.hostname):
        raise ValidationError({"url": ValidationError(
            _("The URL must point at a public host, not an internal address."),
            code="private_url")})


def _internal_name(host: str) -> bool:
    """Literal internal addresses and localhost (names are checked again when sending)."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return not ipaddress.ip_address(host).is_global
    except ValueError:
        return False


def _resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (the one DNS lookup a delivery makes)."""
    return [info[4][0] for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)]


def public_address(host: str, port: int) -> tuple[str | None, str]:
    """(address to connect to, "") for a host whose every address is public, else
    (None, why not).

    Why one lookup, kept: a name checked here and resolved again by the HTTP client
    could answer differently the second time (DNS rebinding: public for the check,
    127.0.0.1 or a cloud metadata address for the request). The delivery connects to
    the address checked here, so what was checked is what is called.
    """
    try:
        addresses = _resolve(host, port)
    except (OSError, UnicodeError) as exc:
        return None, f"could not resolve {host}: {exc}"[:500]
    if not addresses:
        return None, f"could not resolve {host}"
    for address in addresses:
        if not ipaddress.ip_address(address.split("%", 1)[0]).is_global:
            return None, "refused: the host is on a private or loopback network"
    return addresses[0], ""


# --- sending --------------------------------------------------------------------------------

def body_of(payload: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact, key-sorted UTF-8 JSON."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode()


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256(secret, "<timestamp>." + body)."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect could point at an internal host after the address check: not followed."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirect)


class _Pinned:
    """A connection to `address` whatever its host resolves to now; the Host header (and,
    for https, SNI and the certificate check) still name the host."""

    def __init__(self, *args: Any, address: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)

        def create(host_port: tuple[str, int], *rest: Any, **options: Any) -> socket.socket:
            return socket.create_connection((address, host_port[1]), *rest, **options)

        self._create_connection = create  # what http.client's connect() opens the socket with


class _PinnedHTTPConnection(_Pinned, http.client.HTTPConnection):
    """http://, pinned."""


class _PinnedHTTPSConnection(_Pinned, http.client.HTTPSConnection):
    """https://, pinned: TLS still verifies the certificate against the host name."""


class _PinnedHandler:
    def __init__(self, address: str) -> None:
        super().__init__()
        self.address = address


class _PinnedHTTPHandler(_PinnedHandler, urllib.request.HTTPHandler):
    def http_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(functools.partial(_PinnedHTTPConnection, address=self.address),
                            req)


class _PinnedHTTPSHandler(_PinnedHandler, urllib.request.HTTPSHandler):
    def https_open(self, req: urllib.request.Request) -> Any:
        return self.do_open(functools.partial(_PinnedHTTPSConnection, address=self.address),
                            req, context=self._context)


def opener_for(address: str | None) -> urllib.request.OpenerDirector:
    """The opener of one delivery: pinned to `address` when one was checked (no proxy
    then, since a proxy would resolve the name again), else the plain one."""
    if address is None:
        return _opener
    return urllib.request.build_opener(_NoRedirect, urllib.request.ProxyHandler({}),
                                       _PinnedHTTPHandler(address),
                                       _PinnedHTTPSHandler(address))


@dataclass
class Outcome:
    ok: bool
    status: int | None = None
    error: str = ""


def post(url: str, *, secret: str, event_type: str, delivery_id: int,
         payload: dict[str, Any]) -> Outcome:
    """POST one signed delivery; any 2xx is success, anything else (or no answer) a failure."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = None
    if not settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS:
        address, refusal = public_address(parts.hostname or "", port)
        if address is None:
            return Outcome(False, None, refusal)
    body = body_of(payload)
    timestamp = str(int(time.time()))
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        EVENT_HEADER: event_type,
        DELIVERY_HEADER: str(delivery_id),
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    })
    try:
        with opener_for(address).open(request, timeout=settings.WEBHOOKS_TIMEOUT) as response:
            response.read(1024)
            return Outcome(200 <= response.status < 300, response.status,
                           "" if 200 <= response.status < 300 else f"HTTP {response.status}")
    except urllib.error.HTTPError as exc:
        return Outcome(False, exc.code, f"HTTP {exc.code}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Outcome(False, None, str(reason)[:500] or exc.__class__.__name__)


def backoff_seconds(attempts: int) -> float:
    """Wait before attempt `attempts + 1`: base x 2^(attempts-1), capped, with 10% jitter."""
    base = settings.WEBHOOKS_RETRY_BACKOFF * 2 ** max(0, attempts - 1)
    wait = min(base, settings.WEBHOOKS_RETRY_BACKOFF_MAX)
    return wait * random.uniform(1.0, 1.1)


@dataclass
class BatchResult:
    delivered: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    retry: list[int] = field(default_factory=list)
    next_at: dt.datetime | None = None


def deliver(ids: list[int]) -> BatchResult:
    """Send the pending deliveries among `ids`; record each outcome and plan retries.

    An endpoint that fails once is not called again in the same pass (its other
    deliveries count a failed attempt with the same error), so a dead receiver costs one
    timeout per pass, not one per event.
    """
    result = BatchResult()
    broken: dict[int, Outcome] = {}
    max_attempts = settings.WEBHOOKS_MAX_ATTEMPTS
    for pk in ids:
        with transaction.atomic():
            row = (WebhookDelivery.objects.select_for_update(skip_locked=True)
                   .select_related("subscription")
                   .filter(pk=pk, status=WebhookDelivery.Status.PENDING).first())
            if row is None:
                continue  # done, failed, or being sent by another task right now
            sub = row.subscription
            if not sub.is_active:
                outcome = Outcome(False, None, "subscription is inactive")
                row.attempts = max_attempts - 1  # no point retrying
            elif sub.pk in broken:
                outcome = broken[sub.pk]
            else:
                outcome = post(sub.url, secret=sub.secret, event_type=row.event_type,
                               delivery_id=row.pk, payload=row.payload)
                if not outcome.ok:
                    broken[sub.pk] = outcome
            now = timezone.now()
            row.attempts += 1
            row.response_code = outcome.status
            row.last_error = outcome.error
            if outcome.ok:
                row.status, row.delivered_at, row.next_attempt_at = (
                    WebhookDelivery.Status.DELIVERED, now, None)
                result.delivered.append(pk)
            elif row.attempts >= max_attempts:
                row.status, row.next_attempt_at = WebhookDelivery.Status.FAILED, None
                result.failed.append(pk)
                logger.warning("webhook delivery %s failed for good: %s", pk, outcome.error)
            else:
                row.next_attempt_at = now + dt.timedelta(seconds=backoff_seconds(row.attempts))
                result.retry.append(pk)
                if result.next_at is None or row.next_attempt_at < result.next_at:
                    result.next_at = row.next_attempt_at
            row.save(update_fields=["attempts", "response_code", "last_error", "status",
                                    "delivered_at", "next_attempt_at"])
    return result


def resend_stale(*, older_than: dt.timedelta = dt.timedelta(minutes=15)) -> int:
    """Re-queue pending deliveries whose retry is long overdue (a lost task message)."""
    cutoff = timezone.now() - older_than
    ids = list(WebhookDelivery.objects.filter(
        status=WebhookDelivery.Status.PENDING, next_attempt_at__lt=cutoff)
        .order_by("pk").values_list("pk", flat=True)[:10_000])
    enqueue(ids)
    return len(ids)
