"""Delivery end to end: a real Celery worker sends to a real HTTP receiver on 127.0.0.1.

Beat's part (tasks.webhooks_dispatch every 2 s) is played by the test, which queues the same
task on the worker's queue until what it waits for has happened.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator

import pytest
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from config.webhooks.models import WebhookEvent
from config.webhooks.tasks import webhooks_dispatch
from tests.conftest import celery_worker, forget_queue
from tests.contracts_app.contract_builders import make_customer, make_package

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CREATE = "/v1/webhooks/create"


def webhook_worker(env: dict[str, str], queue: str):
    return celery_worker(
        {**env, "CELERY_WEBHOOKS_QUEUE": queue, "WEBHOOKS_ALLOW_PRIVATE_TARGETS": "1"}, queue
    )


@pytest.fixture
def worker_queue(subprocess_env, settings) -> Iterator[str]:
    queue = f"test-hooks-{uuid.uuid4().hex[:8]}"
    settings.WEBHOOKS_QUEUE = queue
    with webhook_worker(subprocess_env, queue):
        yield queue
    forget_queue(queue)


def dispatch_until(
    done: Callable[[], bool], queue: str, *, timeout: float = 40, connection=None
) -> None:
    """What beat does, every half second, until `done()`."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            pytest.fail("timed out waiting for the webhook")
        webhooks_dispatch.apply_async(queue=queue, connection=connection)
        time.sleep(0.5)


def wait_for(done: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def create_contract(api) -> str:
    package = make_package(duration_unit="MONTHS", duration_value=1)
    customer = make_customer()
    status, body = api(
        "/v1/contracts/create",
        {
            "customer_id": str(customer.id),
            "starting_at": "2024-01-31T00:00:00Z",
            "package_id": str(package.id),
        },
    )
    assert status == 200, body
    return body["data"]["id"]


def attempts(api, webhook_id: str) -> list[dict]:
    status, body = api("/v1/webhooks/deliveries/list", {"webhook_id": webhook_id})
    assert status == 200, body
    return body["data"]


def test_a_receiver_that_answers_500_first_gets_the_event_again_and_both_attempts_are_listed(
    api, worker_queue, receiver_for
):
    # given: a webhook whose receiver fails once, then takes it
    receiver = receiver_for([500, 200])
    _, created = api(CREATE, {"url": receiver.url, "events": ["contract.created"]})
    webhook_id, secret = created["data"]["id"], created["data"]["secret"]

    # when: a contract is created
    contract_id = create_contract(api)
    dispatch_until(lambda: len(receiver.requests) >= 2, worker_queue)

    # then: the same signed message twice, the second after the first retry delay (5 s)
    first, second = receiver.requests
    for request in (first, second):
        payload = Webhook(secret).verify(request.body, request.headers)
        assert payload["type"] == "contract.created"
        assert payload["data"]["id"] == contract_id
        assert set(payload) == {"type", "timestamp", "data"}
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert second.at - first.at >= 4.5

    # and the deliveries list shows both attempts, newest first
    wait_for(lambda: len(attempts(api, webhook_id)) == 2)
    newest, oldest = attempts(api, webhook_id)
    assert (newest["response_status"], newest["error"]) == (200, None)
    assert (oldest["response_status"], oldest["error"]) == (500, "HTTP 500")
    assert len(oldest["response_body"]) == 1024  # the receiver sent 5,000 bytes
    for row in (newest, oldest):
        assert row["event_id"] == first.headers["webhook-id"]
        assert row["event_type"] == "contract.created"
        assert row["delivery_status"] == "DELIVERED"
        assert row["duration_ms"] >= 0
    assert newest["attempted_at"] > oldest["attempted_at"]
    [listed] = api("/v1/webhooks/list", {})[1]["data"]
    assert listed["status"] == "enabled"


def test_rotate_secret_changes_the_signing_key(api, worker_queue, receiver_for):
    receiver = receiver_for([200])
    _, created = api(CREATE, {"url": receiver.url, "events": ["package.archived"]})
    webhook_id, old_secret = created["data"]["id"], created["data"]["secret"]
    first_package, second_package = (
        make_package(name=name, duration_unit="MONTHS", duration_value=1) for name in "AB"
    )

    assert api("/v1/packages/archive", {"package_id": str(first_package.id)})[0] == 200
    dispatch_until(lambda: len(receiver.requests) == 1, worker_queue)
    _, rotated = api("/v1/webhooks/rotateSecret", {"webhook_id": webhook_id})
    new_secret = rotated["data"]["secret"]
    assert api("/v1/packages/archive", {"package_id": str(second_package.id)})[0] == 200
    dispatch_until(lambda: len(receiver.requests) == 2, worker_queue)

    before, after = receiver.requests
    assert Webhook(old_secret).verify(before.body, before.headers)["data"] == {
        "id": str(first_package.id)
    }
    assert Webhook(new_secret).verify(after.body, after.headers)["data"] == {
        "id": str(second_package.id)
    }
    with pytest.raises(WebhookVerificationError):
        Webhook(old_secret).verify(after.body, after.headers)


def test_archive_stops_delivery_retries_included(api, worker_queue, receiver_for):
    # given: a receiver that always fails, so a retry is due 5 s after the first attempt
    receiver = receiver_for([500])
    _, created = api(CREATE, {"url": receiver.url, "events": ["contract.created"]})
    webhook_id = created["data"]["id"]
    create_contract(api)
    dispatch_until(lambda: len(receiver.requests) == 1, worker_queue)
    wait_for(lambda: len(attempts(api, webhook_id)) == 1)

    # when: the webhook is archived, and another event happens
    assert api("/v1/webhooks/archive", {"webhook_id": webhook_id})[0] == 200
    create_contract(api)
    deadline = time.monotonic() + 8  # past the first retry's due time
    dispatch_until(lambda: time.monotonic() > deadline, worker_queue, timeout=20)

    # then: nothing more was sent
    assert len(receiver.requests) == 1
    [row] = attempts(api, webhook_id)
    assert row["delivery_status"] == "CANCELLED"


def test_events_written_while_the_broker_is_unreachable_are_delivered_after_it_returns(
    api, subprocess_env, settings, pausable_redis, receiver_for
):
    from config.celery import app

    queue = f"test-hooks-{uuid.uuid4().hex[:8]}"
    settings.WEBHOOKS_QUEUE = queue
    receiver = receiver_for([200])
    _, created = api(CREATE, {"url": receiver.url, "events": ["contract.created"]})
    secret = created["data"]["secret"]
    with webhook_worker({**subprocess_env, "REDIS_URL": pausable_redis.url}, queue):
        # given: the broker stops answering
        pausable_redis.pause()

        # when: contracts are created meanwhile
        started = time.monotonic()
        contract_ids = {create_contract(api) for _ in range(3)}
        elapsed = time.monotonic() - started

        # then: the writes did not wait for the broker, and their events wait in the outbox
        assert elapsed < 3, elapsed
        assert WebhookEvent.objects.filter(fanned_out_at__isnull=True).count() == 3

        # when: the broker is back (and beat with it)
        pausable_redis.resume()
        with app.connection_for_write(pausable_redis.url) as connection:
            dispatch_until(
                lambda: len(receiver.requests) >= 3, queue, connection=connection, timeout=60
            )

    # then: every event arrived, signed
    delivered = {Webhook(secret).verify(r.body, r.headers)["data"]["id"] for r in receiver.requests}
    assert delivered == contract_ids
