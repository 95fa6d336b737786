"""Tailing the audit feed loses nothing (issue 17 defect 6).

Six writer threads, each on its own database connection, create customers through the service
and commit a little after the entry's timestamp was taken (as a slow request would), while a
reader tails `GET /v1/auditLogs?sort=date_asc` the documented way: follow `next_page`, and
after the last page come back with `after=<id of the last entry>`. Every committed entry is
received exactly once.
"""

from __future__ import annotations

import random
import threading
import time

import pytest
from django.db import connection, transaction

from config.audit.models import AuditLogEntry
from contracts_app.services.customers import customer_create
from tests.factories import user_with_token

WRITERS = 6
WRITE_SECONDS = 8


def _writer(index: int, stop: threading.Event, errors: list) -> None:
    rng = random.Random(index)
    try:
        count = 0
        while not stop.is_set():
            with transaction.atomic():
                customer_create(name=f"writer {index} #{count}")
                # the entry's timestamp is taken; the commit comes later
                time.sleep(rng.uniform(0, 0.03))
            count += 1
    except Exception as exc:  # reported by the test, not lost in a thread
        errors.append(exc)
    finally:
        connection.close()


def _tail(client, token: str, after: str | None) -> list[dict]:
    """One catch-up: every page from `after` (or the start) to the current end."""
    entries: list[dict] = []
    query = {"sort": "date_asc", "limit": "37"}
    if after:
        query["after"] = after
    while True:
        response = client.get("/v1/auditLogs", query, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 200, response.content
        body = response.json()
        entries.extend(body["data"])
        if not body["next_page"]:
            return entries
        query = {"sort": "date_asc", "limit": "37", "next_page": body["next_page"]}


@pytest.mark.django_db(transaction=True)
def test_a_tailing_reader_gets_every_entry_exactly_once_under_concurrent_writers(client):
    _, token = user_with_token("audit.view_auditlogentry")
    stop, errors = threading.Event(), []
    writers = [
        threading.Thread(target=_writer, args=(index, stop, errors)) for index in range(WRITERS)
    ]
    for thread in writers:
        thread.start()
    received: list[str] = []
    deadline = time.monotonic() + WRITE_SECONDS
    try:
        while time.monotonic() < deadline:
            received += [e["id"] for e in _tail(client, token, received[-1] if received else None)]
            time.sleep(0.01)
    finally:
        stop.set()
        for thread in writers:
            thread.join()
    # the writers are done: one more catch-up reaches the end
    received += [e["id"] for e in _tail(client, token, received[-1] if received else None)]

    assert not errors, errors
    committed = set(AuditLogEntry.objects.values_list("id", flat=True))
    assert len(committed) > 200  # the writers really wrote
    lost = committed - set(map(_uuid, received))
    duplicated = len(received) - len(set(received))
    assert (len(lost), duplicated) == (0, 0), f"{len(lost)} lost, {duplicated} twice"


@pytest.mark.django_db
def test_after_must_name_an_entry_and_goes_with_date_asc(client):
    _, token = user_with_token("audit.view_auditlogentry")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    missing = client.get("/v1/auditLogs", {"after": "6d3f0f0e-8a47-4d3b-9d0a-2b6a3c1e9f10"}, **auth)
    assert missing.status_code == 400 and missing.json()["field"] == "after"
    desc = client.get(
        "/v1/auditLogs",
        {"sort": "date_desc", "after": "6d3f0f0e-8a47-4d3b-9d0a-2b6a3c1e9f10"},
        **auth,
    )
    assert desc.status_code == 400 and desc.json()["field"] == "after"


def _uuid(text: str):
    import uuid

    return uuid.UUID(text)
