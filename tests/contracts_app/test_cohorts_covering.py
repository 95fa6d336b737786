"""covering_date pages of a cohort: whichever scan serves a page (selectors.contracts), the pages
are those of the plain filter ordered by (starting_at, id), and few covering contracts among many
ended ones are found without reading the ended ones."""

from __future__ import annotations

import datetime as dt
import json
import random
import re

import pytest
from django.db import connection

from contracts_app.models import Contract, package_key
from contracts_app.selectors.contracts import (
    _covering_sql,
    contracts_covering_page,
    contracts_on_package,
)
from tests.contracts_app.cohort_builders import contracts_a_minute_apart
from tests.contracts_app.cohort_page_builders import random_contract
from tests.contracts_app.contract_builders import make_customer, make_package
from tests.factories import api_post, user_with_token

pytestmark = pytest.mark.django_db
UTC = dt.UTC
BASE = dt.datetime(2024, 1, 1, tzinfo=UTC)


def random_cohort(package, customer, count: int, seed: int) -> None:
    """Contracts of every shape: short and long, open-ended, archived, sharing start times."""
    rng = random.Random(seed)
    Contract.objects.bulk_create(
        random_contract(rng, customer, package, base=BASE, days=60, open_share=0.2, length=20)
        for _ in range(count)
    )


def every_page(**kwargs) -> list[list[Contract]]:
    pages, cursor = [], None
    while True:
        page = contracts_covering_page(cursor=cursor, **kwargs)
        pages.append([c.id for c in page.items])
        if page.next_cursor is None:
            return pages
        cursor = page.next_cursor


@pytest.mark.parametrize(
    ("probe_rows", "candidate_cap"),
    [(1000, 1000), (3, 1000), (3, 5)],
    ids=["probe", "running-contracts", "cohort-scan"],
)
@pytest.mark.parametrize("include_archived", [False, True])
def test_every_scan_pages_like_the_plain_filter(probe_rows, candidate_cap, include_archived):
    # given a cohort of 200 random contracts next to another package's
    package, other = make_package(), make_package(name="Other")
    customer = make_customer()
    random_cohort(package, customer, 200, seed=1)
    random_cohort(other, customer, 50, seed=2)
    for day in (0, 10, 30, 59, 90):
        at = BASE + dt.timedelta(days=day, hours=12)
        where = {"package": package, "covering_date": at, "include_archived": include_archived}
        expected = [c.id for c in contracts_on_package(**where).order_by("starting_at", "id")]
        for limit in (1, 7, 100):
            # when paging with scans bounded to force each way of finding a page
            pages = every_page(
                **where, limit=limit, probe_rows=probe_rows, candidate_cap=candidate_cap
            )
            # then the pages are the plain filter's, in order, none empty but a lone first
            assert [i for p in pages for i in p] == expected, (day, limit)
            assert all(len(p) == limit for p in pages[:-1])
            assert pages[-1] or len(pages) == 1


def day_long_contracts(package, customer, count: int) -> None:
    """`count` contracts of a day each, one a minute: few cover any instant."""
    contracts_a_minute_apart(package, customer, count, first=BASE, length="1 day")


def test_few_covering_contracts_among_ended_ones_skip_the_ended_ones():
    # given 20,000 day-long contracts on the package, among 100,000 of other packages
    package = make_package()
    customer = make_customer()
    day_long_contracts(package, customer, 20_000)
    for name in ("Other", "Another"):
        day_long_contracts(make_package(name=name), customer, 50_000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contracts_app_contract")
    at = BASE + dt.timedelta(days=13)
    # when the second scan (the contracts covering the date) plans its page
    sql = _covering_sql("span", after=False, include_archived=False)
    params = {
        "package": package.id,
        "package_key": package_key(package.id),
        "at": at,
        "bound": 50_001,
        "take": 11,
    }
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        plan = json.dumps(cursor.fetchone()[0])
    # then it reads only the 1,440 covering it, by the contract_cohort_span index: neither the
    # 17,280 ended ones nor the 1,280 later ones, nor other packages' contracts
    assert '"Index Name": "contract_cohort_span"' in plan, plan
    assert '"Actual Rows": 1440' in plan, plan
    assert set(re.findall(r'"Rows Removed by [A-Za-z ]+": (\d+)', plan)) == {"0"}, plan
    page = contracts_covering_page(package=package, covering_date=at, limit=10, cursor=None)
    assert page.items[0].starting_at == at - dt.timedelta(days=1, minutes=-1)


def test_covering_pages_over_http_keep_a_constant_number_of_queries(
    client, django_assert_max_num_queries
):
    package = make_package()
    random_cohort(package, make_customer(), 120, seed=3)
    _, token = user_with_token(superuser=True)
    at = (BASE + dt.timedelta(days=20)).isoformat()
    expected = [
        str(c.id)
        for c in contracts_on_package(
            package=package, covering_date=BASE + dt.timedelta(days=20)
        ).order_by("starting_at", "id")
    ]
    seen, query = [], "?limit=5"
    while True:
        # token with its user, package, at most two bounded scans
        with django_assert_max_num_queries(4):
            response = api_post(
                client,
                token,
                f"/v1/packages/listContractsOnPackage{query}",
                {"package_id": str(package.id), "covering_date": at},
            )
        assert response.status_code == 200, response.content
        body = response.json()
        seen += [item["contract_id"] for item in body["data"]]
        if body["next_page"] is None:
            break
        query = f"?limit=5&next_page={body['next_page']}"
    assert seen == expected


def test_a_forged_cursor_is_a_400(client):
    package = make_package()
    _, token = user_with_token(superuser=True)
    response = client.post(
        "/v1/packages/listContractsOnPackage?next_page=WyJ4IiwgInkiXQ",  # ["x", "y"]
        data=json.dumps({"package_id": str(package.id), "covering_date": BASE.isoformat()}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 400
    assert response.json()["field"] == "next_page"
