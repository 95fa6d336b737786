from __future__ import annotations

import uuid

from django.db.models import F, OuterRef, QuerySet, Subquery

from config.core.errors import NotFound, ValidationFailed
from config.core.pagination import CursorPage, keyset_paginate
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


def delivery_attempts_page(
    *, endpoint: WebhookEndpoint, limit: int, cursor: str | None
) -> CursorPage:
    """One page of `endpoint`'s attempts, newest first (`after` cursors); a forged or stale
    cursor starts again from the newest."""

    def fetch(after: str | None) -> CursorPage:
        attempts = delivery_attempts(endpoint=endpoint)
        return keyset_paginate(
            attempts,
            limit=limit,
            cursor=after,
            keys=("attempted_at", "id"),
            descending=True,
            cursor_field="after",
        )

    try:
        return fetch(cursor)
    except ValidationFailed:
        return fetch(None)


def endpoints_with_last_attempt(*, include_archived: bool = True) -> QuerySet[WebhookEndpoint]:
    """Endpoints for the Webhooks page, newest first, each with its last attempt's time,
    response status and error (`last_attempted_at`, `last_status`, `last_error`): one query,
    each annotation one index probe (webhook_attempt_by_endpoint)."""
    last = WebhookDeliveryAttempt.objects.filter(endpoint=OuterRef("pk")).order_by(
        "-attempted_at", "-id"
    )
    return (
        endpoints(include_archived=include_archived)
        .annotate(
            last_attempted_at=Subquery(last.values("attempted_at")[:1]),
            last_status=Subquery(last.values("response_status")[:1]),
            last_error=Subquery(last.values("error")[:1]),
        )
        .order_by(F("archived_at").asc(nulls_first=True), "-created_at", "-id")
    )
