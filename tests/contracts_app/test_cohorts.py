"""listContractsOnPackage: a package's cohort, paged on (starting_at, id) by the cohort index."""

from __future__ import annotations

import datetime as dt

import metronome
import pytest
from django.db import connection
from django.utils import timezone

from contracts_app.models import Contract
from contracts_app.selectors.contracts import contracts_on_package
from contracts_app.services.provisioning import contract_provision
from tests.contracts_app.cohort_builders import contracts_a_minute_apart
from tests.contracts_app.contract_builders import make_customer, make_package

UTC = dt.UTC


def at(y, m, d) -> dt.datetime:
    return dt.datetime(y, m, d, tzinfo=UTC)


def test_cohort_pages_filters_and_errors(sdk, transactional_db):
    # given five contracts on the package (one archived, one ended) and one on another package
    package, other = make_package(name="Starter"), make_package(name="Other")
    customers = [make_customer(f"c{i}") for i in range(5)]
    contracts = [
        contract_provision(customer=c, package=package, starting_at=at(2024, i + 1, 1))
        for i, c in enumerate(customers)
    ]
    contract_provision(customer=customers[0], package=other, starting_at=at(2024, 1, 1))
    Contract.objects.filter(pk=contracts[1].pk).update(ending_before=at(2024, 2, 15))
    Contract.objects.filter(pk=contracts[4].pk).update(archived_at=timezone.now())

    # when paging two at a time (the SDK follows next_page in the query string)
    pages = list(
        sdk.v1.packages.list_contracts_on_package(package_id=str(package.id), limit=2).iter_pages()
    )
    # then archived contracts are left out by default and the order is by start
    assert [len(p.data) for p in pages] == [2, 2]
    items = [item for p in pages for item in p.data]
    assert [i.contract_id for i in items] == [str(c.id) for c in contracts[:4]]
    assert items[0].customer_id == str(customers[0].id)
    assert items[1].ending_before == at(2024, 2, 15)
    assert pages[-1].next_page is None

    everyone = sdk.v1.packages.list_contracts_on_package(
        package_id=str(package.id), include_archived=True
    )
    assert len(everyone.data) == 5 and everyone.data[-1].archived_at is not None

    covering = sdk.v1.packages.list_contracts_on_package(
        package_id=str(package.id), covering_date=at(2024, 3, 1)
    )
    # contract 1 ended Feb 15; 3 and 4 have not started on Mar 1
    assert [i.contract_id for i in covering.data] == [str(contracts[0].id), str(contracts[2].id)]

    later = sdk.v1.packages.list_contracts_on_package(
        package_id=str(package.id), starting_at=at(2024, 3, 1)
    )
    assert [i.contract_id for i in later.data] == [str(contracts[2].id), str(contracts[3].id)]

    with pytest.raises(metronome.BadRequestError) as both:
        sdk.v1.packages.list_contracts_on_package(
            package_id=str(package.id), covering_date=at(2024, 3, 1), starting_at=at(2024, 3, 1)
        )
    assert both.value.body["field"] == "covering_date"
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.packages.list_contracts_on_package(package_id="00000000-0000-4000-8000-000000000000")
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.packages.list_contracts_on_package(package_id="nope")
    with pytest.raises(metronome.BadRequestError):
        sdk.v1.packages.list_contracts_on_package(package_id=str(package.id), next_page="garbage")


def bulk_contracts(package, customer, count: int) -> None:
    contracts_a_minute_apart(package, customer, count, first=at(2020, 1, 1))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contracts_app_contract")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "filters",
    [{}, {"covering_date": at(2020, 2, 1)}, {"starting_at": at(2020, 1, 5)}],
    ids=["all", "covering_date", "starting_at"],
)
def test_cohort_page_is_an_index_range_scan(filters):
    # given a big cohort next to contracts of other packages
    package, other = make_package(), make_package(name="Other")
    customer = make_customer()
    bulk_contracts(package, customer, 20_000)
    bulk_contracts(other, customer, 20_000)
    # when the planner plans one page after a cursor
    queryset = contracts_on_package(package=package, **filters).order_by("starting_at", "id")
    queryset = queryset.extra(
        where=[
            '("contracts_app_contract"."starting_at", "contracts_app_contract"."id") > (%s, %s)'
        ],
        params=[at(2020, 1, 6), "00000000-0000-0000-0000-000000000000"],
    )[:11]
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    # then it walks the covering cohort index in order: no sort, no sequential scan
    assert "contract_cohort" in plan, plan
    assert "Sort" not in plan and "Seq Scan" not in plan, plan
