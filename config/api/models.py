from __future__ import annotations

import hashlib
import secrets

from django.conf import settings
from django.db import models

TOKEN_PREFIX = "pp_"


def hash_token(raw_token: str) -> str:
    # Tokens are long random strings, so a fast hash is enough (no brute force of a 256-bit secret).
    return hashlib.sha256(raw_token.encode()).hexdigest()


def generate_raw_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


class ApiToken(models.Model):
    """A bearer token bound to a user; only its SHA-256 is stored, the clear token is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=200, blank=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    key_prefix = models.CharField(
        max_length=12, editable=False, help_text="First characters, to tell tokens apart"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.key_prefix}… ({self.user})"


class WorkerHeartbeat(models.Model):
    """Written by a Celery task: proof that a worker consumes the broker and reaches the database."""

    token = models.CharField(max_length=64, unique=True)
    hostname = models.CharField(max_length=200, blank=True)
    seen_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-seen_at"]
