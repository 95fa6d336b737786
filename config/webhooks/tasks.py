"""Celery tasks of the webhooks: thin; each reads its rows back and calls a service, so a
redelivered message sends nothing twice that was already delivered."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from config.webhooks import services


def _enqueue(task, *args) -> None:
    # The queue is read at call time, so a test can give its worker a queue of its own.
    task.apply_async(args=list(args), queue=settings.WEBHOOKS_QUEUE)


@shared_task(name="config.webhooks.tasks.webhooks_dispatch", acks_late=True)
def webhooks_dispatch(**_ignored) -> dict:
    """Beat, every few seconds: make the deliveries of new events and queue the due ones
    (first sends and retries alike)."""
    fanned_out = 0
    while True:
        handled = services.events_fan_out()
        fanned_out += handled
        if handled < services.DISPATCH_BATCH:
            break
    queued = services.deliveries_claim_due()
    for delivery_id in queued:
        _enqueue(webhook_deliver, delivery_id)
    return {"events": fanned_out, "queued": len(queued)}


@shared_task(name="config.webhooks.tasks.webhook_deliver", acks_late=True)
def webhook_deliver(delivery_id: int) -> str | None:
    return services.delivery_attempt(delivery_id=int(delivery_id))
