"""Query counts of the contracts endpoints, pinned: constant whatever the terms or the rows."""

from __future__ import annotations

import datetime as dt

import pytest

from contracts_app.models import Contract
from contracts_app.services.provisioning import contract_provision
from tests.contracts_app import contract_builders as build
from tests.contracts_app.contract_builders import eight_terms

pytestmark = pytest.mark.django_db
START = dt.datetime(2024, 1, 31, tzinfo=dt.UTC)


def package_with(term_count: int):
    product = build.make_product()
    pool = eight_terms(product)
    return build.make_package(
        terms=[pool[i % len(pool)] for i in range(term_count)],
        duration_unit="YEARS",
        duration_value=2,
        rate_card=build.make_rate_card(),
        billing_provider="stripe",
    )


def on_package(customer, package) -> dict:
    """A contracts/create body: the customer on the package from Jan 31 (a month-end start)."""
    return {
        "customer_id": str(customer.id),
        "starting_at": "2024-01-31T00:00:00Z",
        "package_id": str(package.id),
    }


@pytest.mark.parametrize("term_count", [1, 8, 32])
def test_create_from_package_is_constant(post, django_assert_num_queries, term_count):
    # given a package of 1, 8 or 32 terms (recurring ones expand into dozens of rows)
    package = package_with(term_count)
    customer = build.make_customer()
    build.make_billing_configuration(customer)
    body = on_package(customer, package)
    # then: token (+ user), customer, package with its terms, the package's share lock,
    # billing config, subscription, contract, all terms in one insert, and the service's
    # savepoint pair (the test runs in a transaction; in production that pair is the
    # request's BEGIN/COMMIT), the audit entry and the webhook event (the outbox row)
    with django_assert_num_queries(12):
        response = post("/v1/contracts/create", body)
    assert response.status_code == 200, response.content
    assert Contract.objects.get(id=response.json()["data"]["id"]).terms.count() >= term_count


def test_create_from_a_package_without_terms(post, django_assert_num_queries):
    # given a package with no terms (the package-with-terms join finds no row)
    package = build.make_package(duration_unit="MONTHS", duration_value=1)
    customer = build.make_customer()
    body = on_package(customer, package)
    # then: token, customer, the join (empty), the package alone, its share lock,
    # subscription, contract, the savepoint pair, the audit entry and the webhook event: no
    # terms insert
    with django_assert_num_queries(11):
        response = post("/v1/contracts/create", body)
    assert response.status_code == 200, response.content
    contract = Contract.objects.get(id=response.json()["data"]["id"])
    assert (contract.package_id, contract.terms.count()) == (package.id, 0)
    assert contract.ending_before == dt.datetime(2024, 2, 29, tzinfo=dt.UTC)


def test_create_from_an_unknown_package_is_404(post):
    customer = build.make_customer()
    for package_id in ("00000000-0000-4000-8000-000000000000", "not-a-uuid"):
        body = {
            "customer_id": str(customer.id),
            "starting_at": "2024-01-31T00:00:00Z",
            "package_id": package_id,
        }
        response = post("/v1/contracts/create", body)
        assert response.status_code == 404, response.content
        assert response.json()["field"] == "package_id"
    assert not Contract.objects.exists()


@pytest.mark.parametrize("contract_count", [1, 5])
def test_get_and_list_are_constant(post, django_assert_num_queries, contract_count):
    package = package_with(8)
    customer = build.make_customer()
    build.make_billing_configuration(customer)
    contracts = [
        contract_provision(customer=customer, package=package, starting_at=START)
        for _ in range(contract_count)
    ]
    ref = {"customer_id": str(customer.id), "contract_id": str(contracts[0].id)}
    # token (+ user), contract (+ billing config), terms (+ products), edits (amendments),
    # credit types
    with django_assert_num_queries(5):
        assert post("/v1/contracts/get", ref).status_code == 200
    # token (+ user), customer, contracts page, terms (+ products), edits, credit types
    with django_assert_num_queries(6):
        response = post("/v1/contracts/list", {"customer_id": str(customer.id)})
    assert len(response.json()["data"]) == contract_count
    # token (+ user), package, page
    with django_assert_num_queries(3):
        response = post(
            "/v1/packages/listContractsOnPackage", {"package_id": str(package.id)}, "?limit=3"
        )
    assert len(response.json()["data"]) == min(3, contract_count)
