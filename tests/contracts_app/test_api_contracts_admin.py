"""Contract and subscription admin: pages render, terms are read-only, the changelist is cheap."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from contracts_app.models import Contract
from contracts_app.services.provisioning import contract_provision
from tests.contracts_app import contract_builders as build
from tests.contracts_app.contract_builders import eight_terms

pytestmark = pytest.mark.django_db
START = dt.datetime(2024, 1, 31, tzinfo=dt.UTC)


def provision_many(count: int) -> list[Contract]:
    package = build.make_package(terms=eight_terms(build.make_product()))
    return [
        contract_provision(
            customer=build.make_customer(f"c{i}"), package=package, starting_at=START
        )
        for i in range(count)
    ]


@pytest.mark.parametrize("count", [1, 12])
def test_contract_changelist_costs_the_same_for_any_page(
    admin_client, django_assert_num_queries, count
):
    provision_many(count)
    # session, user, package filter choices, the paginator's count, page rows (customer and
    # package joined in)
    with django_assert_num_queries(5):
        response = admin_client.get(reverse("admin:contracts_app_contract_changelist"))
    assert response.status_code == 200
    assert response.content.count(b'class="field-name"') == count


def test_contract_page_shows_read_only_terms_and_search_finds_it(admin_client):
    (contract,) = provision_many(1)
    response = admin_client.get(reverse("admin:contracts_app_contract_change", args=[contract.pk]))
    assert response.status_code == 200
    page = response.content.decode()
    assert "recurring_commit" in page
    assert 'name="starting_at' not in page  # dates are read-only
    assert 'name="terms-0-body"' not in page  # so are the materialised terms
    found = admin_client.get(
        reverse("admin:contracts_app_contract_changelist"), {"q": str(contract.customer_id)}
    )
    assert str(contract.pk) in found.content.decode()


def test_subscription_page_lists_its_contracts(admin_client):
    (contract,) = provision_many(1)
    response = admin_client.get(
        reverse("admin:contracts_app_subscription_change", args=[contract.subscription_id])
    )
    assert response.status_code == 200
    assert str(contract.pk) in response.content.decode()


def test_archive_action_goes_through_the_service(admin_client):
    contracts = provision_many(2)
    admin_client.post(
        reverse("admin:contracts_app_contract_changelist"),
        {"action": "archive_selected", "_selected_action": [str(c.pk) for c in contracts]},
    )
    assert Contract.objects.filter(archived_at__isnull=False).count() == 2
