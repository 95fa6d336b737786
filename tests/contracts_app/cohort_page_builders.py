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
    rows = [
        random_contract(
            rng, customer, package, base=BASE, days=300, hours=(0, 0, 7), open_share=0.3, length=200
        )
        for customer in customers
    ]
    return Contract.objects.bulk_create(rows)


def random_contract(
    rng: random.Random,
    customer,
    package,
    *,
    base: dt.datetime,
    days: int,
    open_share: float,
    length: int,
    hours: tuple[int, ...] | None = None,
) -> Contract:
    """A contract (not saved) of a random shape: starting up to `days` days after `base` (at one
    of `hours`, else midnight), open-ended `open_share` of the time, else lasting up to `length`
    days, archived one time in ten."""
    offset = dt.timedelta(days=rng.randrange(0, days), hours=rng.choice(hours) if hours else 0)
    start = base + offset
    end = None if rng.random() < open_share else start + dt.timedelta(days=rng.randrange(1, length))
    archived = base if rng.random() < 0.1 else None
    return Contract(
        customer=customer,
        package=package,
        starting_at=start,
        ending_before=end,
        archived_at=archived,
    )


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
