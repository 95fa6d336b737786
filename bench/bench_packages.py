"""Packages over HTTP with the SDK: create (eight terms each), get each, list in pages of 10.

get and list are timed alternately with the floor's no-op, and their ratios use that floor.
Also prints the queries of one create with 1, 8 and 32 terms, to show the count is constant.
"""

from __future__ import annotations

import json
import os
import time

from bench.harness import BenchServer, Stats, floor_stats, measure, running_server

N = int(os.environ.get("BENCH_PACKAGES", "200"))

# Run inside the bench database: the catalog the packages refer to, and earlier runs' packages
# archived so the list below pages through this run's packages only.
CATALOG_SCRIPT = """
import json
from django.utils import timezone
from packages_app.models import USD_CENTS_ID, CreditType, Package, Product, RateCard
CreditType.objects.get_or_create(id=USD_CENTS_ID, defaults={"name": "USD (cents)", "is_currency": True})
Package.objects.filter(archived_at__isnull=True).update(archived_at=timezone.now())
print(json.dumps({
    "rate_card_id": str(RateCard.objects.create(name="bench rates").id),
    "commit_product_id": str(Product.objects.create(type="FIXED", name="bench commit").id),
    "usage_product_id": str(Product.objects.create(type="FIXED", name="bench usage").id),
    "subscription_product_id": str(
        Product.objects.create(type="SUBSCRIPTION", name="bench seats").id
    ),
}))
"""


def offset(unit: str = "DAYS", value: int = 0) -> dict:
    return {"unit": unit, "value": value}


def eight_terms(
    rate_card_id: str, commit_product_id: str, usage_product_id: str, subscription_product_id: str
) -> dict:
    """2 commits, 1 credit, 1 recurring commit, 1 recurring credit, 1 override,
    1 scheduled charge, 1 subscription, on a rate card (also used by the package tests)."""

    def access() -> dict:
        return {
            "schedule_items": [
                {"amount": 100000, "starting_at_offset": offset(), "duration": offset("YEARS", 1)}
            ]
        }

    return {
        "rate_card_id": rate_card_id,
        "commits": [
            {
                "type": "PREPAID",
                "product_id": commit_product_id,
                "access_schedule": access(),
                "invoice_schedule": {
                    "schedule_items": [
                        {"date_offset": offset(), "quantity": 1, "unit_price": 100000}
                    ]
                },
                "temporary_id": "annual",
            },
            {
                "type": "POSTPAID",
                "product_id": commit_product_id,
                "access_schedule": access(),
                "invoice_schedule": {
                    "schedule_items": [
                        {"date_offset": offset("YEARS", 1), "quantity": 2, "unit_price": 50000}
                    ]
                },
            },
        ],
        "credits": [{"product_id": commit_product_id, "access_schedule": access()}],
        "recurring_commits": [
            {
                "product_id": commit_product_id,
                "priority": 1,
                "starting_at_offset": offset(),
                "commit_duration": {"value": 1, "unit": "PERIODS"},
                "access_amount": {"unit_price": 1000, "quantity": 1},
                "recurrence_frequency": "MONTHLY",
            }
        ],
        "recurring_credits": [
            {
                "product_id": commit_product_id,
                "priority": 2,
                "starting_at_offset": offset(),
                "commit_duration": {"value": 1},
                "access_amount": {"unit_price": 500, "quantity": 1},
            }
        ],
        "overrides": [
            {
                "starting_at_offset": offset("MONTHS", 0),
                "duration": offset("MONTHS", 3),
                "override_specifiers": [{"product_id": usage_product_id}],
                "type": "MULTIPLIER",
                "multiplier": 0.8,
            }
        ],
        "scheduled_charges": [
            {
                "product_id": commit_product_id,
                "schedule": {
                    "schedule_items": [
                        {"date_offset": offset("MONTHS", 1), "quantity": 1, "unit_price": 2500}
                    ]
                },
            }
        ],
        "subscriptions": [
            {
                "collection_schedule": "ADVANCE",
                "proration": {"is_prorated": True},
                "subscription_rate": {
                    "billing_frequency": "MONTHLY",
                    "product_id": subscription_product_id,
                },
                "initial_quantity": 5,
            }
        ],
    }


def with_terms(catalog: dict, count: int) -> dict:
    """A create body with `count` terms (1, or a multiple of 8), no temporary ids."""
    shape = eight_terms(**catalog)
    if count == 1:
        return {"rate_card_id": shape["rate_card_id"], "credits": shape["credits"]}
    body: dict = {"rate_card_id": shape.pop("rate_card_id")}
    for key, terms in shape.items():
        body[key] = [
            {k: v for k, v in term.items() if k != "temporary_id"}
            for _ in range(count // 8)
            for term in terms
        ]
    return body


def create_queries(server: BenchServer, catalog: dict, terms: int) -> int:
    client = server.sdk()
    raw = client.v1.packages.with_raw_response.create(
        name=f"queries-{terms}", **with_terms(catalog, terms)
    )
    return int(raw.headers["x-query-count"])


def page_cursors(server: BenchServer) -> tuple[list[str | None], Stats, int]:
    """Walks every page of the non-archived packages, 10 at a time, parsing each strictly
    (SDK, pydantic; timed apart: no server change can speed it up). Returns the cursors, so
    the timed requests below can fetch the same pages without parsing in between: ~5 ms of
    pydantic work (and its garbage) between two requests slows the next one by ~1.5 ms on this
    2-core machine, which is the client's cost, not the server's."""
    client = server.sdk()
    cursors: list[str | None] = [None]
    parsing, seen, cursor = [], 0, None
    while True:
        raw = client.v1.packages.with_raw_response.list(
            limit=10, **({"next_page": cursor} if cursor else {})
        )
        started = time.perf_counter()
        page = raw.parse()
        parsing.append(time.perf_counter() - started)
        seen += len(page.data)
        cursor = page.next_page
        if not cursor:
            return cursors, Stats("  (client: SDK parses a page)", parsing, []), seen
        cursors.append(cursor)


def beside_floor(client, label: str, operation, n: int) -> tuple[Stats, Stats]:
    """`operation` and the floor's no-op, alternated on the same SDK client (one connection),
    so both see the same load on a shared machine (a floor measured minutes earlier can differ
    by half from one measured now)."""

    def noop(_: int):
        return client.post(
            "/v1/noop",
            cast_to=object,
            body={},
            options={"headers": {"X-Stainless-Raw-Response": "true"}},
        )

    operation_samples, floor_samples = Stats(label, [], []), Stats("floor", [], [])
    for i in range(n):
        for stats, call in ((floor_samples, noop), (operation_samples, operation)):
            started = time.perf_counter()
            response = call(i)
            stats.latencies.append(time.perf_counter() - started)
            stats.queries.append(int(response.headers["x-query-count"]))
    return operation_samples, floor_samples


def main() -> None:
    with running_server() as server:
        catalog = json.loads(server.manage("shell", "-c", CATALOG_SCRIPT).strip().splitlines()[-1])
        client = server.sdk()
        body = eight_terms(**catalog)
        floor = floor_stats(server)
        ids: list[str] = []

        def create(i: int):
            raw = client.v1.packages.with_raw_response.create(name=f"bench-{i}", **body)
            ids.append(raw.parse().data.id)
            return raw

        created = measure("create: package with 8 terms", create, N)
        fetched, floor_beside_get = beside_floor(
            client,
            "get: package with 8 terms",
            lambda i: client.v1.packages.with_raw_response.retrieve(package_id=ids[i]),
            N,
        )
        cursors, parsed, seen = page_cursors(server)

        def list_page(i: int):
            cursor = cursors[i % len(cursors)]
            return client.v1.packages.with_raw_response.list(
                limit=10, **({"next_page": cursor} if cursor else {})
            )

        listed, floor_beside_list = beside_floor(
            client, "list: page of 10", list_page, 5 * len(cursors)
        )

        print(floor.line())
        print(created.line(floor))
        print(
            fetched.line(floor_beside_get)
            + f"  (floor beside: {floor_beside_get.median_ms:.2f} ms)"
        )
        print(
            listed.line(floor_beside_list)
            + f"  (floor beside: {floor_beside_list.median_ms:.2f} ms)"
        )
        print(f"  ({seen} packages in {len(cursors)} pages, each read 5 times)")
        print(parsed.line(floor))
        counts = {terms: create_queries(server, catalog, terms) for terms in (1, 8, 32)}
        print(
            "create queries by terms: "
            + ", ".join(f"{terms} terms → {count}" for terms, count in counts.items())
        )


if __name__ == "__main__":
    main()
