"""The whole retry schedule against a real receiver that always answers 500: each attempt is
due again after 5 s, 30 s, … 6 h (10 attempts in all), then the delivery gives up, the webhook
is failing, and the Webhooks page says so."""

import pytest
from django.db import transaction
from django.utils import timezone

from config.webhooks import services
from config.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

EXPECTED_DELAYS = [5, 30, 120, 600, 1800, 3600, 7200, 14400, 21600]  # 5 s … 6 h


def test_ten_attempts_on_the_documented_delays_then_the_webhook_is_failing(client, receiver_for):
    receiver = receiver_for([500])
    endpoint = services.endpoint_create(url=receiver.url, event_types=["package.created"])
    with transaction.atomic():
        services.events_record("package.created", {"id": "p-1"})
    services.events_fan_out()

    delays = []
    for _ in range(10):
        [delivery_id] = services.deliveries_claim_due()
        before = timezone.now()
        status = services.delivery_attempt(delivery_id=delivery_id)
        delivery = WebhookDelivery.objects.get(id=delivery_id)
        if status == "PENDING":
            delays.append(round((delivery.next_attempt_at - before).total_seconds()))
            assert services.deliveries_claim_due() == []  # not due before its delay
            WebhookDelivery.objects.filter(id=delivery_id).update(next_attempt_at=timezone.now())

    assert status == "FAILED" and delivery.attempts == 10 and len(receiver.requests) == 10
    assert delays == EXPECTED_DELAYS
    assert services.deliveries_claim_due() == []  # given up: never sent again
    endpoint = WebhookEndpoint.objects.get(id=endpoint.id)
    assert endpoint.failing_since is not None

    client.force_login(UserFactory(is_superuser=True))
    listing = client.get("/webhooks/").content.decode()
    assert "Failing since" in listing
    detail = client.get(f"/webhooks/{endpoint.id}/").content.decode()
    assert detail.count("failed · retries used up") == 10
