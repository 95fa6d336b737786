"""Test data for contracts: customers, products, and packages with terms in the package-create
request form (a server `id` on each term and schedule item), built directly with the ORM."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from decimal import Decimal

from contracts_app.models import BillingProviderConfiguration, Customer
from packages_app.models import (
    USD_CENTS_ID,
    BillableMetric,
    CreditType,
    Package,
    PackageTerm,
    Product,
    RateCard,
)

_SCHEDULES = ("access_schedule", "invoice_schedule", "schedule")


def at(y: int, m: int, d: int = 1) -> dt.datetime:
    """Midnight UTC of a date."""
    return dt.datetime(y, m, d, tzinfo=dt.UTC)


def offset(unit: str, value: int) -> dict:
    return {"unit": unit, "value": value}


def make_customer(name: str = "Acme", **fields) -> Customer:
    return Customer.objects.create(name=name, **fields)


def make_billing_configuration(
    customer, provider="stripe", method="direct_to_billing_provider", **f
):
    return BillingProviderConfiguration.objects.create(
        customer=customer, billing_provider=provider, delivery_method=method, **f
    )


def make_product(name: str = "Platform fee", type: str = "FIXED") -> Product:
    metric = BillableMetric.objects.create(name=f"{name} metric") if type == "USAGE" else None
    return Product.objects.create(name=name, type=type, billable_metric=metric)


def ensure_usd_cents() -> None:
    # Transactional (live-server) tests flush the database, seeded rows included.
    CreditType.objects.get_or_create(
        id=USD_CENTS_ID, defaults={"name": "USD (cents)", "is_currency": True}
    )


def make_rate_card(name: str = "Standard rates") -> RateCard:
    ensure_usd_cents()
    return RateCard.objects.create(name=name)


def with_server_ids(body: dict) -> dict:
    body = copy.deepcopy(body)
    body.setdefault("id", str(uuid.uuid4()))
    for key in _SCHEDULES:
        for item in (body.get(key) or {}).get("schedule_items") or []:
            item.setdefault("id", str(uuid.uuid4()))
    return body


def make_package(*, terms: list[tuple[str, dict]] = (), **columns) -> Package:
    columns.setdefault("name", "Starter")
    package = Package.objects.create(**columns)
    ordinals: dict[str, int] = {}
    rows = []
    for kind, body in terms:
        body = with_server_ids(body)
        product_id = (
            body.get("subscription_rate", {}).get("product_id")
            if kind == "subscription"
            else body.get("product_id")
        )
        rows.append(
            PackageTerm(
                id=uuid.UUID(body["id"]),
                package=package,
                kind=kind,
                ordinal=ordinals.setdefault(kind, 0),
                product_id=product_id,
                body=body,
            )
        )
        ordinals[kind] += 1
    PackageTerm.objects.bulk_create(rows)
    return package


# --- term bodies in package form --------------------------------------------------------------


def commit_term(product, *, start=offset("MONTHS", 0), duration=offset("MONTHS", 12), amount=1000):
    return (
        "commit",
        {
            "product_id": str(product.id),
            "type": "PREPAID",
            "name": "Annual commit",
            "access_schedule": {
                "schedule_items": [
                    {"amount": Decimal(amount), "starting_at_offset": start, "duration": duration}
                ]
            },
            "invoice_schedule": {
                "schedule_items": [
                    {"date_offset": start, "quantity": 1, "unit_price": Decimal(amount)}
                ]
            },
        },
    )


def credit_term(product, *, start=offset("DAYS", 0), duration=offset("MONTHS", 3), amount=500):
    return (
        "credit",
        {
            "product_id": str(product.id),
            "access_schedule": {
                "schedule_items": [
                    {"amount": Decimal(amount), "starting_at_offset": start, "duration": duration}
                ]
            },
        },
    )


def credit_edit(product, amount, starting_at, ending_before) -> dict:
    """One `add_credits` item of a contract edit: `amount` of `product` over
    [starting_at, ending_before)."""
    return {
        "product_id": str(product.id),
        "access_schedule": {
            "schedule_items": [
                {"amount": amount, "starting_at": starting_at, "ending_before": ending_before}
            ]
        },
    }


def recurring_credit_edit(product, starting_at, ending_before, **fields) -> dict:
    """One `add_recurring_credits` item of a contract edit: 100 of `product` each period of one
    month over [starting_at, ending_before), at priority 1."""
    return {
        "product_id": str(product.id),
        "priority": 1,
        "starting_at": starting_at,
        "ending_before": ending_before,
        "access_amount": {"unit_price": 100},
        "commit_duration": {"value": 1},
        **fields,
    }


def recurring_term(
    product,
    kind="recurring_credit",
    *,
    start=offset("MONTHS", 0),
    duration=offset("MONTHS", 3),
    frequency="MONTHLY",
    unit_price=1000,
):
    body = {
        "product_id": str(product.id),
        "access_amount": {"unit_price": Decimal(unit_price), "quantity": 1},
        "commit_duration": {"value": 1, "unit": "PERIODS"},
        "priority": 1,
        "starting_at_offset": start,
    }
    if duration is not None:
        body["duration"] = duration
    if frequency is not None:
        body["recurrence_frequency"] = frequency
    if kind == "recurring_commit":
        body["invoice_amount"] = {
            "credit_type_id": "2714e483-4ff1-48e4-9e25-ac732e8f24f2",
            "quantity": 1,
            "unit_price": Decimal(unit_price),
        }
    return kind, body


def override_term(product, *, start=offset("MONTHS", 1), duration=offset("MONTHS", 2)):
    body = {
        "starting_at_offset": start,
        "override_specifiers": [{"product_id": str(product.id)}],
        "type": "MULTIPLIER",
        "multiplier": Decimal("0.8"),
    }
    if duration is not None:
        body["duration"] = duration
    return "override", body


def scheduled_charge_term(product, *, at=offset("MONTHS", 1), unit_price=250):
    return (
        "scheduled_charge",
        {
            "product_id": str(product.id),
            "name": "Onboarding",
            "schedule": {
                "schedule_items": [
                    {"date_offset": at, "quantity": 2, "unit_price": Decimal(unit_price)}
                ]
            },
        },
    )


def subscription_term(product, *, start=None, duration=None):
    body = {
        "collection_schedule": "ADVANCE",
        "proration": {"invoice_behavior": "BILL_IMMEDIATELY", "is_prorated": True},
        "subscription_rate": {"billing_frequency": "MONTHLY", "product_id": str(product.id)},
        "initial_quantity": 3,
    }
    if start is not None:
        body["starting_at_offset"] = start
    if duration is not None:
        body["duration"] = duration
    return "subscription", body


def spend_tracker_term(alias="commit-purchases"):
    return (
        "spend_tracker",
        {
            "alias": alias,
            "applicable_spend_specifiers": [
                {"sources": ["MANUAL"], "spend_type": "COMMIT_PURCHASE"}
            ],
            "credit_type_id": "2714e483-4ff1-48e4-9e25-ac732e8f24f2",
            "reset_frequency": "BILLING_PERIOD",
        },
    )


def eight_terms(product) -> list[tuple[str, dict]]:
    """One term of each kind (two of them recurring): the bench and query-count package."""
    return [
        commit_term(product),
        credit_term(product),
        recurring_term(product, "recurring_commit", duration=offset("MONTHS", 12)),
        recurring_term(product, "recurring_credit", frequency="QUARTERLY", duration=None),
        override_term(product),
        scheduled_charge_term(product),
        subscription_term(product),
        spend_tracker_term(),
    ]


def make_billed_package(product) -> Package:
    """The package the SDK tests provision: eight_terms(product) over twelve months on a new
    rate card, billed through Stripe directly, with a monthly usage statement."""
    return make_package(
        terms=eight_terms(product),
        duration_unit="MONTHS",
        duration_value=12,
        rate_card=make_rate_card(),
        billing_provider="stripe",
        delivery_method="direct_to_billing_provider",
        settings={"usage_statement_schedule": {"frequency": "MONTHLY"}},
    )
