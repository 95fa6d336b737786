"""Negotiated contracts: nested objects are typed like the SDK's contract_create_params, so what
is stored always reads back strict-valid; invoice recurring schedules become schedule items."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import metronome
import pytest

from contracts_app.models import Contract
from contracts_app.services.materialise import expand_recurring_schedule

UTC = dt.UTC
USD = "2714e483-4ff1-48e4-9e25-ac732e8f24f2"


def at(y, m, d=1) -> dt.datetime:
    return dt.datetime(y, m, d, tzinfo=UTC)


def override(**fields) -> dict:
    return {"starting_at": at(2024, 1), **fields}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        # the reviewer's inputs: they used to be stored and broke every strict get / list
        (
            {"overrides": [override(type="TIERED", tiers=[{"price": 1, "size": 10}])]},
            "overrides[0].tiers[0].price",
        ),
        (
            {
                "spend_trackers": [
                    {
                        "alias": "t",
                        "applicable_spend_specifiers": [{"sources": ["MANUAL"]}],
                        "credit_type_id": USD,
                        "reset_frequency": "BILLING_PERIOD",
                    }
                ]
            },
            "spend_trackers[0].applicable_spend_specifiers[0].spend_type",
        ),
        (
            {"overrides": [override(type="OVERWRITE", overwrite_rate={"price": 1})]},
            "overrides[0].overwrite_rate.rate_type",
        ),
        (
            {"overrides": [override(override_specifiers=[{"commit_id": "x"}])]},
            "overrides[0].override_specifiers[0].commit_id",
        ),
        ({"overrides": [override(type="TIERED")]}, "overrides[0].tiers"),
        (
            {"transition": {"from_contract_id": "x", "type": "RENEWAL", "future_invoice_behavior": {"trueup": "KEEP"}}},
            "transition.future_invoice_behavior.trueup",
        ),
        ({"hierarchy_configuration": {"parent": {"contract_id": "c"}}}, "hierarchy_configuration.parent.customer_id"),
        ({"reseller_royalties": [{"fraction": 0.1}]}, "reseller_royalties[0].netsuite_reseller_id"),
        ({"spend_threshold_configuration": {"is_enabled": True}}, "spend_threshold_configuration.commit"),
    ],
)  # fmt: skip
def test_malformed_nested_objects_are_400_naming_the_field(sdk, customer, body, field):
    with pytest.raises(metronome.BadRequestError) as failure:
        sdk.v1.contracts.create(customer_id=str(customer.id), starting_at=at(2024, 1), **body)
    assert failure.value.body["field"] == field, failure.value.body
    assert not Contract.objects.exists()


def test_well_formed_nested_objects_read_back_strictly(sdk, customer, product):
    pid = str(product.id)
    # given a negotiated contract using every nested shape the reviewer's ones belong to
    created = sdk.v1.contracts.create(
        customer_id=str(customer.id),
        starting_at=at(2024, 1),
        ending_before=at(2025, 1),
        commits=[
            {
                "product_id": pid,
                "type": "PREPAID",
                "temporary_id": "c1",
                "access_schedule": {
                    "schedule_items": [
                        {"amount": 100, "starting_at": at(2024, 1), "ending_before": at(2025, 1)}
                    ]
                },
                "specifiers": [{"product_id": pid, "pricing_group_values": {"region": "eu"}}],
                "hierarchy_configuration": {"child_access": {"type": "ALL"}},
                "spend_tracker_attributes": {"counts_as_discounted": True},
            }
        ],
        overrides=[
            override(
                type="TIERED",
                tiers=[{"multiplier": 0.5, "size": 10}, {"multiplier": 0.25}],
                override_specifiers=[{"commit_ids": ["c1"]}],
            ),
            override(
                type="OVERWRITE",
                overwrite_rate={"rate_type": "TIERED", "tiers": [{"price": 2, "size": 5}]},
                override_specifiers=[{"product_id": pid, "presentation_group_values": {}}],
            ),
        ],
        spend_trackers=[
            {
                "alias": "purchases",
                "applicable_spend_specifiers": [
                    {"sources": ["MANUAL"], "spend_type": "COMMIT_PURCHASE", "discounted": "ANY"}
                ],
                "credit_type_id": USD,
                "reset_frequency": "BILLING_PERIOD",
            }
        ],
        subscriptions=[
            {
                "collection_schedule": "ADVANCE",
                "proration": {"rounding": {"decimal_places": 2, "rounding_method": "HALF_UP"}},
                "subscription_rate": {"billing_frequency": "MONTHLY", "product_id": pid},
                "quantity_management_mode": "SEAT_BASED",
                "seat_config": {"initial_seat_ids": ["a", "b"], "seat_group_key": "team"},
                "billing_cycle_config": {"anchor_date": at(2024, 1, 15)},
            }
        ],
        reseller_royalties=[
            {
                "fraction": 0.1,
                "netsuite_reseller_id": "r1",
                "reseller_type": "AWS",
                "starting_at": at(2024, 1),
                "aws_options": {"aws_offer_id": "offer"},
            }
        ],
    )
    # then get and list (strict) show them
    contract = sdk.v1.contracts.retrieve(
        customer_id=str(customer.id), contract_id=created.data.id
    ).data
    current = contract.current
    tiered, overwrite = current.overrides
    assert [t.multiplier for t in tiered.override_tiers] == [0.5, 0.25]
    assert tiered.override_specifiers[0].commit_ids == [current.commits[0].id]
    assert overwrite.overwrite_rate.tiers[0].price == 2
    assert current.commits[0].hierarchy_configuration.child_access.type == "ALL"
    assert current.spend_trackers[0].applicable_spend_specifiers[0].spend_type == "COMMIT_PURCHASE"
    assert contract.subscriptions[0].quantity_schedule[0].quantity == 2
    assert contract.subscriptions[0].billing_cycle_config.anchor_date == at(2024, 1, 15)
    assert current.reseller_royalties[0].aws_offer_id == "offer"
    listed = sdk.v1.contracts.list(customer_id=str(customer.id)).data
    assert [c.id for c in listed] == [created.data.id]


# --- invoice recurring schedules ----------------------------------------------------------------


def test_a_commits_recurring_invoice_schedule_becomes_its_items(sdk, customer, product):
    # given a POSTPAID commit invoiced quarterly, $1,000 divided over the year
    created = sdk.v1.contracts.create(
        customer_id=str(customer.id),
        starting_at=at(2024, 1, 31),
        commits=[
            {
                "product_id": str(product.id),
                "type": "POSTPAID",
                "access_schedule": {
                    "schedule_items": [
                        {"amount": 1000, "starting_at": at(2024, 1, 31), "ending_before": at(2025, 1, 31)}
                    ]
                },
                "invoice_schedule": {
                    "recurring_schedule": {
                        "amount_distribution": "DIVIDED",
                        "frequency": "QUARTERLY",
                        "starting_at": at(2024, 1, 31),
                        "ending_before": at(2025, 1, 31),
                        "amount": 1000,
                    }
                },
            }
        ],
        scheduled_charges=[
            {
                "product_id": str(product.id),
                "schedule": {
                    "recurring_schedule": {
                        "amount_distribution": "EACH",
                        "frequency": "SEMI_ANNUAL",
                        "starting_at": at(2024, 1, 31),
                        "ending_before": at(2025, 1, 31),
                        "quantity": 2,
                        "unit_price": 50,
                    }
                },
            }
        ],
    )  # fmt: skip
    # then the invoices are there, from the start and never chained (Jan 31 → Jul 31, not 30)
    current = sdk.v1.contracts.retrieve(
        customer_id=str(customer.id), contract_id=created.data.id
    ).data.current
    invoices = current.commits[0].invoice_schedule.schedule_items
    assert [i.timestamp for i in invoices] == [
        at(2024, 1, 31),
        at(2024, 4, 30),
        at(2024, 7, 31),
        at(2024, 10, 31),
    ]
    assert [i.amount for i in invoices] == [250, 250, 250, 250]
    charges = current.scheduled_charges[0].schedule.schedule_items
    assert [(c.timestamp, c.quantity, c.unit_price, c.amount) for c in charges] == [
        (at(2024, 1, 31), 2, 50, 100),
        (at(2024, 7, 31), 2, 50, 100),
    ]


def recurring(distribution: str, **charge) -> dict:
    return {
        "recurring_schedule": {
            "amount_distribution": distribution,
            "frequency": "MONTHLY",
            "starting_at": at(2024, 1),
            "ending_before": at(2024, 4),
            **charge,
        }
    }


def test_divided_amounts_always_add_up_to_the_charge():
    divided = expand_recurring_schedule(recurring("DIVIDED", amount=100), field_name="x")
    amounts = [item["amount"] for item in divided["schedule_items"]]
    assert sum(amounts) == Decimal(100) and "recurring_schedule" not in divided
    assert amounts[0] == amounts[1] == Decimal(100) / 3
    rounded = expand_recurring_schedule(
        recurring("DIVIDED_ROUNDED", quantity=1, unit_price=Decimal("100.5")), field_name="x"
    )
    assert [item["amount"] for item in rounded["schedule_items"]] == [
        Decimal(34),
        Decimal(34),
        Decimal("32.5"),
    ]


def test_a_discount_recurring_schedule_becomes_its_items(sdk, customer, product):
    created = sdk.v1.contracts.create(
        customer_id=str(customer.id),
        starting_at=at(2024, 1),
        discounts=[{"product_id": str(product.id), "schedule": recurring("EACH", amount=5)}],
    )
    current = sdk.v1.contracts.retrieve(
        customer_id=str(customer.id), contract_id=created.data.id
    ).data.current
    assert [i.amount for i in current.discounts[0].schedule.schedule_items] == [5, 5, 5]


@pytest.mark.parametrize(
    ("charge", "field"),
    [
        ({}, "commits[0].invoice_schedule.recurring_schedule.amount"),
        ({"amount": 1, "unit_price": 1}, "commits[0].invoice_schedule.recurring_schedule.amount"),
    ],
)
def test_a_recurring_schedule_needs_one_charge(sdk, customer, product, charge, field):
    with pytest.raises(metronome.BadRequestError) as failure:
        sdk.v1.contracts.create(
            customer_id=str(customer.id),
            starting_at=at(2024, 1),
            commits=[
                {
                    "product_id": str(product.id),
                    "type": "POSTPAID",
                    "invoice_schedule": recurring("EACH", **charge),
                }
            ],
        )
    assert failure.value.body["field"] == field
