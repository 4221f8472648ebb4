"""The cache backend follows the environment: Redis (another db than the Celery broker)
when REDIS_URL or CACHE_URL is set, so throttle counters are shared by every process."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid

import pytest
from django.conf import settings as django_settings

from tests.conftest import require

REDIS = "django.core.cache.backends.redis.RedisCache"
LOCMEM = "django.core.cache.backends.locmem.LocMemCache"


def caches_for(**env: str) -> dict:
    """settings.CACHES as a fresh process computes it from this environment."""
    clean = {k: v for k, v in os.environ.items()
             if k not in {"REDIS_URL", "CACHE_URL", "REDIS_CACHE_DB", "CACHE_KEY_PREFIX"}}
    code = ("import json, django; django.setup(); from django.conf import settings; "
            "print(json.dumps(settings.CACHES['default']))")
    out = subprocess.run([sys.executable, "-c", code], env={
        **clean, **env, "DJANGO_SETTINGS_MODULE": "crm.settings"},
        capture_output=True, text=True, cwd=django_settings.BASE_DIR)
    return {"rc": out.returncode, "stderr": out.stderr,
            **(json.loads(out.stdout) if out.returncode == 0 else {})}


def test_without_redis_the_cache_is_in_memory():
    got = caches_for()
    assert got["BACKEND"] == LOCMEM, got


def test_with_redis_the_cache_takes_the_next_db_of_the_broker():
    got = caches_for(REDIS_URL="redis://cache.internal:6379/4")
    assert (got["BACKEND"], got["LOCATION"]) == (REDIS, "redis://cache.internal:6379/5")
    assert got["KEY_PREFIX"] == "k12crm"
    assert caches_for(REDIS_URL="redis://r:6379")["LOCATION"] == "redis://r:6379/1"


def test_cache_url_and_cache_db_override_and_the_broker_db_is_refused():
    assert caches_for(REDIS_URL="redis://r:6379/0",
                      CACHE_URL="redis://c:6380/2")["LOCATION"] == "redis://c:6380/2"
    assert caches_for(REDIS_URL="redis://r:6379/0",
                      REDIS_CACHE_DB="9")["LOCATION"] == "redis://r:6379/9"
    clash = caches_for(REDIS_URL="redis://r:6379/3", REDIS_CACHE_DB="3")
    assert clash["rc"] != 0 and "must not be the Celery broker" in clash["stderr"]


@pytest.mark.redis
def test_throttle_counters_live_in_redis_where_every_process_sees_them(db, settings):
    """Two cache connections (as two gunicorn workers have) share one token's counter."""
    redis_url = os.environ.get("REDIS_URL", "")
    require(bool(redis_url), "REDIS_URL is not set")
    import redis
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache
    from rest_framework.authtoken.models import Token

    from crm.roles import Role
    from tests.api.conftest import HttpsClient
    from tests.factories import BranchFactory, staff

    location = django_settings.CACHE_URL
    assert location and location != redis_url
    prefix = f"test-{uuid.uuid4().hex[:8]}"
    settings.CACHES = {"default": {"BACKEND": REDIS, "LOCATION": location,
                                   "KEY_PREFIX": prefix}}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK,
                               "DEFAULT_THROTTLE_RATES": {"user": "2/minute", "anon": None}}
    user = staff(Role.MANAGER, BranchFactory(), username=f"u{prefix}")
    token = Token.objects.create(user=user).key
    client = HttpsClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    raw = redis.Redis.from_url(location)
    try:
        assert isinstance(caches["default"], RedisCache)
        codes = [client.get("/api/v1/branches/").status_code for _ in range(2)]
        other_process = RedisCache(location, {"KEY_PREFIX": prefix})
        key = f"throttle_user_{user.pk}"
        assert len(other_process.get(key)) == 2  # the counter another worker would read
        assert [*codes, client.get("/api/v1/branches/").status_code] == [200, 200, 429]
    finally:
        for k in raw.scan_iter(f"{prefix}:*"):
            raw.delete(k)
