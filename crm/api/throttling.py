"""Per-token and per-IP rates, read from settings at request time.

DRF's own classes copy the rates when the module is imported, so changing
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] (env, tests) would not take effect.
"""
from __future__ import annotations

from rest_framework import throttling
from rest_framework.settings import api_settings


class _LiveRates:
    scope: str

    def get_rate(self) -> str | None:
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class UserRateThrottle(_LiveRates, throttling.UserRateThrottle):
    """Authenticated callers, keyed by user (so per token)."""


class AnonRateThrottle(_LiveRates, throttling.AnonRateThrottle):
    """Anonymous callers (the token endpoint), keyed by IP."""
