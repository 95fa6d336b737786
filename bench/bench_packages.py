"""Packages over HTTP with the SDK: create (eight terms each), get each, list in pages of 10.

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


def list_pages(server: BenchServer) -> tuple[Stats, int]:
    """Every page of the non-archived packages, 10 at a time, following next_page."""
    client = server.sdk()
    latencies, queries, cursor, seen = [], [], None, 0
    while True:
        started = time.perf_counter()
        raw = client.v1.packages.with_raw_response.list(
            limit=10, **({"next_page": cursor} if cursor else {})
        )
        page = raw.parse()
        latencies.append(time.perf_counter() - started)
        queries.append(int(raw.headers["x-query-count"]))
        seen += len(page.data)
        cursor = page.next_page
        if not cursor:
            return Stats("list: page of 10", latencies, queries), seen


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
        fetched = measure(
            "get: package with 8 terms",
            lambda i: client.v1.packages.with_raw_response.retrieve(package_id=ids[i]),
            N,
        )
        listed, seen = list_pages(server)

        print(floor.line())
        print(created.line(floor))
        print(fetched.line(floor))
        print(listed.line(floor) + f"  ({seen} packages in {len(listed.latencies)} pages)")
        counts = {terms: create_queries(server, catalog, terms) for terms in (1, 8, 32)}
        print(
            "create queries by terms: "
            + ", ".join(f"{terms} terms → {count}" for terms, count in counts.items())
        )


if __name__ == "__main__":
    main()
