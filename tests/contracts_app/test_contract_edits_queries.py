"""Query counts of contract edits, pinned: constant whatever the number of terms an edit adds,
updates or archives, and whatever the length of the history read back."""

from __future__ import annotations

import datetime as dt

import pytest

from contracts_app.models import ContractEdit, ContractTerm
from contracts_app.services.provisioning import contract_provision
from tests.contracts_app import contract_builders as build
from tests.contracts_app.contract_builders import eight_terms

pytestmark = pytest.mark.django_db
START = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def contract():
    product = build.make_product()
    package = build.make_package(
        terms=eight_terms(product),
        duration_unit="YEARS",
        duration_value=1,
        rate_card=build.make_rate_card(),
        billing_provider="stripe",
    )
    customer = build.make_customer()
    build.make_billing_configuration(customer)
    return contract_provision(customer=customer, package=package, starting_at=START)


def _edit_body(contract, count: int) -> dict:
    product_id = str(contract.terms.filter(product__isnull=False).first().product_id)
    commits = list(
        ContractTerm.objects.filter(contract=contract, kind="commit").values_list("id", flat=True)
    )
    return {
        "customer_id": str(contract.customer_id),
        "contract_id": str(contract.id),
        "add_credits": [
            {
                "product_id": product_id,
                "access_schedule": {
                    "schedule_items": [
                        {
                            "amount": 10 + n,
                            "starting_at": "2024-02-01T00:00:00Z",
                            "ending_before": "2024-03-01T00:00:00Z",
                        }
                    ]
                },
            }
            for n in range(count)
        ],
        "add_recurring_commits": [
            {
                "product_id": product_id,
                "priority": 1,
                "starting_at": "2024-01-01T00:00:00Z",
                "access_amount": {"unit_price": 100},
                "commit_duration": {"value": 1},
            }
            for _ in range(count)
        ],
        "update_commits": [{"commit_id": str(pk), "priority": 3} for pk in commits[:count]],
        "update_contract_name": f"Edited {count}",
    }


@pytest.mark.parametrize("count", [1, 4, 12])
def test_edit_query_count_is_constant(post, django_assert_num_queries, contract, count):
    body = _edit_body(contract, count)
    # token (+ user), contract (404 check), credit-type names, savepoint pair, subscription lock,
    # contract lock, the named terms, first free ordinals, products, contract update, term
    # rewrite, term insert, edit insert, audit entry, webhook event (the outbox row)
    with django_assert_num_queries(16):
        response = post("/v2/contracts/edit", body)
    assert response.status_code == 200, response.content
    # each recurring commit added was expanded into its 12 monthly periods
    generated = ContractTerm.objects.filter(
        contract=contract,
        kind="commit",
        generated_from__kind="recurring_commit",
        package_term__isnull=True,
    )
    assert generated.count() == 12 * count


@pytest.mark.parametrize("edits", [1, 6])
def test_history_and_v2_get_are_constant(post, django_assert_num_queries, contract, edits):
    for n in range(edits):
        assert post("/v2/contracts/edit", _edit_body(contract, 2) | {"uniqueness_key": str(n)})
    ref = {"customer_id": str(contract.customer_id), "contract_id": str(contract.id)}
    # token (+ user), contract, history
    with django_assert_num_queries(3):
        response = post("/v2/contracts/getEditHistory", ref)
    assert len(response.json()["data"]) == edits == ContractEdit.objects.count()
    # token (+ user), contract (+ billing config), terms (+ products), credit types
    with django_assert_num_queries(4):
        assert post("/v2/contracts/get", ref).status_code == 200
