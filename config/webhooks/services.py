"""Webhook endpoints, the outbox of events, and delivery (README, Webhooks).

- `events_record` writes one event row inside the caller's transaction (the change it announces).
- The beat dispatcher (tasks.webhooks_dispatch) makes each event's deliveries, one per
  subscribed endpoint, and queues those that are due; a delivery task sends one and records
  the attempt. A failed attempt is retried on RETRY_DELAYS; when they are used up the delivery
  is FAILED and its endpoint marked failing. Retries are rows with a due time, not Celery
  countdowns: a 6-hour countdown would outlive the broker's visibility timeout.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import socket
import ssl
import time
import uuid
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from config.audit.services import audit_record
from config.core.errors import Conflict, NotFound, ValidationFailed
from config.core.instants import format_instant
from config.webhooks import signing, targets
from config.webhooks.events import EVENT_TYPES
from config.webhooks.models import (
    WebhookDelivery,
    WebhookDeliveryAttempt,
    WebhookEndpoint,
    WebhookEvent,
)

Status = WebhookDelivery.Status

# Seconds to wait after the n-th failed attempt: 10 attempts in all over about 12 hours.
RETRY_DELAYS = (5, 30, 120, 600, 1800, 3600, 7200, 14400, 21600)
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1
REQUEST_TIMEOUT_SECONDS = 10
RESPONSE_BODY_MAX_BYTES = 1024
# How long a queued delivery is held from the dispatcher: longer than a send can take.
CLAIM_LEASE_SECONDS = 60
DISPATCH_BATCH = 500
USER_AGENT = "pricing-packages-webhooks/1"


# --- the outbox -------------------------------------------------------------------------------


def events_record(event_type: str, data: dict) -> WebhookEvent:
    """Announce a change: one INSERT in the change's own transaction (so it commits or rolls
    back with it). `data` is JSON: ids as strings."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("events_record must run inside the change's transaction (atomic)")
    if getattr(transaction.get_connection(), "asynchronous_commit", False):
        # An announced change is never lost by a database crash after it was announced.
        with transaction.get_connection().cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = on")
    return WebhookEvent.objects.create(
        type=event_type, data=json.loads(json.dumps(data, default=str))
    )


# --- endpoints --------------------------------------------------------------------------------


def _event_types_check(event_types: Iterable[str]) -> list[str]:
    types = list(dict.fromkeys(event_types))
    for index, event_type in enumerate(types):
        if event_type not in EVENT_TYPES:
            raise ValidationFailed(
                f"events[{index}]: unknown event type {event_type!r} "
                f"(one of {', '.join(EVENT_TYPES)})",
                field=f"events[{index}]",
            )
    if not types:
        raise ValidationFailed("events: name at least one event type", field="events")
    return types


@transaction.atomic
def endpoint_create(*, url: str, event_types: list[str], description: str = "") -> WebhookEndpoint:
    targets.url_check(url)
    endpoint = WebhookEndpoint.objects.create(
        url=url,
        description=description,
        event_types=_event_types_check(event_types),
        secret=signing.secret_generate(),
    )
    audit_record(
        action="create",
        resource_type="webhook",
        resource_id=endpoint.pk,
        changes={"id": endpoint.pk, "url": url, "events": endpoint.event_types},
    )
    return endpoint


def _locked_active(endpoint: WebhookEndpoint, action: str) -> WebhookEndpoint:
    locked = WebhookEndpoint.objects.select_for_update().get(id=endpoint.id)
    if locked.archived_at is not None:
        raise Conflict(f"An archived webhook cannot be {action}", field="id")
    return locked


@transaction.atomic
def endpoint_archive(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """Archive for good: nothing more is sent to it, not even retries. Idempotent."""
    locked = WebhookEndpoint.objects.select_for_update().get(id=endpoint.id)
    if locked.archived_at is None:
        locked.archived_at = timezone.now()
        locked.save(update_fields=["archived_at"])
        WebhookDelivery.objects.filter(endpoint=locked, status=Status.PENDING).update(
            status=Status.CANCELLED, next_attempt_at=None
        )
        audit_record(
            action="archive",
            resource_type="webhook",
            resource_id=locked.pk,
            changes={"archived_at": {"before": None, "after": locked.archived_at}},
        )
    return locked


@transaction.atomic
def endpoint_secret_rotate(*, endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new signing secret, used from the next attempt on (retries included); the old one
    stops signing at once."""
    locked = _locked_active(endpoint, "rotated")
    locked.secret = signing.secret_generate()
    locked.save(update_fields=["secret"])
    audit_record(
        action="rotate_secret",
        resource_type="webhook",
        resource_id=locked.pk,
        changes={"secret": "rotated"},  # never the secret itself
    )
    return locked


@transaction.atomic
def delivery_resend(*, endpoint: WebhookEndpoint, event_id: uuid.UUID) -> WebhookDelivery:
    """Send one event to one endpoint again, with a fresh retry schedule (same webhook-id, so a
    receiver that already has it can tell)."""
    locked = _locked_active(endpoint, "sent to")
    delivery = (
        WebhookDelivery.objects.select_for_update()
        .filter(endpoint=locked, event_id=event_id)
        .first()
    )
    if delivery is None:
        raise NotFound("This webhook has no delivery of that event", field="event_id")
    delivery.status, delivery.attempts = Status.PENDING, 0
    delivery.next_attempt_at, delivery.delivered_at = timezone.now(), None
    delivery.save(update_fields=["status", "attempts", "next_attempt_at", "delivered_at"])
    audit_record(
        action="resend",
        resource_type="webhook",
        resource_id=locked.pk,
        changes={"event_id": event_id},
    )
    return delivery


# --- dispatch (beat) --------------------------------------------------------------------------


@transaction.atomic
def events_fan_out(*, limit: int = DISPATCH_BATCH) -> int:
    """Make the deliveries of events not yet fanned out: one per active endpoint subscribed to
    the type that existed when the event happened. Returns how many events were handled."""
    events = list(
        WebhookEvent.objects.select_for_update(skip_locked=True)
        .filter(fanned_out_at__isnull=True)
        .order_by("created_at")[:limit]
    )
    if not events:
        return 0
    now = timezone.now()
    endpoints = list(WebhookEndpoint.objects.filter(archived_at__isnull=True))
    deliveries = [
        WebhookDelivery(event=event, endpoint=endpoint, next_attempt_at=now)
        for event in events
        for endpoint in endpoints
        if event.type in endpoint.event_types and endpoint.created_at <= event.created_at
    ]
    WebhookDelivery.objects.bulk_create(deliveries, ignore_conflicts=True)
    WebhookEvent.objects.filter(id__in=[event.id for event in events]).update(fanned_out_at=now)
    return len(events)


@transaction.atomic
def deliveries_claim_due(*, limit: int = DISPATCH_BATCH) -> list[int]:
    """Ids of due deliveries, each held for CLAIM_LEASE_SECONDS so the next dispatch does not
    queue it again; one that is not sent within the lease (a lost message) is due again."""
    now = timezone.now()
    ids = list(
        WebhookDelivery.objects.select_for_update(skip_locked=True)
        .filter(status=Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )
    if ids:
        WebhookDelivery.objects.filter(id__in=ids).update(
            next_attempt_at=now + dt.timedelta(seconds=CLAIM_LEASE_SECONDS)
        )
    return ids


# --- one attempt --------------------------------------------------------------------------------


def event_body(event: WebhookEvent) -> bytes:
    payload = {
        "type": event.type,
        "timestamp": format_instant(event.created_at),
        "data": event.data,
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
    """POST to the checked address (redirects are answers, never followed)."""
    scheme, host, port, path = targets.url_parts(url)
    address = targets.public_address(url)
    if scheme == "https":
        connection: http.client.HTTPConnection = http.client.HTTPSConnection(
            host, port, timeout=REQUEST_TIMEOUT_SECONDS, context=ssl.create_default_context()
        )
    else:
        connection = http.client.HTTPConnection(host, port, timeout=REQUEST_TIMEOUT_SECONDS)
    # Connect to the address that was checked, not to a second DNS answer; TLS still checks
    # the certificate against the hostname.
    connection._create_connection = lambda _address, *args, **kwargs: socket.create_connection(  # type: ignore[attr-defined]
        (address, port), *args, **kwargs
    )
    try:
        connection.request("POST", path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(RESPONSE_BODY_MAX_BYTES)
    finally:
        connection.close()


def _send(delivery: WebhookDelivery) -> tuple[int | None, str, str]:
    """(response status, error, response body) of one attempt."""
    event, endpoint = delivery.event, delivery.endpoint
    body = event_body(event)
    timestamp = int(time.time())
    message_id = str(event.id)
    headers = {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signing.signature(
            endpoint.secret, message_id=message_id, timestamp=timestamp, body=body
        ),
    }
    try:
        status, content = _post(endpoint.url, body, headers)
    except targets.TargetRefused as exc:
        return None, f"target refused: {exc}", ""
    except TimeoutError:
        return None, f"timed out after {REQUEST_TIMEOUT_SECONDS} s", ""
    except (OSError, http.client.HTTPException) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:1000], ""
    text = content.decode("utf-8", errors="replace")
    if 200 <= status < 300:
        return status, "", text
    if 300 <= status < 400:
        return status, "redirects are not followed", text
    return status, f"HTTP {status}", text


def delivery_attempt(*, delivery_id: int) -> str | None:
    """Send one due delivery and record the attempt; its new status, or None when there was
    nothing to send (already delivered, given up, or its endpoint archived)."""
    delivery = (
        WebhookDelivery.objects.select_related("event", "endpoint").filter(id=delivery_id).first()
    )
    if delivery is None or delivery.status != Status.PENDING:
        return None
    if delivery.endpoint.archived_at is not None:
        WebhookDelivery.objects.filter(id=delivery.id, status=Status.PENDING).update(
            status=Status.CANCELLED, next_attempt_at=None
        )
        return None
    attempted_at = timezone.now()
    started = time.monotonic()
    response_status, error, response_body = _send(delivery)
    duration_ms = round((time.monotonic() - started) * 1000)
    return _attempt_save(
        delivery,
        attempted_at=attempted_at,
        response_status=response_status,
        error=error,
        response_body=response_body,
        duration_ms=duration_ms,
    )


@transaction.atomic
def _attempt_save(
    delivery: WebhookDelivery,
    *,
    attempted_at: dt.datetime,
    response_status: int | None,
    error: str,
    response_body: str,
    duration_ms: int,
) -> str:
    WebhookDeliveryAttempt.objects.create(
        delivery=delivery,
        endpoint_id=delivery.endpoint_id,
        attempted_at=attempted_at,
        response_status=response_status,
        duration_ms=duration_ms,
        error=error,
        response_body=response_body,
    )
    locked = WebhookDelivery.objects.select_for_update().get(id=delivery.id)
    if locked.status != Status.PENDING:  # archived (or resent and delivered) meanwhile
        return locked.status
    now = timezone.now()
    locked.attempts += 1
    endpoints = WebhookEndpoint.objects.filter(id=delivery.endpoint_id)
    if not error:
        locked.status, locked.delivered_at, locked.next_attempt_at = Status.DELIVERED, now, None
        endpoints.filter(failing_since__isnull=False).update(failing_since=None)
    elif locked.attempts >= MAX_ATTEMPTS:
        locked.status, locked.next_attempt_at = Status.FAILED, None
        endpoints.filter(failing_since__isnull=True).update(failing_since=now)
    else:
        delay = RETRY_DELAYS[locked.attempts - 1]
        locked.next_attempt_at = now + dt.timedelta(seconds=delay)
    locked.save(update_fields=["status", "attempts", "delivered_at", "next_attempt_at"])
    return locked.status
