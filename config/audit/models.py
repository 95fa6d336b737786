"""The audit trail: one append-only row per write, committed in the write's own transaction.

A PostgreSQL trigger (migration 0001) refuses UPDATE and DELETE on the table, so not even a
superuser's shell or the admin can rewrite history through the ORM.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class CurrentTransactionId(models.Func):
    """The writing transaction's id (PostgreSQL 13+), as a bigint the ORM can compare."""

    template = "(pg_current_xact_id()::text::bigint)"
    output_field = models.BigIntegerField()


class AuditLogEntry(models.Model):
    class Channel(models.TextChoices):
        API = "api", "API"
        WEB = "web", "Browser"
        ADMIN = "admin", "Admin"
        TASK = "task", "Celery task"
        SYSTEM = "system", "Command / system"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    timestamp = models.DateTimeField(default=timezone.now)
    # Who: the user (kept as an id without a constraint so deleting a user never touches
    # history) plus a snapshot of how they were called then; the token when the API was used.
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    actor_name = models.CharField(max_length=200)
    actor_email = models.CharField(max_length=254, blank=True)
    api_token_id = models.BigIntegerField(null=True, blank=True)
    api_token_prefix = models.CharField(max_length=12, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices)
    # Where from: empty / null outside a request (commands, tasks).
    request_id = models.CharField(max_length=128, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=500, blank=True)
    # What.
    action = models.CharField(max_length=64)
    resource_type = models.CharField(max_length=64)
    resource_id = models.CharField(max_length=128)
    description = models.TextField(blank=True)
    changes = models.JSONField(default=dict, blank=True)
    # The writing transaction, filled in by the database: the oldest-first feed orders by it
    # and hands out only entries below every transaction still in flight (selectors.py), so
    # an entry that commits late can never land behind a reader's cursor.
    xact_id = models.BigIntegerField(db_default=CurrentTransactionId(), editable=False)

    class Meta:
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"
        ordering = ["-timestamp", "-id"]
        indexes = [
            models.Index(fields=["timestamp", "id"], name="audit_time_idx"),
            models.Index(fields=["xact_id", "timestamp", "id"], name="audit_commit_order_idx"),
            models.Index(
                fields=["resource_type", "resource_id", "timestamp", "id"],
                name="audit_resource_idx",
            ),
            models.Index(fields=["actor_user", "timestamp", "id"], name="audit_actor_idx"),
            # The actor filter matches process actors ("task …", "seed") by name.
            models.Index(fields=["actor_name", "timestamp", "id"], name="audit_actor_name_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.timestamp:%Y-%m-%dT%H:%M:%SZ} {self.actor_name} {self.action} {self.resource_type} {self.resource_id}"
