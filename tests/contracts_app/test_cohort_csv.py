"""/packages/<id>/cohort.csv: the page's filters, every row listContractsOnPackage lists (with the
customer's name and external id), streamed from a server-side cursor so memory stays flat."""

from __future__ import annotations

import csv
import datetime as dt
import io
import tracemalloc
import uuid

import pytest
from django.db import connection
from django.http import StreamingHttpResponse

from contracts_app.models import Contract, Customer
from tests.contracts_app.cohort_page_builders import api_cohort, random_cohort
from tests.contracts_app.contract_builders import make_package
from tests.factories import UserFactory, user_with_token

pytestmark = pytest.mark.django_db


def read_csv(response) -> list[dict]:
    assert isinstance(response, StreamingHttpResponse)
    text = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize(
    "query, body",
    [
        ("?at=2026-05-01", {"covering_date": "2026-05-01T00:00:00Z"}),
        ("?at=2026-05-01&archived=1", {"covering_date": "2026-05-01T00:00:00Z"}),
        ("?starting_at=2026-07-01&archived=1", {"starting_at": "2026-07-01T00:00:00Z"}),
    ],
)
def test_the_csv_has_the_rows_the_api_lists_with_customer_names(
    pricing_client, client, query, body
):
    # given
    package = make_package(name="Starter Plan v1")
    contracts = random_cohort(package, 160, seed=21)
    for contract in contracts[:40]:  # instants with milliseconds, written as the API writes them
        contract.starting_at += dt.timedelta(microseconds=123_456)
        if contract.ending_before:
            contract.ending_before += dt.timedelta(milliseconds=5)
    Contract.objects.bulk_update(contracts[:40], ["starting_at", "ending_before"])
    _, token = user_with_token(superuser=True)
    # when
    response = pricing_client.get(f"/packages/{package.id}/cohort.csv{query}")
    rows = read_csv(response)
    # then
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"].startswith("attachment;")
    expected = api_cohort(client, token, package, **body, include_archived="archived=1" in query)
    assert [
        {
            key: row[key] or None
            for key in ("contract_id", "customer_id", "starting_at", "ending_before", "archived_at")
        }
        for row in rows
    ] == expected
    customers = Customer.objects.in_bulk([row["customer_id"] for row in rows])
    for row in rows:
        customer = customers[uuid.UUID(row["customer_id"])]
        assert (row["customer_name"], row["customer_external_id"]) == (
            customer.name,
            customer.external_id,
        )
        assert row["package_id"] == str(package.id)


def test_the_csv_without_filters_is_the_cohort_running_now(pricing_client, client):
    package = make_package(name="Now")
    random_cohort(package, 40, seed=22)
    Contract.objects.filter(package=package).update(
        starting_at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    )
    rows = read_csv(pricing_client.get(f"/packages/{package.id}/cohort.csv"))
    assert (
        len(rows)
        == Contract.objects.filter(package=package)
        .covering(dt.datetime.now(dt.UTC))
        .not_archived()
        .count()
        > 0
    )


def _load(package, first: int, last: int) -> None:
    """Contracts first..last (one customer each) in two INSERT ... SELECT statements."""
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO contracts_app_customer (id, name, external_id, ingest_aliases, "
            "custom_fields, details, created_at, updated_at) "
            "SELECT md5('c' || n)::uuid, 'Customer ' || n, 'ext-' || n, '[]', '{}', '{}', "
            "now(), now() FROM generate_series(%s, %s) AS n",
            [first, last],
        )
        cursor.execute(
            "INSERT INTO contracts_app_contract (id, customer_id, package_id, name, starting_at, "
            "multiplier_override_prioritization, scheduled_charges_on_usage_invoices, settings, "
            "created_at, created_by) "
            "SELECT gen_random_uuid(), md5('c' || n)::uuid, %s, '', "
            "'2026-01-01'::timestamptz + n * interval '1 second', '', '', '{}', now(), '' "
            "FROM generate_series(%s, %s) AS n",
            [package.id, first, last],
        )


def _peak_while_streaming(client, url: str) -> tuple[int, int]:
    """(rows streamed, peak bytes Python allocated while streaming them)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        response = client.get(url)
        lines = sum(chunk.count(b"\n") for chunk in response.streaming_content)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return lines - 1, peak


@pytest.mark.slow
def test_memory_stays_flat_from_10k_to_100k_rows(pricing_client):
    # given
    package = make_package(name="Big")
    url = f"/packages/{package.id}/cohort.csv?starting_at=2020-01-01"
    _load(package, 1, 10_000)
    b"".join(pricing_client.get(url).streaming_content)  # warm: templates, url resolution, imports
    rows_10k, peak_10k = _peak_while_streaming(pricing_client, url)
    _load(package, 10_001, 100_000)
    # when
    rows_100k, peak_100k = _peak_while_streaming(pricing_client, url)
    # then: ten times the rows, about the same memory (a list of them would be ~10x)
    assert (rows_10k, rows_100k) == (10_000, 100_000)
    assert peak_100k < peak_10k * 1.5 + 512 * 1024, (peak_10k, peak_100k)


def test_the_csv_needs_the_view_contract_permission(client):
    package = make_package(name="Private")
    client.force_login(UserFactory(username="nobody"))
    assert client.get(f"/packages/{package.id}/cohort.csv").status_code == 403
