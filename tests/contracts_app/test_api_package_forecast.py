"""`POST /v1/packages/forecast`: exact figures on worked examples, each computed by hand in the
test's docstring (amounts in USD cents, the rate card's fiat credit type)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from contracts_app.models import Contract, Customer
from contracts_app.services.previews import package_contract_dry_run
from packages_app.models import Package
from tests.builders.pricing import USD, flat, monthly_fee, package, product, rate_card, subscription
from tests.contracts_app.contract_builders import make_customer
from tests.factories import api_post, user_with_token

pytestmark = pytest.mark.django_db

MONTH = {"unit": "MONTHS", "value": 1}


@pytest.fixture
def token():
    return user_with_token("packages_app.view_package")[1]


def forecast(client, token, body, status=200):
    response = api_post(client, token, "/v1/packages/forecast", body)
    assert response.status_code == status, response.content
    return response.json()


def lines_of(period, kind=None):
    return [line for line in period["lines"] if kind is None or line["kind"] == kind]


def amounts(data, kind):
    return [Decimal(str(line["amount"])) for p in data["periods"] for line in lines_of(p, kind)]


def invoiced_at_start(unit_price, offset_unit: str) -> dict:
    """A USD schedule of one invoice of `unit_price`, at an offset of 0 `offset_unit`."""
    item = {
        "date_offset": {"unit": offset_unit, "value": 0},
        "quantity": 1,
        "unit_price": unit_price,
    }
    return {"credit_type_id": USD, "schedule_items": [item]}


@pytest.fixture
def starter():
    """The seed-002 Starter plan, plus a prepaid commit, an onboarding charge and a first-month
    0.8x override on output tokens."""
    tokens = {kind: product(f"{kind.capitalize()} tokens", "USAGE") for kind in ("input", "output")}
    fee = product("Starter Plan fee", "SUBSCRIPTION")
    credit, commit, onboarding = (
        product("Sign-up credit"),
        product("Prepaid"),
        product("Onboarding"),
    )
    card = rate_card(
        [
            flat(tokens["input"], "0.0003"),
            flat(tokens["output"], "0.0015"),
            monthly_fee(fee, 1000),
        ]
    )
    plan = package(
        card,
        name="Starter Plan v1",
        aliases=[{"name": "Starter Plan", "starting_at": "2026-01-01T00:00:00Z"}],
        subscriptions=[subscription(fee)],
        recurring_credits=[
            {
                "name": "Sign-up credit",
                "product_id": str(credit.id),
                "access_amount": {"credit_type_id": USD, "unit_price": 1000, "quantity": 1},
                "commit_duration": {"value": 1, "unit": "PERIODS"},
                "priority": 1,
                "starting_at_offset": {"unit": "MONTHS", "value": 0},
                "duration": {"unit": "MONTHS", "value": 3},
                "recurrence_frequency": "MONTHLY",
                "applicable_product_ids": [str(p.id) for p in tokens.values()],
            }
        ],
        commits=[
            {
                "name": "Prepaid commit",
                "product_id": str(commit.id),
                "type": "PREPAID",
                "priority": 1,
                "access_schedule": {
                    "credit_type_id": USD,
                    "schedule_items": [
                        {
                            "amount": 50000,
                            "starting_at_offset": {"unit": "MONTHS", "value": 0},
                            "duration": {"unit": "MONTHS", "value": 12},
                        }
                    ],
                },
                "invoice_schedule": invoiced_at_start(50000, "MONTHS"),
            }
        ],
        scheduled_charges=[
            {
                "name": "Onboarding",
                "product_id": str(onboarding.id),
                "schedule": invoiced_at_start(25000, "DAYS"),
            }
        ],
        overrides=[
            {
                "starting_at_offset": {"unit": "MONTHS", "value": 0},
                "duration": MONTH,
                "override_specifiers": [{"product_id": str(tokens["output"].id)}],
                "type": "MULTIPLIER",
                "multiplier": Decimal("0.8"),
            }
        ],
    )
    return {"package": plan, "tokens": tokens, "fee": fee}


def starter_body(starter, **extra):
    return {
        "package_alias": "Starter Plan",
        "starting_at": "2027-03-01T00:00:00Z",
        "usage": [
            {"product_id": str(starter["tokens"]["input"].id), "quantity_per_month": 10_000_000},
            {"product_id": str(starter["tokens"]["output"].id), "quantity_per_month": 2_000_000},
        ],
        **extra,
    }


def test_starter_plan_twelve_months_by_hand(client, token, starter):
    """Start 2027-03-01 (a first of month: 12 whole monthly periods, Mar 2027 .. Feb 2028),
    10M input and 2M output tokens a month.

    Each month: subscription 1000 x 1 = 1000; input 10,000,000 x 0.0003 = 3000;
    output 2,000,000 x 0.0015 = 3000, in March x 0.8 = 2400.
    March also: prepaid commit invoice 1 x 50000 = 50000, onboarding 1 x 25000 = 25000.
    March = 1000 + 3000 + 2400 + 50000 + 25000 = 81400; April .. February = 7000 each,
    11 x 7000 = 77000. Total 81400 + 77000 = 158400 cents ($1,584.00).
    Grants (not charges): commit 50000 in March, sign-up credit 1000 in Mar, Apr, May:
    53000."""
    data = forecast(client, token, starter_body(starter))["data"]
    assert data["package_id"] == str(starter["package"].id)
    periods = data["periods"]
    assert [p["starting_at"][:10] for p in periods] == [
        f"{2027 + (m > 12)}-{(m - 1) % 12 + 1:02}-01" for m in range(3, 15)
    ]
    assert [Decimal(str(p["total"])) for p in periods] == [Decimal(81400)] + [Decimal(7000)] * 11
    assert Decimal(str(data["total"])) == Decimal(158400)
    assert data["credit_types"][USD]["charges"] == 158400
    assert data["credit_types"][USD]["grants"] == 53000
    march = periods[0]
    output = [
        line
        for line in lines_of(march, "usage")
        if line["product_id"] == str(starter["tokens"]["output"].id)
    ]
    assert [(o["amount"], o["multiplier"], o["quantity"]) for o in output] == [(2400, 0.8, 2000000)]
    assert output[0]["override_term_id"] is not None
    assert {line["kind"] for line in march["lines"]} == {
        "subscription",
        "scheduled_charge",
        "commit_invoice",
        "usage",
        "credit_grant",
        "commit_grant",
    }
    assert amounts(data, "credit_grant") == [Decimal(1000)] * 3
    assert all(line["term_id"] for line in march["lines"] if line["kind"] != "usage")
    assert "gross" in data["notes"][0]
    # Nothing written.
    assert Contract.objects.count() == 0 and Customer.objects.count() == 0


def test_jan_31_start_clamps_month_ends_and_prorates_the_stub(client, token):
    """Jan 31 2027 start, 3 months (to Apr 30), a 1000 monthly fee billed in advance and
    1,000,000 input tokens a month at 0.0003 (300 a month).

    With day CONTRACT_START periods clamp: Jan 31 - Feb 28 - Mar 31 - Apr 30; fee 3 x 1000,
    usage 3 x 300: 3900.

    With the default FIRST_OF_MONTH, periods: Jan 31 - Feb 1 (stub, 1 of January's 31 days),
    Feb 1 - Mar 1, Mar 1 - Apr 1, Apr 1 - Apr 30 (29 of April's 30 days).
    Fee: 1000 x 1/31 = 32.258064516129.. -> 32.2580645161 (10 places, half even), then 1000
    on Feb 1, Mar 1 and Apr 1 (billed in advance for the whole of April): 3032.2580645161.
    Usage: 300 x 1/31 = 9.677419354838.. -> 9.6774193548, 300, 300, 300 x 29/30 = 290:
    899.6774193548. Total 3931.9354838709."""
    tokens, fee = product("Input tokens", "USAGE"), product("Fee", "SUBSCRIPTION")
    card = rate_card([flat(tokens, "0.0003"), monthly_fee(fee, 1000)])
    usage = [{"product_id": str(tokens.id), "quantity_per_month": 1_000_000}]
    clamped = package(
        card,
        subscriptions=[subscription(fee)],
        usage_statement_schedule={"frequency": "MONTHLY", "day": "CONTRACT_START"},
    )
    body = {"starting_at": "2027-01-31T00:00:00Z", "months": 3, "usage": usage}
    data = forecast(client, token, {"package_id": str(clamped.id), **body})["data"]
    assert [(p["starting_at"][:10], p["ending_before"][:10]) for p in data["periods"]] == [
        ("2027-01-31", "2027-02-28"),
        ("2027-02-28", "2027-03-31"),
        ("2027-03-31", "2027-04-30"),
    ]
    assert Decimal(str(data["total"])) == Decimal(3900)

    first_of_month = package(card, name="Plan FOM", subscriptions=[subscription(fee)])
    data = forecast(client, token, {"package_id": str(first_of_month.id), **body})["data"]
    assert [(p["starting_at"][:10], p["ending_before"][:10]) for p in data["periods"]] == [
        ("2027-01-31", "2027-02-01"),
        ("2027-02-01", "2027-03-01"),
        ("2027-03-01", "2027-04-01"),
        ("2027-04-01", "2027-04-30"),
    ]
    assert amounts(data, "subscription") == [
        Decimal("32.2580645161"),
        Decimal(1000),
        Decimal(1000),
        Decimal(1000),
    ]
    assert amounts(data, "usage") == [
        Decimal("9.6774193548"),
        Decimal(300),
        Decimal(300),
        Decimal(290),
    ]
    assert data["periods"][0]["lines"][0]["proration"] == "1/31"
    assert Decimal(str(data["total"])) == Decimal("3931.9354838709")


def test_tiered_rate_is_priced_per_tier(client, token):
    """API calls at tiers 2 for the first 1000, 1 for the next 9000, 0.5 beyond; 15,000 calls
    in one month: 1000 x 2 = 2000, 9000 x 1 = 9000, 5000 x 0.5 = 2500; total 13500."""
    calls = product("API calls", "USAGE")
    tiers = [{"price": 2, "size": 1000}, {"price": 1, "size": 9000}, {"price": Decimal("0.5")}]
    card = rate_card(
        [
            {
                "product_id": str(calls.id),
                "rate_type": "TIERED",
                "tiers": tiers,
                "entitled": True,
                "starting_at": "2025-01-01T00:00:00Z",
            }
        ]
    )
    plan = package(card)
    data = forecast(
        client,
        token,
        {
            "package_id": str(plan.id),
            "starting_at": "2027-03-01T00:00:00Z",
            "months": 1,
            "usage": [{"product_id": str(calls.id), "quantity_per_month": 15000}],
        },
    )["data"]
    lines = lines_of(data["periods"][0], "usage")
    assert [(line["quantity"], line["unit_price"], line["amount"]) for line in lines] == [
        (1000, 2, 2000),
        (9000, 1, 9000),
        (5000, 0.5, 2500),
    ]
    assert data["total"] == 13500


def test_overwrite_override_replaces_the_rate_while_in_force(client, token):
    """Input tokens at 0.0003 on the card, overwritten to a flat 0.0002 from month 2 for one
    month; 1,000,000 tokens a month for 3 months: 300 + 200 + 300 = 800."""
    tokens = product("Input tokens", "USAGE")
    card = rate_card([flat(tokens, "0.0003")])
    plan = package(
        card,
        overrides=[
            {
                "starting_at_offset": MONTH,
                "duration": MONTH,
                "override_specifiers": [{"product_id": str(tokens.id)}],
                "type": "OVERWRITE",
                "overwrite_rate": {"rate_type": "FLAT", "price": Decimal("0.0002")},
            }
        ],
    )
    data = forecast(
        client,
        token,
        {
            "package_id": str(plan.id),
            "starting_at": "2027-03-01T00:00:00Z",
            "months": 3,
            "usage": [{"product_id": str(tokens.id), "quantity_per_month": 1_000_000}],
        },
    )["data"]
    assert amounts(data, "usage") == [Decimal(300), Decimal(200), Decimal(300)]
    assert [line["unit_price"] for p in data["periods"] for line in p["lines"]] == [
        0.0003,
        0.0002,
        0.0003,
    ]
    assert data["total"] == 800


def test_subscription_price_change_mid_year_on_the_rate_card(client, token):
    """The fee is 1000 a month, 1500 from 2027-07-01 (a later rate on the same schedule key);
    2 seats billed in advance from 2027-01-01 for 12 months:
    Jan .. Jun 6 x 2 x 1000 = 12000, Jul .. Dec 6 x 2 x 1500 = 18000; total 30000.
    Billed in arrears, each period is billed at its end at the price in force at its start:
    the June period (billed Jul 1) is still 2 x 1000, the same 30000 in all."""
    fee = product("Seat", "SUBSCRIPTION")
    card = rate_card([monthly_fee(fee, 1000), monthly_fee(fee, 1500, "2027-07-01T00:00:00Z")])
    body = {"starting_at": "2027-01-01T00:00:00Z"}
    advance = package(card, subscriptions=[subscription(fee, quantity=2)])
    data = forecast(client, token, {"package_id": str(advance.id), **body})["data"]
    assert amounts(data, "subscription") == [Decimal(2000)] * 6 + [Decimal(3000)] * 6
    assert data["total"] == 30000

    arrears = package(
        card, name="Arrears", subscriptions=[subscription(fee, quantity=2, collection="ARREARS")]
    )
    data = forecast(client, token, {"package_id": str(arrears.id), **body})["data"]
    june = data["periods"][5]
    assert [(line["billed_at"][:10], line["amount"]) for line in june["lines"]] == [
        ("2027-07-01", 2000)
    ]
    assert data["total"] == 30000


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"months": 0}, "months"),
        ({"months": 37}, "months"),
        ({"usage": [{"product_id": "nope", "quantity_per_month": 1}]}, "usage[0].product_id"),
        ({"package_alias": "No such plan"}, "package_alias"),
        (
            {"package_alias": None, "package_id": "00000000-0000-0000-0000-000000000000"},
            "package_id",
        ),
        ({"customer_id": "00000000-0000-0000-0000-000000000000"}, "customer_id"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(client, token, starter, change, field):
    body = {
        key: value
        for key, value in {**starter_body(starter), **change}.items()
        if value is not None
    }
    answer = forecast(client, token, body, status=400)
    assert answer["field"] == field, answer


def test_negative_quantity_is_a_400_naming_the_field(client, token, starter):
    body = starter_body(starter)
    body["usage"][1]["quantity_per_month"] = -5
    answer = forecast(client, token, body, status=400)
    assert answer["field"] == "usage[1].quantity_per_month"


def test_customer_billing_configuration_is_checked_as_provisioning_would(client, token, starter):
    Package.objects.filter(pk=starter["package"].pk).update(billing_provider="stripe")
    customer = make_customer()
    answer = forecast(
        client, token, starter_body(starter, customer_id=str(customer.id)), status=400
    )
    assert answer["field"] == "customer_id"


def test_permission_is_the_package_read_permission(client, starter):
    _, other = user_with_token("contracts_app.view_contract")
    response = api_post(client, other, "/v1/packages/forecast", starter_body(starter))
    assert response.status_code == 403


def test_starter_forecast_query_count(client, token, starter, django_assert_max_num_queries):
    with django_assert_max_num_queries(9):
        forecast(client, token, starter_body(starter))


def test_forecast_is_documented_in_openapi(client, token):
    schema = client.get("/openapi.json", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    operation = schema["paths"]["/v1/packages/forecast"]["post"]
    assert operation["operationId"] == "packages_forecast"
    assert "gross" in operation["description"]
    request = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    properties = schema["components"]["schemas"][request.rsplit("/", 1)[1]]["properties"]
    assert properties["months"]["maximum"] == 36
    assert {"package_id", "package_alias", "starting_at", "usage", "customer_id"} <= set(properties)


def test_grants_and_charges_fall_on_the_dates_provisioning_writes(client, token, starter):
    """The forecast is a pure computation; the rolled-back provisioning the builder preview
    runs (package_contract_dry_run) must put every grant and charge on the same instants."""
    body = starter_body(starter, starting_at="2027-01-31T00:00:00Z")
    data = forecast(client, token, body)["data"]
    forecast_dates = sorted(
        (line["kind"], line["billed_at"])
        for period in data["periods"]
        for line in period["lines"]
        if line["kind"] in ("credit_grant", "commit_grant", "commit_invoice", "scheduled_charge")
    )
    contract = package_contract_dry_run(
        starting_at=dt.datetime(2027, 1, 31, tzinfo=dt.UTC), package=starter["package"]
    )
    provisioned = []
    for term in contract.terms_loaded:
        access = (term.body.get("access_schedule") or {}).get("schedule_items") or []
        invoices = (term.body.get("invoice_schedule") or {}).get("schedule_items") or []
        charges = (term.body.get("schedule") or {}).get("schedule_items") or []
        provisioned += [(f"{term.kind}_grant", item["starting_at"]) for item in access]
        provisioned += [("commit_invoice", item["timestamp"]) for item in invoices]
        provisioned += [("scheduled_charge", item["timestamp"]) for item in charges]
    assert forecast_dates == sorted(provisioned)
    assert [date for kind, date in forecast_dates if kind == "credit_grant"] == [
        "2027-01-31T00:00:00Z",
        "2027-02-28T00:00:00Z",
        "2027-03-31T00:00:00Z",
    ]
