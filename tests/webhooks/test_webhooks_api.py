"""The /v1/webhooks/* API, the outbox rows the services write, and the target rules."""

from __future__ import annotations

import base64
import datetime as dt
import os
import time

import pytest
from django.db import transaction
from django.utils import timezone

from config.webhooks import services
from config.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from packages_app.models import AliasName
from packages_app.services.alias_announcements import alias_repointings_announce
from packages_app.services.aliases import alias_assign
from tests.conftest import run_python
from tests.contracts_app.contract_builders import make_customer, make_package
from tests.factories import api_post, user_with_token

pytestmark = pytest.mark.django_db

CREATE = "/v1/webhooks/create"


def _create(api, url="https://93.184.216.34/hooks", events=("contract.created",), **more):
    return api(CREATE, {"url": url, "events": list(events), **more})


def test_create_answers_the_id_and_a_whsec_secret_that_list_never_shows(api):
    status, body = _create(api, description="billing sync")
    assert status == 200, body
    secret = body["data"]["secret"]
    assert secret.startswith("whsec_")
    assert 24 <= len(base64.b64decode(secret.removeprefix("whsec_"))) <= 32

    status, listed = api("/v1/webhooks/list", {})
    assert status == 200, listed
    [row] = listed["data"]
    assert row["id"] == body["data"]["id"]
    assert row["events"] == ["contract.created"]
    assert row["status"] == "enabled"
    assert row["description"] == "billing sync"
    assert "secret" not in row


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "https://93.184.216.34/h", "events": ["contract.exploded"]}, "events[0]"),
        ({"url": "https://93.184.216.34/h", "events": []}, "events"),
        ({"url": "ftp://93.184.216.34/h", "events": ["package.created"]}, "url"),
        ({"events": ["package.created"]}, "url"),
        ({"url": "https://93.184.216.34/h", "events": "package.created"}, "events"),
        (
            {"url": "https://93.184.216.34/h", "events": ["package.created"], "secret": "x"},
            "secret",
        ),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(api, body, field):
    status, answer = api(CREATE, body)
    assert status == 400, answer
    assert answer["field"] == field, answer
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hooks",
        "http://localhost/hooks",
        "http://10.1.2.3/hooks",
        "http://192.168.0.10/hooks",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hooks",
        "http://[::ffff:127.0.0.1]/hooks",
        "http://0.0.0.0/hooks",
    ],
)
def test_a_private_target_is_refused_when_private_targets_are_not_allowed(api, settings, url):
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    status, answer = _create(api, url=url)
    assert status == 400, answer
    assert answer["field"] == "url"
    assert "private" in answer["message"]
    assert not WebhookEndpoint.objects.exists()


def test_production_settings_refuse_private_targets_by_default():
    env = {k: v for k, v in os.environ.items() if k != "WEBHOOKS_ALLOW_PRIVATE_TARGETS"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.base"
    script = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from config.core.errors import ValidationFailed\n"
        "from config.webhooks.targets import url_check\n"
        "try:\n"
        "    url_check('http://127.0.0.1:9000/hooks')\n"
        "    print(settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS, 'accepted')\n"
        "except ValidationFailed as exc:\n"
        "    print(settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS, exc.field)\n"
    )
    result = run_python(script, env, timeout=60)
    assert result.stdout.split() == ["False", "url"], result.stderr[-2000:]


def test_a_target_that_became_private_is_refused_at_send_time(api, settings, receiver_for):
    receiver = receiver_for()
    status, body = _create(api, url=receiver.url)  # allowed here (test settings)
    assert status == 200
    with transaction.atomic():
        services.events_record("contract.created", {"id": "c1"})
    services.events_fan_out()
    [delivery_id] = services.deliveries_claim_due()

    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = False
    assert services.delivery_attempt(delivery_id=delivery_id) == WebhookDelivery.Status.PENDING

    assert receiver.requests == []
    status, attempts = api("/v1/webhooks/deliveries/list", {"webhook_id": body["data"]["id"]})
    [attempt] = attempts["data"]
    assert attempt["response_status"] is None
    assert attempt["error"].startswith("target refused")


def test_rotate_gives_a_new_secret_and_an_archived_webhook_is_not_rotated(api):
    _, created = _create(api)
    webhook_id = created["data"]["id"]

    status, rotated = api("/v1/webhooks/rotateSecret", {"webhook_id": webhook_id})
    assert status == 200, rotated
    assert rotated["data"]["id"] == webhook_id
    assert rotated["data"]["secret"].startswith("whsec_")
    assert rotated["data"]["secret"] != created["data"]["secret"]

    status, archived = api("/v1/webhooks/archive", {"webhook_id": webhook_id})
    assert status == 200, archived
    assert archived["data"]["status"] == "archived"
    again_status, again = api("/v1/webhooks/archive", {"webhook_id": webhook_id})
    assert again_status == 200 and again["data"]["archived_at"] == archived["data"]["archived_at"]

    status, refused = api("/v1/webhooks/rotateSecret", {"webhook_id": webhook_id})
    assert status == 409, refused
    assert api("/v1/webhooks/list", {})[1]["data"] == []
    assert [
        w["id"] for w in api("/v1/webhooks/list", {"archive_filter": "ARCHIVED"})[1]["data"]
    ] == [webhook_id]


def test_unknown_ids_are_404s_naming_the_field(api):
    _, created = _create(api)
    status, answer = api(
        "/v1/webhooks/deliveries/resend",
        {"webhook_id": created["data"]["id"], "event_id": "00000000-0000-0000-0000-000000000001"},
    )
    assert (status, answer["field"]) == (404, "event_id")
    status, answer = api(
        "/v1/webhooks/deliveries/list", {"webhook_id": "00000000-0000-0000-0000-000000000002"}
    )
    assert (status, answer["field"]) == (404, "webhook_id")


def test_a_user_without_the_permission_is_refused(client):
    _, token = user_with_token("webhooks.view_webhookendpoint")
    response = api_post(
        client, token, CREATE, {"url": "https://93.184.216.34/h", "events": ["package.created"]}
    )
    assert response.status_code == 403
    listed = api_post(client, token, "/v1/webhooks/list", {})
    assert listed.status_code == 200


# --- the outbox -------------------------------------------------------------------------------


def test_contract_create_and_archive_write_their_events_and_a_refused_create_writes_none(api):
    package = make_package(duration_unit="MONTHS", duration_value=1)
    customer = make_customer()
    body = {
        "customer_id": str(customer.id),
        "starting_at": "2024-01-31T00:00:00Z",
        "package_id": str(package.id),
        "uniqueness_key": "once",
    }
    status, created = api("/v1/contracts/create", body)
    assert status == 200, created
    contract_id = created["data"]["id"]
    status, refused = api("/v1/contracts/create", body)  # the same uniqueness_key: 409
    assert status == 409, refused
    status, _ = api(
        "/v1/contracts/archive",
        {"customer_id": str(customer.id), "contract_id": contract_id, "void_invoices": False},
    )
    assert status == 200

    events = list(WebhookEvent.objects.order_by("created_at").values_list("type", "data"))
    assert events == [
        ("contract.created", {"id": contract_id, "customer_id": str(customer.id)}),
        ("contract.archived", {"id": contract_id, "customer_id": str(customer.id)}),
    ]


def test_package_archive_writes_one_event_however_often_it_is_archived(api):
    package = make_package(duration_unit="MONTHS", duration_value=1)
    for _ in range(2):
        assert api("/v1/packages/archive", {"package_id": str(package.id)})[0] == 200
    assert list(WebhookEvent.objects.values_list("type", "data")) == [
        ("package.archived", {"id": str(package.id)})
    ]


def test_alias_repointed_is_announced_once_when_the_scheduled_assignment_takes_effect():
    old, new = (make_package(name=n, duration_unit="MONTHS", duration_value=1) for n in "AB")

    start = timezone.now() - dt.timedelta(days=1)
    with transaction.atomic():
        alias_assign(
            kind=AliasName.Kind.PACKAGE, name="Starter Plan", package=old, starting_at=start
        )
    alias_repointings_announce()  # the first target taking effect is announced too
    WebhookEvent.objects.all().delete()

    # given: "Starter Plan" rescheduled to point at B from an instant just passed
    switch = timezone.now() + dt.timedelta(milliseconds=50)
    with transaction.atomic():
        alias_assign(
            kind=AliasName.Kind.PACKAGE, name="Starter Plan", package=new, starting_at=switch
        )
    time.sleep(0.1)
    # when: the beat runs twice
    first, second = alias_repointings_announce(), alias_repointings_announce()

    # then: one event, naming both targets
    [event] = WebhookEvent.objects.filter(type="alias.repointed")
    assert event.data["alias"] == "Starter Plan"
    assert event.data["target_id"] == str(new.id)
    assert event.data["previous_target_id"] == str(old.id)
    assert (first, second) == (1, 0)


def test_the_lists_cost_the_same_queries_whatever_their_length(api, django_assert_num_queries):
    _, created = _create(api)
    endpoint = WebhookEndpoint.objects.get(id=created["data"]["id"])
    for index in range(3):
        _create(api, description=f"more {index}")
    with transaction.atomic():
        for index in range(12):
            services.events_record("contract.created", {"id": f"c{index}"})
    services.events_fan_out()
    for delivery in WebhookDelivery.objects.filter(endpoint=endpoint):
        for attempt in range(2):
            delivery.attempt_rows.create(
                endpoint=endpoint,
                attempted_at=timezone.now() + dt.timedelta(seconds=attempt),
                response_status=500,
                duration_ms=3,
            )
    # the token (with its user), the webhook, one page of attempts with their events
    with django_assert_num_queries(3):
        status, body = api(
            "/v1/webhooks/deliveries/list", {"webhook_id": str(endpoint.id)}, "?limit=20"
        )
    assert status == 200 and len(body["data"]) == 20 and body["next_page"]
    # the token (with its user), one page of webhooks
    with django_assert_num_queries(2):
        status, body = api("/v1/webhooks/list", {})
    assert status == 200 and len(body["data"]) == 4


def test_a_cohort_migration_announces_its_start_its_completion_and_its_revert():
    from contracts_app.services.cohort_migrations import cohort_migration_revert
    from tests.builders.migrations import create_migration
    from tests.contracts_app.cohort_builders import cohort, run_to_end, two_packages

    source, target = two_packages()
    cohort(source, 3)
    migration = run_to_end(create_migration(source, target))
    cohort_migration_revert(migration=migration)
    run_to_end(migration, revert=True)

    events = WebhookEvent.objects.filter(type__startswith="cohort_migration.")
    assert list(events.order_by("created_at").values_list("type", "data")) == [
        ("cohort_migration.started", {"id": str(migration.id), "status": "RUNNING"}),
        ("cohort_migration.completed", {"id": str(migration.id), "status": "COMPLETED"}),
        ("cohort_migration.reverted", {"id": str(migration.id), "status": "REVERTED"}),
    ]


def test_a_cohort_migration_announces_a_cancel_with_how_many_contracts_stay():
    from contracts_app.services.cohort_migration_batches import migration_batch_run
    from contracts_app.services.cohort_migrations import cohort_migration_cancel
    from tests.builders.migrations import create_migration
    from tests.contracts_app.cohort_builders import cohort, two_packages

    source, target = two_packages()
    cohort(source, 3)
    migration = create_migration(source, target)
    assert migration_batch_run(migration_id=migration.id, batch_size=1) == 1
    cohort_migration_cancel(migration=migration)

    cancelled = WebhookEvent.objects.get(type="cohort_migration.cancelled")
    assert cancelled.data == {"id": str(migration.id), "status": "CANCELLED", "cancelled": 2}


def test_a_delivery_that_uses_up_its_retries_marks_the_webhook_failing_until_one_succeeds(
    api, receiver_for
):
    # given: two events for a receiver that fails once, then takes everything
    receiver = receiver_for([500, 200])
    _create(api, url=receiver.url, events=["package.created"])
    with transaction.atomic():
        for name in ("a", "b"):
            services.events_record("package.created", {"id": name})
    services.events_fan_out()
    first, second = WebhookDelivery.objects.order_by("id")
    WebhookDelivery.objects.filter(id=first.id).update(attempts=services.MAX_ATTEMPTS - 1)

    # when: the first one's last attempt fails
    assert services.delivery_attempt(delivery_id=first.id) == "FAILED"
    # then: the webhook is failing
    [listed] = api("/v1/webhooks/list", {})[1]["data"]
    assert listed["status"] == "failing" and listed["failing_since"]

    # when: a delivery succeeds again, the webhook is enabled again
    assert services.delivery_attempt(delivery_id=second.id) == "DELIVERED"
    [listed] = api("/v1/webhooks/list", {})[1]["data"]
    assert (listed["status"], listed["failing_since"]) == ("enabled", None)
    # and a delivered one is not sent twice (a redelivered task message sends nothing)
    assert services.delivery_attempt(delivery_id=second.id) is None
    assert len(receiver.requests) == 2


def test_a_failed_attempt_is_due_again_after_the_first_retry_delay(api, receiver_for):
    receiver = receiver_for([503])
    _create(api, url=receiver.url, events=["package.created"])
    with transaction.atomic():
        services.events_record("package.created", {"id": "a"})
    services.events_fan_out()
    [delivery_id] = services.deliveries_claim_due()
    assert services.deliveries_claim_due() == []  # held while its task runs

    before = timezone.now()
    assert services.delivery_attempt(delivery_id=delivery_id) == "PENDING"
    delivery = WebhookDelivery.objects.get(id=delivery_id)
    assert delivery.attempts == 1
    delay = (delivery.next_attempt_at - before).total_seconds()
    assert services.RETRY_DELAYS[0] <= delay < services.RETRY_DELAYS[0] + 2
