"""The Webhooks page's permissions and refusals (the browser flow: tests/browser/)."""

import pytest

from config.webhooks import services
from config.webhooks.models import WebhookEndpoint
from tests.factories import user_with_permissions

pytestmark = pytest.mark.django_db


def user(*codenames: str):
    return user_with_permissions(*(f"webhooks.{codename}" for codename in codenames))


def endpoint() -> WebhookEndpoint:
    return services.endpoint_create(
        url="https://hooks.example.com/a", event_types=["contract.created"]
    )


def test_the_pages_need_a_login_and_the_view_permission(client):
    hook = endpoint()
    assert client.get("/webhooks/").status_code == 302
    client.force_login(user())
    assert client.get("/webhooks/").status_code == 403
    assert client.get(f"/webhooks/{hook.pk}/").status_code == 403


def test_a_viewer_sees_webhooks_but_cannot_create_rotate_archive_or_resend(client):
    hook = endpoint()
    client.force_login(user("view_webhookendpoint"))
    listing = client.get("/webhooks/").content.decode()
    assert hook.url in listing and "New webhook" not in listing
    detail = client.get(f"/webhooks/{hook.pk}/").content.decode()
    assert "Rotate secret" not in detail and "Archive" not in detail
    assert hook.secret not in detail
    assert client.get("/webhooks/new/").status_code == 403
    for action in ("rotate", "archive", "resend"):
        assert client.post(f"/webhooks/{hook.pk}/{action}/").status_code == 403
    hook.refresh_from_db()
    assert hook.archived_at is None


def test_a_refused_create_names_the_field_and_writes_nothing(client, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    client.force_login(user("view_webhookendpoint", "add_webhookendpoint"))
    response = client.post(
        "/webhooks/new/", {"url": "http://127.0.0.1:9/hook", "events": ["contract.created"]}
    )
    assert response.status_code == 200
    assert response.context["form"].errors["url"]
    response = client.post("/webhooks/new/", {"url": "https://hooks.example.com/b"})
    assert response.context["form"].errors["events"] == ["Choose at least one event."]
    assert not WebhookEndpoint.objects.exists()


def test_resend_of_an_event_never_sent_there_is_refused_in_words(client):
    hook = endpoint()
    client.force_login(user("view_webhookendpoint", "change_webhookendpoint"))
    response = client.post(
        f"/webhooks/{hook.pk}/resend/", {"event_id": "00000000-0000-0000-0000-000000000001"}
    )
    assert response.status_code == 200
    assert "This webhook has no delivery of that event" in response.content.decode()


def test_an_archived_webhook_is_not_rotated(client):
    hook = services.endpoint_archive(endpoint=endpoint())
    secret = hook.secret
    client.force_login(user("view_webhookendpoint", "change_webhookendpoint"))
    response = client.post(f"/webhooks/{hook.pk}/rotate/")
    assert "An archived webhook cannot be rotated" in response.content.decode()
    hook.refresh_from_db()
    assert hook.secret == secret


def test_deliveries_page_by_25_newest_first_and_older_pages_come_as_a_fragment(client):
    import datetime as dt

    from config.webhooks.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookEvent

    hook = endpoint()
    event = WebhookEvent.objects.create(type="contract.created", data={"id": "c"})
    delivery = WebhookDelivery.objects.create(event=event, endpoint=hook, status="DELIVERED")
    start = dt.datetime(2027, 1, 15, tzinfo=dt.UTC)
    WebhookDeliveryAttempt.objects.bulk_create(
        WebhookDeliveryAttempt(
            delivery=delivery,
            endpoint=hook,
            attempted_at=start + dt.timedelta(minutes=i),
            response_status=200,
            duration_ms=i,
        )
        for i in range(30)
    )
    client.force_login(user("view_webhookendpoint"))
    first = client.get(f"/webhooks/{hook.pk}/")
    html = first.content.decode()
    assert html.count("<time datetime=") == 25
    assert "2027-01-15T00:29:00Z" in html and "2027-01-15T00:04:00Z" not in html
    older = first.context["next_cursor"]
    fragment = client.get(
        f"/webhooks/{hook.pk}/?after={older}", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="deliveries"
    ).content.decode()
    assert "<html" not in fragment and fragment.count("<time datetime=") == 5
    assert "2027-01-15T00:00:00Z" in fragment and "Older →" not in fragment
    # a forged cursor starts again from the newest, never a 500
    assert client.get(f"/webhooks/{hook.pk}/?after=forged").status_code == 200


def test_status_and_last_delivery_read_to_the_minute_as_every_page_does(client):
    """The "Failing since …" status, the list's last delivery and "Created" in the pages' one
    instant format (config.core.instants.format_day_or_minute), as the History's values."""
    import datetime as dt

    from config.webhooks.models import WebhookDelivery, WebhookDeliveryAttempt, WebhookEvent

    hook = endpoint()
    at = dt.datetime(2027, 1, 15, 10, 5, 9, tzinfo=dt.UTC)
    WebhookEndpoint.objects.filter(pk=hook.pk).update(failing_since=at, created_at=at)
    event = WebhookEvent.objects.create(type="contract.created", data={"id": "c"})
    delivery = WebhookDelivery.objects.create(event=event, endpoint=hook, status="FAILED")
    WebhookDeliveryAttempt.objects.create(
        delivery=delivery, endpoint=hook, attempted_at=at, response_status=500, duration_ms=3
    )
    client.force_login(user("view_webhookendpoint"))
    listing = client.get("/webhooks/").content.decode()
    assert "Failing since 2027-01-15T10:05Z" in listing
    assert "2027-01-15T10:05Z · HTTP 500" in listing
    detail = client.get(f"/webhooks/{hook.pk}/").content.decode()
    assert "Failing since 2027-01-15T10:05Z" in detail
    assert "<dt>Created</dt><dd>2027-01-15T10:05Z</dd>" in detail
    # the delivery log keeps its seconds: retries are seconds apart
    assert '<time datetime="2027-01-15T10:05:09Z">2027-01-15T10:05:09Z</time>' in detail
