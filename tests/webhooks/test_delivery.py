"""Webhooks end to end against a real local HTTP receiver: events from account_transition,
signatures, payloads, retries with backoff, dedup, branch scoping and on_commit."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import time
from collections.abc import Mapping

import pytest
from celery.signals import task_prerun
from django.db import transaction
from django.utils import timezone

from lifecycle.services import account_transition
from tests.factories import StudentFactory
from webhooks import services
from webhooks.models import WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db

BOTH = ["lifecycle.transition", "risk.flagged"]


def verify(secret: str, headers: Mapping[str, str], body: bytes, tolerance: int = 300) -> bool:
    """The receiver-side check documented in docs/api.md (Webhooks)."""
    timestamp = headers["X-CRM-Timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body,
                                    hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, headers["X-CRM-Signature"])


def subscribe(url: str, branch=None, types=None, **kw) -> WebhookSubscription:
    return WebhookSubscription.objects.create(name="erp", url=url, branch=branch,
                                              event_types=types or BOTH, **kw)


def flag(student, *, reason: str = "3 absences") -> None:
    account_transition(student=student, to_period="at_risk", trigger="risk", reason=reason,
                       evidence={"score": 72, "threshold": 60,
                                 "factors": [{"code": "absences", "value": 3, "points": 30}]})


def test_a_move_into_at_risk_posts_two_signed_events_with_ids_not_names(
        local_webhooks, receiver, branch_a, django_capture_on_commit_callbacks):
    sub = subscribe(receiver.url, branch=branch_a)
    student = StudentFactory(branch=branch_a, period="growth")

    with django_capture_on_commit_callbacks(execute=True):
        flag(student)

    got = receiver.wait_for(2)
    assert [r.headers["X-CRM-Event"] for r in got] == BOTH
    for r in got:
        assert r.path == "/hooks/crm"
        assert r.headers["Content-Type"] == "application/json; charset=utf-8"
        assert verify(sub.secret, r.headers, r.body)
        assert not verify("another-secret", r.headers, r.body)
        assert not verify(sub.secret, r.headers, r.body + b" ")  # tampered body
    moved, risk = (json.loads(r.body) for r in got)
    transition = student.transitions.get()
    assert moved["id"] == f"transition:{transition.pk}"
    assert moved["type"] == "lifecycle.transition"
    assert moved["data"] == {
        "transition": transition.pk, "student": student.pk, "branch": branch_a.pk,
        "from_period": "growth", "to_period": "at_risk", "at": transition.at.isoformat(),
        "trigger": "risk", "reason": "3 absences", "win_back": False, "by": None,
        "scan_run": None}
    assert risk["id"] == f"risk:{transition.pk}"
    assert (risk["data"]["risk"], risk["data"]["threshold"]) == (72, 60)
    assert risk["data"]["factors"][0]["code"] == "absences"
    assert student.name_zh not in got[0].body.decode()
    deliveries = WebhookDelivery.objects.order_by("pk")
    assert [str(d.pk) for d in deliveries] == [r.headers["X-CRM-Delivery"] for r in got]
    assert {(d.status, d.attempts, d.response_code) for d in deliveries} == {
        ("delivered", 1, 200)}


def test_other_moves_send_only_lifecycle_transition(local_webhooks, receiver, branch_a,
                                                    django_capture_on_commit_callbacks):
    subscribe(receiver.url)
    student = StudentFactory(branch=branch_a, period="growth")

    with django_capture_on_commit_callbacks(execute=True):
        account_transition(student=student, to_period="maturity", trigger="maturity",
                           reason="tenure")

    assert [r.headers["X-CRM-Event"] for r in receiver.wait_for(1)] == [
        "lifecycle.transition"]


def test_a_500_is_retried_with_backoff_until_the_receiver_accepts(
        local_webhooks, receiver, branch_a, django_capture_on_commit_callbacks):
    receiver.statuses = [500, 503]
    subscribe(receiver.url, types=["lifecycle.transition"])
    student = StudentFactory(branch=branch_a, period="growth")

    with django_capture_on_commit_callbacks(execute=True):
        flag(student)

    got = receiver.wait_for(3)
    assert len(got) == 3
    assert len({r.headers["X-CRM-Delivery"] for r in got}) == 1
    assert len({r.body for r in got}) == 1  # the same event, re-signed per attempt
    row = WebhookDelivery.objects.get()
    assert (row.status, row.attempts, row.response_code, row.last_error) == (
        "delivered", 3, 200, "")


def test_each_failure_doubles_the_wait_and_the_last_attempt_gives_up(
        local_webhooks, receiver, branch_a):
    local_webhooks.WEBHOOKS_RETRY_BACKOFF = 60
    local_webhooks.WEBHOOKS_MAX_ATTEMPTS = 3
    receiver.statuses = [500, 500, 500]
    sub = subscribe(receiver.url)
    row = WebhookDelivery.objects.create(subscription=sub, event_id="e1",
                                         event_type="risk.flagged", payload={"x": 1})
    waits = []
    for _attempt in range(3):
        before = timezone.now()
        result = services.deliver([row.pk])
        row.refresh_from_db()
        if row.next_attempt_at:
            waits.append((row.next_attempt_at - before).total_seconds())
            assert result.retry == [row.pk]

    assert 60 <= waits[0] <= 67 and 120 <= waits[1] <= 133
    assert (row.status, row.attempts, row.response_code, row.last_error) == (
        "failed", 3, 500, "HTTP 500")
    assert result.failed == [row.pk]
    services.deliver([row.pk])  # a failed delivery is never sent again by a stray task
    assert len(receiver.requests) == 3


def test_an_unreachable_receiver_is_a_failed_attempt_not_a_crash(local_webhooks, receiver):
    sub = subscribe("http://127.0.0.1:9/closed")
    row = WebhookDelivery.objects.create(subscription=sub, event_id="e1",
                                         event_type="risk.flagged", payload={})

    result = services.deliver([row.pk])

    row.refresh_from_db()
    assert result.retry == [row.pk]
    assert (row.status, row.attempts, row.response_code) == ("pending", 1, None)
    assert row.last_error


def test_a_dead_endpoint_is_called_once_per_pass_not_once_per_event(local_webhooks,
                                                                     receiver):
    receiver.statuses = [500]
    sub = subscribe(receiver.url)
    rows = [WebhookDelivery.objects.create(subscription=sub, event_id=f"e{i}",
                                           event_type="risk.flagged", payload={})
            for i in range(3)]

    services.deliver([r.pk for r in rows])

    assert len(receiver.requests) == 1
    assert {(r.status, r.attempts) for r in WebhookDelivery.objects.all()} == {("pending", 1)}


def test_a_repeated_event_is_delivered_once(local_webhooks, receiver, branch_a,
                                            django_capture_on_commit_callbacks):
    subscribe(receiver.url)
    event = services.Event(id="transition:1", branch_id=branch_a.pk, data={"n": 1})

    with django_capture_on_commit_callbacks(execute=True):
        first = services.emit("lifecycle.transition", [event])
    with django_capture_on_commit_callbacks(execute=True):
        again = services.emit("lifecycle.transition", [event, event])

    assert (first, again) == (1, 0)
    assert WebhookDelivery.objects.count() == 1
    assert len(receiver.wait_for(1)) == 1


def test_a_branch_subscription_gets_only_its_branch_and_head_office_gets_all(
        local_webhooks, receiver, branch_a, branch_b, django_capture_on_commit_callbacks):
    sub_a = subscribe(receiver.url, branch=branch_a, types=["lifecycle.transition"])
    sub_b = subscribe(receiver.url, branch=branch_b, types=["lifecycle.transition"])
    chain = subscribe(receiver.url, branch=None, types=["lifecycle.transition"])
    subscribe(receiver.url, branch=branch_a, types=["lifecycle.transition"], is_active=False)
    in_a = StudentFactory(branch=branch_a, period="growth")
    in_b = StudentFactory(branch=branch_b, period="growth")

    with django_capture_on_commit_callbacks(execute=True):
        flag(in_a)
    with django_capture_on_commit_callbacks(execute=True):
        flag(in_b)

    got = {(d.subscription_id, d.payload["data"]["student"])
           for d in WebhookDelivery.objects.all()}
    assert got == {(sub_a.pk, in_a.pk), (chain.pk, in_a.pk), (sub_b.pk, in_b.pk),
                   (chain.pk, in_b.pk)}
    assert len(receiver.wait_for(4)) == 4


def test_a_rolled_back_transaction_sends_nothing(local_webhooks, receiver, branch_a,
                                                 django_capture_on_commit_callbacks):
    subscribe(receiver.url)
    student = StudentFactory(branch=branch_a, period="growth")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, transaction.atomic():
        flag(student)
        transaction.set_rollback(True)

    assert callbacks == []
    assert not student.transitions.exists()
    assert WebhookDelivery.objects.count() == 0
    time.sleep(0.2)
    assert receiver.requests == []


def test_a_move_rolled_back_in_a_savepoint_is_not_announced(
        local_webhooks, receiver, branch_a, django_capture_on_commit_callbacks):
    subscribe(receiver.url, types=["lifecycle.transition"])
    kept, undone = (StudentFactory(branch=branch_a, period="growth") for _ in range(2))

    with django_capture_on_commit_callbacks(execute=True):
        flag(kept)  # registers the transaction's batch
        with transaction.atomic():
            flag(undone)  # joins that batch, then its savepoint rolls back
            transaction.set_rollback(True)

    assert [d.payload["data"]["student"] for d in WebhookDelivery.objects.all()] == [kept.pk]


def test_a_night_moving_many_accounts_queues_one_task_per_batch(
        local_webhooks, receiver, branch_a, django_capture_on_commit_callbacks):
    local_webhooks.WEBHOOKS_BATCH_SIZE = 4
    subscribe(receiver.url)
    students = [StudentFactory(branch=branch_a, period="growth") for _ in range(5)]
    runs: list[int] = []

    def count(sender=None, **kwargs) -> None:
        if sender is not None and sender.name == "webhooks.tasks.deliver_task":
            runs.append(len(kwargs["args"][0]))

    task_prerun.connect(count)
    try:
        with (django_capture_on_commit_callbacks(execute=True) as callbacks,
              transaction.atomic()):  # one chunk of the nightly scan
            for student in students:
                flag(student)
    finally:
        task_prerun.disconnect(count)

    assert sum(isinstance(c, services._Batch) for c in callbacks) == 1  # per transaction
    # 5 transitions and 5 risk flags, each event type in batches of 4: 4 tasks, not 10.
    assert sorted(runs) == [1, 1, 4, 4]
    assert len(receiver.wait_for(10)) == 10


def test_the_nightly_scan_announces_its_moves(local_webhooks, receiver, branch_a,
                                              django_capture_on_commit_callbacks):
    from lifecycle.services import scan_lifecycle
    from tests.lifecycle.conftest import paid_contract

    subscribe(receiver.url, types=["lifecycle.transition"])
    student = StudentFactory(branch=branch_a, period="prospecting")
    paid_contract(student)  # a first paid contract: prospecting -> socialization

    with django_capture_on_commit_callbacks(execute=True):
        run = scan_lifecycle(branch_id=branch_a.pk)

    moves = list(student.transitions.order_by("pk"))
    assert moves and run.moved_total == len(moves)
    assert sorted(d.event_id for d in WebhookDelivery.objects.all()) == sorted(
        f"transition:{t.pk}" for t in moves)
    assert {d.payload["data"]["scan_run"] for d in WebhookDelivery.objects.all()} == {run.pk}


def test_production_refuses_loopback_and_plain_http(settings, receiver):
    from django.core.exceptions import ValidationError

    settings.WEBHOOKS_REQUIRE_HTTPS = True
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    with pytest.raises(ValidationError):
        services.check_url("http://example.com/hook")
    with pytest.raises(ValidationError):
        services.check_url("https://127.0.0.1/hook")
    services.check_url("https://example.com/hook")

    outcome = services.post(receiver.url, secret="s", event_type="risk.flagged",
                            delivery_id=1, payload={})
    assert not outcome.ok and "private" in outcome.error
    assert receiver.requests == []


@pytest.fixture
def production_webhooks(settings):
    """Private networks refused, as in production (plain http kept for the local tests)."""
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False
    settings.WEBHOOKS_TIMEOUT = 5.0
    return settings


@pytest.mark.parametrize("scheme, port", [("http", 80), ("https", 443)])
def test_a_delivery_connects_to_the_address_it_checked_not_to_a_second_answer(
        production_webhooks, monkeypatch, scheme, port):
    """DNS rebinding: the name answers a public address for the check and loopback the
    next time. The delivery looks the name up once and dials the address it checked."""
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])
    lookups: list[str] = []

    def resolve(host: str, port: int) -> list[str]:
        lookups.append(host)
        return next(answers)

    dialed: list[tuple[str, int]] = []

    def dial(address: tuple[str, int], *args, **kwargs):
        dialed.append(address)
        raise OSError("no route from the tests")

    monkeypatch.setattr(services, "_resolve", resolve)
    monkeypatch.setattr(services.socket, "create_connection", dial)
    outcome = services.post(f"{scheme}://rebind.example/hook", secret="s",
                            event_type="risk.flagged", delivery_id=1, payload={})
    assert not outcome.ok and "no route from the tests" in outcome.error
    assert lookups == ["rebind.example"]
    assert dialed == [("93.184.216.34", port)]


def test_a_pinned_delivery_reaches_the_checked_address_and_names_the_host(
        production_webhooks, monkeypatch, receiver):
    """The pinned connection is a real one: it reaches the address and the Host header
    still names the host (the name itself resolves nowhere)."""
    port = receiver.url.split(":")[2].split("/")[0]
    monkeypatch.setattr(services, "public_address", lambda host, port: ("127.0.0.1", ""))
    outcome = services.post(f"http://hooks.crm.invalid:{port}/hooks/crm", secret="s",
                            event_type="risk.flagged", delivery_id=7, payload={"a": 1})
    assert (outcome.ok, outcome.status) == (True, 200)
    (request,) = receiver.wait_for(1)
    assert request.headers["Host"] == f"hooks.crm.invalid:{port}"
    assert (request.path, request.headers["X-CRM-Delivery"]) == ("/hooks/crm", "7")


@pytest.mark.parametrize("addresses, expected", [
    (["93.184.216.34", "2606:2800:220:1::1"], ("93.184.216.34", "")),
    (["93.184.216.34", "10.0.0.5"], (None, "refused: the host is on a private or loopback "
                                           "network")),
    (["169.254.169.254"], (None, "refused: the host is on a private or loopback network")),
    (["fe80::1%eth0"], (None, "refused: the host is on a private or loopback network")),
    ([], (None, "could not resolve hooks.example")),
])
def test_public_address_refuses_a_name_with_any_internal_address(monkeypatch, addresses,
                                                                  expected):
    monkeypatch.setattr(services, "_resolve", lambda host, port: addresses)
    assert services.public_address("hooks.example", 443) == expected


def test_an_unresolvable_name_is_a_failed_attempt_naming_the_host(production_webhooks,
                                                                 monkeypatch):
    import socket

    def resolve(host: str, port: int) -> list[str]:
        raise socket.gaierror(-2, "Name or service not known")

    monkeypatch.setattr(services, "_resolve", resolve)
    outcome = services.post("https://nowhere.example/hook", secret="s",
                            event_type="risk.flagged", delivery_id=1, payload={})
    assert not outcome.ok and outcome.error.startswith("could not resolve nowhere.example")


def test_a_redirect_is_not_followed(local_webhooks, receiver):
    receiver.statuses = [302]
    outcome = services.post(receiver.url, secret="s", event_type="risk.flagged",
                            delivery_id=1, payload={})
    assert (outcome.ok, outcome.status) == (False, 302)
    assert len(receiver.requests) == 1


def test_resend_stale_requeues_only_long_overdue_pending_deliveries(
        local_webhooks, receiver, django_capture_on_commit_callbacks):
    sub = subscribe(receiver.url)
    old = timezone.now() - dt.timedelta(hours=1)
    stale = WebhookDelivery.objects.create(subscription=sub, event_id="old",
                                           event_type="risk.flagged", payload={},
                                           next_attempt_at=old)
    WebhookDelivery.objects.create(subscription=sub, event_id="soon",
                                   event_type="risk.flagged", payload={},
                                   next_attempt_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        assert services.resend_stale() == 1
    stale.refresh_from_db()
    assert stale.status == "delivered"
    assert len(receiver.requests) == 1
