"""`POST /v1/packages/preview`: the contract provisioning would create, nothing written, and
the same dates `contracts/create` then materialises."""

import datetime as dt

import pytest

from contracts_app.api.contract_serializers import contract_data
from contracts_app.models import Contract, Customer
from contracts_app.selectors.contracts import credit_type_names, with_terms
from contracts_app.services.provisioning import contract_provision
from packages_app.models import Package
from tests.contracts_app import contract_builders as build
from tests.contracts_app.contract_builders import recurring_term, subscription_term
from tests.factories import api_post, user_with_token

pytestmark = pytest.mark.django_db


def post(client, token, body):
    return api_post(client, token, "/v1/packages/preview", body)


@pytest.fixture
def token():
    return user_with_token("packages_app.view_package")[1]


def credit_windows(contract: dict) -> list[tuple[str, str]]:
    return [
        (item["starting_at"], item["ending_before"])
        for credit in contract["current"]["credits"]
        for item in credit["access_schedule"]["schedule_items"]
    ]


def test_preview_of_a_body_clamps_month_ends_and_writes_nothing(client, token):
    tokens = build.make_product("Input tokens", "USAGE")
    body = {
        "name": "Growth",
        "duration": {"unit": "MONTHS", "value": 12},
        "aliases": [{"name": "Growth"}],
        "recurring_credits": [
            {
                "product_id": str(tokens.id),
                "priority": 1,
                "access_amount": {"unit_price": 1000, "quantity": 1},
                "commit_duration": {"value": 1},
                "starting_at_offset": {"unit": "DAYS", "value": 0},
                "duration": {"unit": "MONTHS", "value": 3},
                "recurrence_frequency": "MONTHLY",
            }
        ],
        "starting_at": "2027-01-31T00:00:00Z",
    }
    response = post(client, token, body)
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["current"]["starting_at"].startswith("2027-01-31T00:00:00")
    assert data["current"]["ending_before"].startswith("2028-01-31T00:00:00")
    assert [(a[:10], b[:10]) for a, b in credit_windows(data)] == [
        ("2027-01-31", "2027-02-28"),
        ("2027-02-28", "2027-03-31"),
        ("2027-03-31", "2027-04-30"),
    ]
    assert "id" not in data and "customer_id" not in data and "package_id" not in data
    assert Package.objects.count() == Contract.objects.count() == Customer.objects.count() == 0


def test_preview_by_package_id_agrees_with_what_contracts_create_materialises(client, token):
    package = build.make_package(
        name="Starter",
        terms=[
            recurring_term(build.make_product("Tokens", "USAGE")),
            subscription_term(build.make_product("Seat", "SUBSCRIPTION")),
        ],
    )
    start = "2027-01-31T00:00:00Z"
    preview = post(client, token, {"package_id": str(package.id), "starting_at": start}).json()
    contract = contract_provision(
        customer=build.make_customer(),
        starting_at=dt.datetime(2027, 1, 31, tzinfo=dt.UTC),
        package=package,
    )
    created = contract_data(
        with_terms(Contract.objects.filter(pk=contract.pk)).get(), credit_type_names()
    )
    assert credit_windows(preview["data"]) == credit_windows(created)
    assert preview["data"]["current"].get("ending_before") == created["current"].get(
        "ending_before"
    )
    assert preview["data"]["package_id"] == str(package.id)
    assert [s["starting_at"] for s in preview["data"]["subscriptions"]] == [
        s["starting_at"] for s in created["subscriptions"]
    ]


def test_bad_input_is_a_400_naming_the_field(client, token):
    response = post(
        client, token, {"name": "x", "starting_at": "2027-01-31T00:00:00Z", "commits": [{}]}
    )
    assert response.status_code == 400
    assert response.json()["field"].startswith("commits[0].")
    response = post(client, token, {"package_id": "nope", "starting_at": "2027-01-31T00:00:00Z"})
    assert response.status_code == 404
    response = post(client, token, {"name": "x"})
    assert response.status_code == 400 and response.json()["field"] == "starting_at"


def test_preview_needs_the_permission(client):
    _, token = user_with_token()
    response = post(client, token, {"name": "x", "starting_at": "2027-01-31T00:00:00Z"})
    assert response.status_code == 403
