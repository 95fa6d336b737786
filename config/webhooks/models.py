"""Webhook endpoints and the transactional outbox of events they receive (README, Webhooks).

An event row is written in the transaction of the change it announces (services.events_record),
so a rolled-back change announces nothing and a broker that is down loses nothing: delivery
rows are made from events by the beat dispatcher, one per (event, endpoint), and each attempt
at sending one is kept for the deliveries list.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils import timezone


class WebhookEndpoint(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    url = models.URLField(max_length=2048)
    description = models.CharField(max_length=400, blank=True)
    event_types = models.JSONField(default=list)
    # Kept in clear: each request is signed with it ("whsec_" + base64 of the key's bytes).
    secret = models.CharField(max_length=80)
    created_at = models.DateTimeField(auto_now_add=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    # Set when a delivery used up its retries, cleared by the next delivery that succeeds.
    failing_since = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["created_at", "id"], name="webhook_endpoint_keyset")]

    def __str__(self) -> str:
        return self.url


class WebhookEvent(models.Model):
    """One outbox row: what happened, in the body every endpoint receives."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    type = models.CharField(max_length=64)
    data = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now)
    # Set once the dispatcher made this event's deliveries.
    fanned_out_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(
                fields=["created_at"],
                name="webhook_event_to_fan_out",
                condition=Q(fanned_out_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.id}"


class WebhookDelivery(models.Model):
    """One event for one endpoint, until it is delivered or gives up."""

    class Status(models.TextChoices):
        PENDING = "PENDING"
        DELIVERED = "DELIVERED"
        FAILED = "FAILED"  # retries used up
        CANCELLED = "CANCELLED"  # the endpoint was archived first

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(WebhookEvent, on_delete=models.CASCADE, related_name="deliveries")
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # When the dispatcher sends it next; while a task holds it, the end of that task's lease.
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["event", "endpoint"], name="webhook_delivery_once_per_endpoint"
            )
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due",
                condition=Q(status="PENDING"),
            )
        ]

    def __str__(self) -> str:
        return f"delivery {self.id} ({self.status})"


class WebhookDeliveryAttempt(models.Model):
    id = models.BigAutoField(primary_key=True)
    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.CASCADE, related_name="attempt_rows"
    )
    # Denormalised from the delivery so an endpoint's attempts are one index range.
    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="attempt_rows"
    )
    attempted_at = models.DateTimeField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField()
    error = models.TextField(blank=True)
    response_body = models.TextField(blank=True)  # the first 1 KB at most

    class Meta:
        ordering = ["-attempted_at", "-id"]
        indexes = [
            models.Index(
                fields=["endpoint", "attempted_at", "id"], name="webhook_attempt_by_endpoint"
            )
        ]

    def __str__(self) -> str:
        return f"attempt {self.id} ({self.response_status or self.error})"
