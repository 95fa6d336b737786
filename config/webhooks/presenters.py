"""The Webhooks page in words: an endpoint's status and its delivery attempts as the page shows
them (ISO 8601 UTC times, statuses in words), never the API's field names."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from config.core.instants import format_day_or_minute, format_instant_to_second
from config.webhooks.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint
from config.webhooks.selectors import endpoint_status

Status = WebhookDelivery.Status

# What became of a failed attempt's event, when it is not (yet) delivered.
AFTER_FAILURE = {
    Status.PENDING: "failed · will retry",
    Status.FAILED: "failed · retries used up",
    Status.CANCELLED: "failed · webhook archived",
}


def status_words(endpoint: WebhookEndpoint) -> tuple[str, str]:
    """(css class, words): "Enabled", "Failing since …", "Archived …", to the minute as the
    other pages say an instant."""
    status = endpoint_status(endpoint)
    if status == "archived":
        return status, f"Archived {format_day_or_minute(endpoint.archived_at)}"
    if status == "failing":
        return status, f"Failing since {format_day_or_minute(endpoint.failing_since)}"
    return status, "Enabled"


def last_delivery_words(endpoint: WebhookEndpoint) -> str:
    """The last attempt of a listed endpoint (annotated by `endpoints_with_last_attempt`)."""
    when = getattr(endpoint, "last_attempted_at", None)
    if when is None:
        return "Nothing sent yet"
    outcome = getattr(endpoint, "last_error", "") or f"HTTP {endpoint.last_status}"
    return f"{format_day_or_minute(when)} · {outcome}"


@dataclass(frozen=True)
class AttemptRow:
    event_id: str
    event_type: str
    attempted_at: str
    response: str
    outcome: str
    ok: bool
    duration: str
    error: str


def endpoint_row(endpoint: WebhookEndpoint) -> dict:
    """The webhook list's row: the endpoint, its page, its status and its last delivery."""
    return {
        "endpoint": endpoint,
        "url": reverse("webhooks:webhook-detail", args=[endpoint.pk]),
        "status": status_words(endpoint),
        "last": last_delivery_words(endpoint),
    }


def attempt_row(attempt: WebhookDeliveryAttempt) -> AttemptRow:
    """A line of the delivery log: its time to the second (retries are seconds apart)."""
    delivery = attempt.delivery
    ok = not attempt.error
    return AttemptRow(
        event_id=str(delivery.event_id),
        event_type=delivery.event.type,
        attempted_at=format_instant_to_second(attempt.attempted_at),
        response=str(attempt.response_status) if attempt.response_status else "no answer",
        outcome="accepted" if ok else AFTER_FAILURE.get(delivery.status, "failed"),
        ok=ok,
        duration=f"{attempt.duration_ms} ms",
        error=attempt.error,
    )
