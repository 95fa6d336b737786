from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from config.api.models import ApiToken, generate_raw_token, hash_token
from config.audit.services import audit_record


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
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at"])
    audit_record(
        action="revoke",
        resource_type="api_token",
        resource_id=token.pk,
        changes={"revoked_at": {"before": None, "after": token.revoked_at}},
    )


def api_token_authenticate(*, raw_token: str) -> ApiToken | None:
    return (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw_token), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
