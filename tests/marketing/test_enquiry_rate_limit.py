"""The enquiry page's rate limit lives in Django's cache framework: with a shared Redis
cache every worker counts the same hits; the honeypot and the duplicate-phone rule hold."""
import os
import time

import pytest
from django.core.cache import cache

from marketing.forms import started_token
from marketing.models import Enquiry, MarketingPolicy
from marketing.services import enquiry_rate_exceeded
from parents.models import Parent
from students.models import Student
from tests.conftest import require

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.marketing.urls")]


def form(**kw):
    data = {"parent_name": "刘女士", "phone": "139 0000 1111", "child_name": "刘洋",
            "grade": "S3", "message": "", "consent_contact": "on", "website": "",
            "started": started_token(time.time() - 30)}
    return data | kw


@pytest.fixture
def redis_cache(settings):
    """Django's Redis cache on the test Redis database (what production configures)."""
    url = os.environ.get("REDIS_URL", "")
    require(bool(url), "REDIS_URL is not set: the shared-cache test needs Redis")
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": url, "KEY_PREFIX": f"test-{os.getpid()}"}}
    cache.clear()
    yield settings.CACHES["default"]
    cache.clear()


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


def test_the_counter_opens_a_window_and_refuses_past_the_limit():
    assert [enquiry_rate_exceeded("ip:1.2.3.4", 2) for _ in range(4)] == [
        False, False, True, True]
    assert enquiry_rate_exceeded("ip:5.6.7.8", 2) is False  # another key, its own count


def test_a_new_window_starts_when_the_old_one_expires():
    assert enquiry_rate_exceeded("ip:9.9.9.9", 1, window=1) is False
    assert enquiry_rate_exceeded("ip:9.9.9.9", 1, window=1) is True
    time.sleep(1.2)
    assert enquiry_rate_exceeded("ip:9.9.9.9", 1, window=1) is False


def test_with_redis_every_worker_shares_the_count(redis_cache, client, branch_a):
    """Two web workers are two cache clients: the second sees the first one's hits."""
    from django.core.cache.backends.redis import RedisCache

    MarketingPolicy.objects.create(branch=branch_a, enquiry_limit_per_hour=2)
    for i in range(2):
        client.post(f"/m/enquiry/{branch_a.code}/",
                    form(phone=f"13900002{i:03d}", child_name=f"孩子{i}"))
    other_worker = RedisCache(redis_cache["LOCATION"], {"KEY_PREFIX": redis_cache["KEY_PREFIX"]})
    assert other_worker.get("mkt:enq:ip:127.0.0.1") == 2
    other_worker.incr("mkt:enq:ip:127.0.0.1")  # a hit served by the other worker
    response = client.post(f"/m/enquiry/{branch_a.code}/", form(phone="13900009999"))
    assert response.status_code == 429
    assert Enquiry.objects.count() == 2


def test_one_phone_is_limited_whatever_the_address(client, branch_a):
    MarketingPolicy.objects.create(branch=branch_a, enquiry_limit_per_hour=1)
    first = client.post(f"/m/enquiry/{branch_a.code}/", form(), REMOTE_ADDR="10.0.0.1")
    again = client.post(f"/m/enquiry/{branch_a.code}/", form(), REMOTE_ADDR="10.0.0.2")
    assert (first.status_code, again.status_code) == (200, 429)
    assert Enquiry.objects.count() == 1


def test_a_repeated_phone_under_the_limit_attaches_instead_of_duplicating(client, branch_a):
    client.post(f"/m/enquiry/{branch_a.code}/", form(), REMOTE_ADDR="10.0.0.1")
    client.post(f"/m/enquiry/{branch_a.code}/", form(), REMOTE_ADDR="10.0.0.2")
    assert Parent.objects.count() == 1 and Student.objects.count() == 1
    assert list(Enquiry.objects.order_by("id").values_list("status", flat=True)) == [
        Enquiry.Status.CONVERTED, Enquiry.Status.ATTACHED]


def test_the_honeypot_neither_keeps_nor_counts(client, branch_a):
    MarketingPolicy.objects.create(branch=branch_a, enquiry_limit_per_hour=1)
    for _ in range(3):
        response = client.post(f"/m/enquiry/{branch_a.code}/", form(website="http://x"))
        assert response.status_code == 200
    assert Enquiry.objects.count() == 0
    assert client.post(f"/m/enquiry/{branch_a.code}/", form()).status_code == 200
    assert Enquiry.objects.count() == 1
