from __future__ import annotations

from rest_framework import authentication, exceptions

from config.api.services import api_token_authenticate


class BearerTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer <token>` (Metronome) or `X-API-KEY: <token>` (Solvimon)."""

    keyword = "Bearer"

    def authenticate(self, request):
        raw = self._raw_token(request)
        if raw is None:
            return None
        token = api_token_authenticate(raw_token=raw)
        if token is None:
            raise exceptions.AuthenticationFailed("Invalid or revoked API token")
        return token.user, token

    def _raw_token(self, request) -> str | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if header:
            parts = header.split()
            if len(parts) != 2 or parts[0].lower() != self.keyword.lower():
                raise exceptions.AuthenticationFailed(
                    "Authorization header must be 'Bearer <token>'"
                )
            return parts[1]
        api_key = request.META.get("HTTP_X_API_KEY", "").strip()
        return api_key or None

    def authenticate_header(self, request) -> str:
        # A WWW-Authenticate value makes DRF answer 401 (not 403) to unauthenticated callers.
        return self.keyword
