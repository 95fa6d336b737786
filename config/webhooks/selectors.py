from __future__ import annotations

import uuid

from django.db.models import QuerySet

from config.api.errors import NotFound
from config.webhooks.models import WebhookDeliveryAttempt, WebhookEndpoint


def endpoints(*, include_archived: bool = False) -> QuerySet[WebhookEndpoint]:
    queryset = WebhookEndpoint.objects.all()
    return queryset if include_archived else queryset.filter(archived_at__isnull=True)


def endpoint_get(*, endpoint_id: uuid.UUID, field: str = "id") -> WebhookEndpoint:
    endpoint = WebhookEndpoint.objects.filter(id=endpoint_id).first()
    if endpoint is None:
        raise NotFound("No webhook with this id", field=field)
    return endpoint


def endpoint_status(endpoint: WebhookEndpoint) -> str:
    if endpoint.archived_at is not None:
        return "archived"
    return "failing" if endpoint.failing_since is not None else "enabled"


def delivery_attempts(*, endpoint: WebhookEndpoint) -> QuerySet[WebhookDeliveryAttempt]:
    """Every attempt at sending to `endpoint`, with its event (one query per page)."""
    return WebhookDeliveryAttempt.objects.filter(endpoint=endpoint).select_related(
        "delivery__event"
    )
