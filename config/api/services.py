from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from config.api.models import ApiToken, generate_raw_token, hash_token
from config.audit.services import audit_record, stamp_recorded


@transaction.atomic
def api_token_create(*, user: AbstractBaseUser, name: str = "") -> tuple[ApiToken, str]:
    """Create a token for `user`; returns the row and the clear token, which is never stored."""
    raw = generate_raw_token()
    token = ApiToken.objects.create(
        user=user, name=name, key_hash=hash_token(raw), key_prefix=raw[:10]
    )
    audit_record(
        action="create",
        resource_type="api_token",
        resource_id=token.pk,
        changes={"id": token.pk, "user_id": user.pk, "name": name, "key_prefix": token.key_prefix},
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken) -> None:
    stamp_recorded(token, "revoked_at", action="revoke", resource_type="api_token")


# How stale `last_used_at` may get: one write per token per minute at most, not one per request.
TOKEN_USE_RESOLUTION = timedelta(minutes=1)


def api_token_authenticate(*, raw_token: str) -> ApiToken | None:
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw_token), revoked_at__isnull=True, user__is_active=True)
        .order_by()
        .first()
    )
    if token is not None:
        api_token_touch(token=token)
    return token


def api_token_touch(*, token: ApiToken) -> None:
    """Stamp `last_used_at` when the stamp read with the token is over a minute old.

    Most requests see a fresh stamp and write nothing. The update is conditional, so
    concurrent requests on one token write it once, and it runs outside any request
    transaction (autocommit), so it never holds a row lock for long.
    """
    now = timezone.now()
    stale_before = now - TOKEN_USE_RESOLUTION
    if token.last_used_at is not None and token.last_used_at >= stale_before:
        return
    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale_before), pk=token.pk
    ).update(last_used_at=now)
    token.last_used_at = now
