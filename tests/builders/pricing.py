"""Products, rate cards and packages built through the services, for the forecast and the
money of a migration (a helper module, not a test module). Amounts in USD cents."""

from __future__ import annotations

from decimal import Decimal

from config.api.views_base import validated
from contracts_app.services.provisioning import contract_provision
from packages_app.api.package_serializers import PackageCreateInput
from packages_app.api.rate_cards import RatesAddInput
from packages_app.models import USD_CENTS_ID, Package
from packages_app.services.billable_metrics import billable_metric_create
from packages_app.services.packages import package_create
from packages_app.services.products import product_create
from packages_app.services.rate_cards import rate_card_create, rates_add
from tests.builders.catalog import ensure_usd_cents
from tests.contracts_app.contract_builders import make_customer

USD = str(USD_CENTS_ID)


def product(name, kind="FIXED"):
    attributes = {}
    if kind == "USAGE":
        metric = billable_metric_create(
            name=f"{name} metric",
            aggregation_type="SUM",
            aggregation_key="value",
            event_type_filter={"in_values": ["event"]},
            property_filters=[{"name": "value", "exists": True}],
        )
        attributes["billable_metric_id"] = str(metric.id)
    return product_create(name=name, type=kind, created_by="test", attributes=attributes)


def rate_card(rates, name="Standard"):
    ensure_usd_cents()
    card = rate_card_create(name=name, created_by="test")
    data = validated(RatesAddInput, {"rate_card_id": str(card.id), "rates": rates})
    rates_add(rate_card_id=data["rate_card_id"], rates=[dict(rate) for rate in data["rates"]])
    return card


def flat(product, price, starting_at="2025-01-01T00:00:00Z", **extra):
    return {
        "product_id": str(product.id),
        "rate_type": "FLAT",
        "price": Decimal(price),
        "entitled": True,
        "starting_at": starting_at,
        **extra,
    }


def monthly_fee(product, price, starting_at="2025-01-01T00:00:00Z"):
    return flat(product, price, starting_at, rate_type="SUBSCRIPTION", billing_frequency="MONTHLY")


def subscription(product, *, quantity=1, collection="ADVANCE"):
    return {
        "name": product.name,
        "collection_schedule": collection,
        "initial_quantity": quantity,
        "proration": {"is_prorated": True, "invoice_behavior": "BILL_IMMEDIATELY"},
        "subscription_rate": {"billing_frequency": "MONTHLY", "product_id": str(product.id)},
    }


def one_charge(product, unit_price, *, days=0):
    """A scheduled charge of 1 x `unit_price` `days` after the contract's start."""
    return {
        "name": product.name,
        "product_id": str(product.id),
        "schedule": {
            "credit_type_id": USD,
            "schedule_items": [
                {
                    "date_offset": {"unit": "DAYS", "value": days},
                    "quantity": 1,
                    "unit_price": unit_price,
                }
            ],
        },
    }


def package(card, **body) -> Package:
    body = {"name": "Plan", "rate_card_id": str(card.id), **body}
    return package_create(created_by="test", **validated(PackageCreateInput, body))


def fee_upgrade(*more_rates) -> tuple:
    """Two 12-month packages on one rate card ("Starter fee" 1000 and "Pro fee" 1500 a month,
    and `more_rates`): "Starter Plan v1", the 1000 monthly fee billed in advance; "Starter Plan
    v2", the 1500 monthly fee billed in advance and a 25000 onboarding charge on its first day.
    Returns (card, v1, v2)."""
    fee, pro, onboarding = (
        product("Starter fee", "SUBSCRIPTION"),
        product("Pro fee", "SUBSCRIPTION"),
        product("Onboarding"),
    )
    card = rate_card([monthly_fee(fee, 1000), monthly_fee(pro, 1500), *more_rates])
    year = {"unit": "MONTHS", "value": 12}
    v1 = package(card, name="Starter Plan v1", duration=year, subscriptions=[subscription(fee)])
    v2 = package(
        card,
        name="Starter Plan v2",
        duration=year,
        subscriptions=[subscription(pro)],
        scheduled_charges=[one_charge(onboarding, 25000)],
    )
    return card, v1, v2


def starter_plan_upgrade(*, customers_since) -> tuple:
    """The upgrade the package pages and the migration wizard are looked at with: `fee_upgrade`
    with input tokens at 0.0003 on the card, and three customers on v1 since `customers_since`.
    Returns (card, v1, v2, tokens)."""
    tokens = product("Input tokens", "USAGE")
    card, v1, v2 = fee_upgrade(flat(tokens, "0.0003"))
    for i in range(3):
        contract_provision(
            customer=make_customer(f"Customer {i}"), starting_at=customers_since, package=v1
        )
    return card, v1, v2, tokens
