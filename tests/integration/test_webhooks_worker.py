"""Webhooks on a real Celery worker and Redis: the task is sent only after the transition
commits, and a 500 is retried by the broker after the backoff countdown (not in place)."""
from __future__ import annotations

import pytest

from lifecycle.services import account_transition
from tests.factories import BranchFactory, StudentFactory
from tests.webhooks.receiver import receiver  # noqa: F401 (a fixture)
from webhooks.models import WebhookDelivery, WebhookSubscription

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


@pytest.fixture
def worker_webhook_env(monkeypatch: pytest.MonkeyPatch, settings) -> None:
    """Read by the worker process at start (it inherits the environment)."""
    monkeypatch.setenv("WEBHOOKS_REQUIRE_HTTPS", "false")
    monkeypatch.setenv("WEBHOOKS_ALLOW_PRIVATE_NETWORKS", "true")
    monkeypatch.setenv("WEBHOOKS_RETRY_BACKOFF", "1")
    settings.WEBHOOKS_REQUIRE_HTTPS = False
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = True


def test_a_failed_post_is_retried_by_the_worker_after_the_backoff(
        worker_webhook_env, celery_worker_process, receiver):  # noqa: F811
    receiver.statuses = [500]
    branch = BranchFactory(code="wh")
    sub = WebhookSubscription.objects.create(name="erp", url=receiver.url, branch=branch,
                                             event_types=["lifecycle.transition"])
    student = StudentFactory(branch=branch, period="growth")

    account_transition(student=student, to_period="maturity", trigger="maturity",
                       reason="tenure")  # commits: transactional_db

    got = receiver.wait_for(2, timeout=60)
    assert len(got) == 2
    assert got[1].at - got[0].at >= 1.0  # the countdown, through the broker
    assert got[0].headers["X-CRM-Delivery"] == got[1].headers["X-CRM-Delivery"]
    row = WebhookDelivery.objects.get(subscription=sub)
    for _ in range(50):
        if row.status == "delivered":
            break
        receiver.wait_for(99, timeout=0.1)
        row.refresh_from_db()
    assert (row.status, row.attempts) == ("delivered", 2)
