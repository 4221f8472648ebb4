"""/api/v1/webhooks/: managers and head office only, scoped by branch, secret shown once."""
from __future__ import annotations

import pytest

from tests.api.conftest import client_for
from webhooks.models import WebhookDelivery, WebhookSubscription

pytestmark = pytest.mark.django_db

URL = "/api/v1/webhooks/"
BODY = {"name": "ERP", "url": "https://erp.example.com/hooks",
        "event_types": ["risk.flagged", "lifecycle.transition"]}


@pytest.fixture
def subs(branch_a, branch_b) -> dict[str, WebhookSubscription]:
    def make(branch, name):
        return WebhookSubscription.objects.create(
            name=name, url="https://x.example.com/", branch=branch,
            event_types=["risk.flagged"])

    out = {"a": make(branch_a, "a"), "b": make(branch_b, "b"), "all": make(None, "all")}
    for key, sub in out.items():
        WebhookDelivery.objects.create(subscription=sub, event_id=f"risk:{key}",
                                       event_type="risk.flagged", payload={})
    return out


def test_a_manager_subscribes_their_own_branch_and_sees_the_secret_once(manager_a, branch_b):
    client = client_for(manager_a)

    other = client.post(URL, {**BODY, "branch": branch_b.pk}, format="json")
    res = client.post(URL, BODY, format="json")

    assert other.status_code == 400 and "branch" in other.json()["error"]["fields"]
    assert res.status_code == 201, res.json()
    body = res.json()
    sub = WebhookSubscription.objects.get(pk=body["id"])
    assert (sub.branch, sub.created_by) == (manager_a.staff_profile.branch, manager_a)
    assert body["secret"] == sub.secret and len(sub.secret) == 64
    assert body["event_types"] == ["lifecycle.transition", "risk.flagged"]
    detail = client.get(f"{URL}{sub.pk}/").json()
    assert "secret" not in detail
    assert all("secret" not in row for row in client.get(URL).json()["results"])


def test_head_office_subscribes_the_whole_chain(head_office):
    res = client_for(head_office).post(URL, BODY, format="json")
    assert res.status_code == 201
    assert WebhookSubscription.objects.get(pk=res.json()["id"]).branch is None


def test_a_retried_create_with_the_same_key_makes_one_subscription(manager_a):
    client = client_for(manager_a)
    first = client.post(URL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = client.post(URL, BODY, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again["Idempotent-Replayed"] == "true"
    assert WebhookSubscription.objects.count() == 1


@pytest.mark.parametrize(("change", "field", "code"), [
    ({"url": "http://erp.example.com/"}, "url", "insecure_url"),
    ({"url": "https://10.0.0.5/hook"}, "url", "private_url"),
    ({"url": "not a url"}, "url", "invalid"),
    ({"event_types": []}, "event_types", "invalid"),
    ({"event_types": ["student.deleted"]}, "event_types.0", "invalid"),
])
def test_bad_input_is_a_400_naming_the_field(manager_a, change, field, code):
    res = client_for(manager_a).post(URL, {**BODY, **change}, format="json")
    assert res.status_code == 400
    assert field in res.json()["error"]["fields"]
    assert res.json()["error"]["code"] in {code, "invalid", "empty", "invalid_choice"}
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize("who", ["counselor_a", "front_desk_a", "teacher_a"])
def test_other_roles_are_denied_everything(request, who, subs):
    client = client_for(request.getfixturevalue(who))
    delivery = subs["a"].deliveries.get()
    answers = [
        client.get(URL), client.get(f"{URL}{subs['a'].pk}/"),
        client.post(URL, BODY, format="json"),
        client.patch(f"{URL}{subs['a'].pk}/", {"is_active": False}, format="json"),
        client.delete(f"{URL}{subs['a'].pk}/"),
        client.get(f"{URL}deliveries/"), client.get(f"{URL}deliveries/{delivery.pk}/"),
        client.post(f"{URL}deliveries/{delivery.pk}/redeliver/"),
    ]
    assert [r.status_code for r in answers] == [403] * len(answers)
    assert WebhookSubscription.objects.count() == 3


def test_a_manager_never_sees_or_changes_another_branchs_subscriptions(manager_b, subs):
    client = client_for(manager_b)
    other, chain = subs["a"], subs["all"]

    listed = [r["id"] for r in client.get(URL).json()["results"]]
    deliveries = [r["subscription"] for r in client.get(f"{URL}deliveries/").json()["results"]]

    assert listed == [subs["b"].pk] and deliveries == [subs["b"].pk]
    for sub in (other, chain):
        assert client.get(f"{URL}{sub.pk}/").status_code == 404
        assert client.patch(f"{URL}{sub.pk}/", {"url": "https://evil.example.com/"},
                            format="json").status_code == 404
        assert client.delete(f"{URL}{sub.pk}/").status_code == 404
        assert client.post(f"{URL}{sub.pk}/rotate-secret/").status_code == 404
        assert client.get(f"{URL}deliveries/{sub.deliveries.get().pk}/").status_code == 404
    other.refresh_from_db()
    assert other.url == "https://x.example.com/"


def test_head_office_sees_every_subscription_and_delivery(head_office, subs):
    client = client_for(head_office)
    assert client.get(URL).json()["count"] == 3
    assert client.get(f"{URL}deliveries/").json()["count"] == 3
    assert client.get(f"{URL}deliveries/", {"subscription": subs["a"].pk}).json()["count"] == 1


def test_patch_changes_the_endpoint_but_never_the_branch(head_office, subs, branch_b):
    sub = subs["a"]
    res = client_for(head_office).patch(
        f"{URL}{sub.pk}/", {"url": "https://new.example.com/h", "is_active": False,
                            "branch": branch_b.pk}, format="json")
    assert res.status_code == 200, res.json()
    sub.refresh_from_db()
    assert (sub.url, sub.is_active, sub.branch_id) == (
        "https://new.example.com/h", False, subs["a"].branch_id)


def test_rotate_secret_and_delete(manager_a, subs):
    sub = subs["a"]
    client = client_for(manager_a)
    res = client.post(f"{URL}{sub.pk}/rotate-secret/")
    assert res.status_code == 200
    assert res.json()["secret"] != sub.secret
    sub.refresh_from_db()
    assert res.json()["secret"] == sub.secret
    assert client.delete(f"{URL}{sub.pk}/").status_code == 204
    assert not WebhookSubscription.objects.filter(pk=sub.pk).exists()


def test_redeliver_restarts_a_failed_delivery_only(manager_a, subs, settings,
                                                   django_capture_on_commit_callbacks):
    settings.WEBHOOKS_ALLOW_PRIVATE_NETWORKS = False  # x.example.com is not reachable
    row = subs["a"].deliveries.get()
    client = client_for(manager_a)
    assert client.post(f"{URL}deliveries/{row.pk}/redeliver/").status_code == 400

    WebhookDelivery.objects.filter(pk=row.pk).update(status="failed", attempts=8)
    with django_capture_on_commit_callbacks() as callbacks:
        res = client.post(f"{URL}deliveries/{row.pk}/redeliver/")

    assert res.status_code == 202
    assert (res.json()["status"], res.json()["attempts"]) == ("pending", 0)
    assert len(callbacks) == 1  # the delivery task, sent after commit
