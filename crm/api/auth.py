"""POST /api/v1/auth/token/: a token for username + password (for non-browser clients)."""
from __future__ import annotations

from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.permissions import AllowAny

from .throttling import AnonRateThrottle


class TokenView(ObtainAuthToken):
    """Exchange credentials for the user's API token (one per user, reused).

    Throttled per IP (the anon rate) so it cannot be used to guess passwords quickly.
    No session authentication here: the endpoint takes credentials, so CSRF has nothing
    to protect and must not get in a script's way.
    """

    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes = [AnonRateThrottle]

    @extend_schema(
        operation_id="auth_token_create",
        tags=["auth"],
        request=ObtainAuthToken.serializer_class,
        responses={200: inline_serializer("TokenResponse",
                                          {"token": serializers.CharField()})},
    )
    def post(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        return super().post(request, *args, **kwargs)
