"""In the browser: the Webhooks page. A pricing engineer adds an endpoint (events as checkboxes),
sees its signing secret once, reads each delivery attempt (ISO 8601 UTC, status, duration,
error), resends one, rotates the secret (shown once again) and archives the endpoint.

Screenshots go to $SCREENSHOT_DIR, else shots/webhooks/ (git-ignored).
"""

import re

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks import Webhook

from config.webhooks import services
from config.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.builders.browser import WIDE, Screenshots, assert_fits, login, screenshot_dir
from tests.webhooks.receiver import start_receiver

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
shot = Screenshots(screenshot_dir("shots/webhooks"))
ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@pytest.fixture
def receiver():
    receiver, server = start_receiver([500, 200])
    yield receiver
    server.shutdown()
    server.server_close()


def deliver_everything_due() -> None:
    """What beat and the worker do, in the test's thread: fan out, then one attempt each."""
    services.events_fan_out()
    for delivery_id in services.deliveries_claim_due():
        services.delivery_attempt(delivery_id=delivery_id)


def test_create_see_the_secret_once_read_deliveries_resend_rotate_and_archive(
    live_server, page, receiver
):
    base = live_server.url
    login(page, base, width=WIDE)

    # the nav leads to the page; with nothing yet it says what webhooks are for
    page.click("nav.mainnav >> text=Webhooks")
    page.wait_for_url(f"{base}/webhooks/")
    assert "No webhooks yet" in page.inner_text("#object-table")

    # create: URL, events as checkboxes, description
    page.click("text=New webhook")
    page.fill("#id_url", receiver.url)
    page.check("input[name=events][value='contract.created']")
    page.check("input[name=events][value='package.archived']")
    page.fill("#id_description", "billing sync")
    shot(page, "1-new-webhook")
    page.click("button:has-text('Create webhook')")
    page.locator("#webhook-secret").wait_for()
    secret = page.inner_text("#webhook-secret")
    endpoint = WebhookEndpoint.objects.get()
    assert secret == endpoint.secret and secret.startswith("whsec_")
    assert endpoint.event_types == ["contract.created", "package.archived"]
    assert endpoint.description == "billing sync"
    shot(page, "2-created-secret-shown-once")

    # the secret is shown once: a reload no longer shows it
    page.reload()
    assert page.locator("#webhook-secret").count() == 0
    assert secret not in page.content()

    # two events: the first delivery fails once (500) then succeeds; both attempts are listed
    with transaction.atomic():
        services.events_record("contract.created", {"id": "c-1"})
    deliver_everything_due()
    WebhookDelivery.objects.filter(status="PENDING").update(next_attempt_at=timezone.now())
    deliver_everything_due()
    event_id = str(WebhookDelivery.objects.get().event_id)
    assert [r.headers["webhook-id"] for r in receiver.requests] == [event_id, event_id]
    Webhook(secret).verify(receiver.requests[-1].body, receiver.requests[-1].headers)
    page.reload()
    rows = page.locator("#deliveries tbody tr")
    assert rows.count() == 2
    newest, oldest = rows.nth(0).inner_text(), rows.nth(1).inner_text()
    assert "contract.created" in newest and "200" in newest and "accepted" in newest
    assert "500" in oldest and "HTTP 500" in oldest and "failed" in oldest
    for i in range(2):
        assert ISO_UTC.match(rows.nth(i).locator("time").inner_text())
        assert re.search(r"\d+ ms", rows.nth(i).inner_text())
    shot(page, "3-deliveries")
    page.set_viewport_size({"width": 800, "height": 900})
    shot(page, "3b-deliveries-800")
    assert_fits(page, 800)
    page.set_viewport_size({"width": 1400, "height": 900})

    # resend one delivery: it is queued again and sent on the next dispatch
    rows.nth(0).locator("button:has-text('Resend')").click()
    page.locator(".messages").wait_for()
    assert "queued to be sent again" in page.inner_text(".messages")
    assert WebhookDelivery.objects.get().status == "PENDING"
    deliver_everything_due()
    page.reload()
    assert page.locator("#deliveries tbody tr").count() == 3

    # rotate: a new secret, shown once
    page.click("button:has-text('Rotate secret')")
    page.locator("#webhook-secret").wait_for()
    rotated = page.inner_text("#webhook-secret")
    assert rotated != secret and rotated == WebhookEndpoint.objects.get().secret
    shot(page, "4-rotated")

    # the list: URL, events, status, last delivery
    page.goto(f"{base}/webhooks/")
    row = page.locator("#object-table tbody tr").first
    text = row.inner_text()
    assert receiver.url in text and "contract.created" in text and "package.archived" in text
    assert "Enabled" in text and "HTTP 200" in text
    shot(page, "5-list")
    page.set_viewport_size({"width": 800, "height": 900})
    shot(page, "5b-list-800")
    assert_fits(page, 800)
    page.set_viewport_size({"width": 1400, "height": 900})

    # a failing endpoint says so in the list
    WebhookEndpoint.objects.update(failing_since=endpoint.created_at)
    page.reload()
    assert "Failing since" in page.inner_text("#object-table")

    # archive: nothing more is sent; the buttons are gone
    row.locator("a").first.click()
    page.on("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Archive')")
    page.locator(".messages").wait_for()
    assert "Archived" in page.inner_text(".facts")
    assert page.locator("button:has-text('Rotate secret')").count() == 0
    assert page.locator("button:has-text('Resend')").count() == 0
    assert WebhookEndpoint.objects.get().archived_at is not None
    shot(page, "6-archived")
