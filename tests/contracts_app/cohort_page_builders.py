"""Cohorts for the cohort pages' tests: contracts of every shape written with bulk_create (the
pages read the contracts table, so provisioning each one would only slow the tests down), and
listContractsOnPackage called over HTTP to compare with."""

from __future__ import annotations

import datetime as dt
import json
import random

from contracts_app.models import Contract, Customer

UTC = dt.UTC
BASE = dt.datetime(2026, 1, 1, tzinfo=UTC)


def random_cohort(package, count: int, *, seed: int, prefix: str = "Customer") -> list[Contract]:
    """`count` contracts on `package`, one customer each: short and long, open-ended, archived
    (every shape the covering rule has to get right), starting over ~300 days from BASE."""
    rng = random.Random(seed)
    customers = Customer.objects.bulk_create(
        [
            Customer(name=f"{prefix} {i:04d}", external_id=f"{prefix.lower()}-{i}")
            for i in range(count)
        ]
    )
    rows = []
    for customer in customers:
        start = BASE + dt.timedelta(days=rng.randrange(0, 300), hours=rng.choice((0, 0, 7)))
        end = None if rng.random() < 0.3 else start + dt.timedelta(days=rng.randrange(1, 200))
        archived = BASE if rng.random() < 0.1 else None
        rows.append(
            Contract(
                customer=customer,
                package=package,
                starting_at=start,
                ending_before=end,
                archived_at=archived,
            )
        )
    return Contract.objects.bulk_create(rows)


def api_cohort(client, token, package, **body) -> list[dict]:
    """Every item listContractsOnPackage returns for `body`, page after page."""
    items, query = [], "?limit=100"
    while True:
        response = client.post(
            f"/v1/packages/listContractsOnPackage{query}",
            data=json.dumps({"package_id": str(package.id), **body}, default=str),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert response.status_code == 200, response.content
        page = response.json()
        items += page["data"]
        if page["next_page"] is None:
            return items
        query = f"?limit=100&next_page={page['next_page']}"
