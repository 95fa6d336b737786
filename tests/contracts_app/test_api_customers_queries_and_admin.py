"""Query counts of the customer endpoints and the customer admin (Django test client)."""

from __future__ import annotations

import json

import pytest

from config.core.errors import Conflict, ValidationFailed
from contracts_app.models import BillingProviderConfiguration, Customer
from contracts_app.services.customers import customer_create, customers_create
from tests.builders.queries import queries_of_get
from tests.factories import user_with_token

pytestmark = pytest.mark.django_db


def _customers(count: int, *, prefix: str = "Customer") -> list[Customer]:
    customers = Customer.objects.bulk_create(
        Customer(name=f"{prefix} {i:03}", external_id=f"{prefix.lower()}-{i}") for i in range(count)
    )
    BillingProviderConfiguration.objects.bulk_create(
        BillingProviderConfiguration(
            customer=customer, billing_provider="stripe", delivery_method="aws_sqs"
        )
        for customer in customers
    )
    return customers


def _post(client, url: str, token: str, body: dict):
    return client.post(
        url, json.dumps(body), content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
    )


def test_create_with_configurations_uses_a_fixed_number_of_queries(
    client, django_assert_max_num_queries
):
    # given
    _, token = user_with_token("contracts_app.add_customer")
    configurations = [
        {
            "billing_provider": "stripe",
            "delivery_method": "direct_to_billing_provider",
            "configuration": {"stripe_customer_id": f"cus_{i}"},
        }
        for i in range(20)
    ]

    # when / then: auth (3), one advisory-lock query, conflict check, insert, bulk insert,
    # savepoints (3), the audit entry
    with django_assert_max_num_queries(12):
        response = _post(
            client,
            "/v1/customers",
            token,
            {
                "name": "Many configs",
                "ingest_aliases": ["a", "b"],
                "customer_billing_provider_configurations": configurations,
            },
        )
    assert response.status_code == 200, response.json()
    assert BillingProviderConfiguration.objects.count() == 20


def test_set_configurations_for_many_customers_uses_a_fixed_number_of_queries(
    client, django_assert_max_num_queries
):
    customers = Customer.objects.bulk_create(Customer(name=f"C{i}") for i in range(30))
    _, token = user_with_token("contracts_app.add_billingproviderconfiguration")
    data = [
        {
            "customer_id": str(customer.id),
            "billing_provider": "netsuite",
            "delivery_method": "direct_to_billing_provider",
            "tax_provider": None,
        }
        for customer in customers
    ]
    for item in data:
        del item["tax_provider"]

    with django_assert_max_num_queries(11):
        response = _post(
            client, "/v1/setCustomerBillingProviderConfigurations", token, {"data": data}
        )
    assert response.status_code == 200, response.json()
    assert len(response.json()["data"]) == 30


def test_list_page_costs_the_same_whatever_the_table_size(client):
    _, token = user_with_token("contracts_app.view_customer")

    def count_queries() -> int:
        return queries_of_get(
            client, "/v1/customers?limit=50", HTTP_AUTHORIZATION=f"Bearer {token}"
        )

    _customers(3)
    small = count_queries()
    _customers(120, prefix="More")
    assert count_queries() == small
    assert small <= 4  # auth (token + user) and the page


def test_admin_changelist_costs_the_same_for_3_or_100_customers(admin_client):
    client = admin_client

    def count_queries() -> int:
        return queries_of_get(client, "/admin/contracts_app/customer/")

    _customers(3)
    small = count_queries()
    _customers(97, prefix="More")
    assert count_queries() == small


def test_admin_search_filter_and_active_configuration_count(admin_client):
    # given
    client = admin_client
    alpha, beta = _customers(2, prefix="Findme")
    BillingProviderConfiguration.objects.filter(customer=beta).update(
        archived_at="2024-01-01T00:00Z"
    )
    Customer.objects.filter(id=beta.id).update(archived_at="2024-01-01T00:00Z")

    # then
    by_name = client.get("/admin/contracts_app/customer/", {"q": "findme 000"})
    assert alpha.name in by_name.content.decode() and beta.name not in by_name.content.decode()
    by_id = client.get("/admin/contracts_app/customer/", {"q": str(beta.id)})
    assert beta.name in by_id.content.decode() and alpha.name not in by_id.content.decode()
    by_external = client.get("/admin/contracts_app/customer/", {"q": "findme-1"})
    assert beta.name in by_external.content.decode()
    archived = client.get("/admin/contracts_app/customer/", {"archived": "yes"}).content.decode()
    assert beta.name in archived and alpha.name not in archived
    changelist = client.get("/admin/contracts_app/customer/").context["cl"]
    counts = {c.name: c.active_configuration_count for c in changelist.result_list}
    assert counts == {alpha.name: 1, beta.name: 0}


def test_admin_archive_action_archives_and_nothing_is_deletable(admin_client):
    # given
    client = admin_client
    first, second, third = _customers(3)

    # when
    response = client.post(
        "/admin/contracts_app/customer/",
        {"action": "archive_selected", "_selected_action": [str(first.id), str(second.id)]},
    )

    # then
    assert response.status_code == 302
    assert set(Customer.objects.archived().values_list("id", flat=True)) == {first.id, second.id}
    assert Customer.objects.get(id=third.id).archived_at is None
    changelist = client.get("/admin/contracts_app/customer/").content.decode()
    assert "delete_selected" not in changelist
    assert client.get(f"/admin/contracts_app/customer/{third.id}/delete/").status_code == 403
    change = client.get(f"/admin/contracts_app/customer/{third.id}/change/")
    assert change.status_code == 200
    assert "stripe" in change.content.decode()  # the configuration inline


def _spec(index: int, **overrides) -> dict:
    return {
        "name": f"Bulk {index}",
        "external_id": f"bulk-{index}",
        "ingest_aliases": [f"bulk-{index}@example.com"],
        "billing_provider_configurations": [
            {"billing_provider": "stripe", "delivery_method": "aws_sns"}
        ],
        **overrides,
    }


def test_customers_create_is_a_fixed_number_of_queries(django_assert_max_num_queries):
    # when: one advisory-lock query, the conflict check, two bulk inserts, 4 savepoint lines,
    # one bulk insert of the audit entries
    with django_assert_max_num_queries(9):
        customers = customers_create(customers=[_spec(i) for i in range(50)])

    # then
    assert len(customers) == Customer.objects.count() == 50
    assert BillingProviderConfiguration.objects.count() == 50


def test_customers_create_is_all_or_nothing_naming_the_item():
    customer_create(name="Taken", ingest_aliases=["bulk-2@example.com"])

    with pytest.raises(Conflict) as error:
        customers_create(customers=[_spec(i) for i in range(5)])
    assert error.value.field == "customers[2].ingest_aliases[0]"

    with pytest.raises(ValidationFailed) as error:
        customers_create(customers=[_spec(0), _spec(1, external_id="bulk-0")])
    assert error.value.field == "customers[1].external_id"
    assert Customer.objects.count() == 1
