"""Each kind of v2 contracts/edit change, through the official SDK in strict mode: recurring
terms re-expanded, subscriptions, scheduled charges, thresholds, spend trackers, the stored-only
fields, and edits surviving a later end date."""

from __future__ import annotations

import datetime as dt

import metronome
import pytest

from contracts_app.models import Contract
from tests.contracts_app.contract_builders import (
    at,
    make_billed_package,
    make_billing_configuration,
    make_customer,
    recurring_credit_edit,
)

UTC = dt.UTC


@pytest.fixture
def ids(sdk, product):
    customer = make_customer()
    make_billing_configuration(customer)
    package = make_billed_package(product)
    created = sdk.v1.contracts.create(
        customer_id=str(customer.id), starting_at=at(2024, 1, 1), package_id=str(package.id)
    )
    return {"customer_id": str(customer.id), "contract_id": created.data.id}


def periods_of(contract, recurring_id):
    return [c for c in contract.credits if c.recurring_credit_id == recurring_id]


def test_update_recurring_credit_reexpands_its_periods_keeping_ids(sdk, ids, product):
    added = sdk.v2.contracts.edit(
        **ids,
        add_recurring_credits=[recurring_credit_edit(product, at(2024, 1, 1), at(2024, 7, 1))],
    )
    recurring_id = added.data.edit.add_recurring_credits[0].id
    before = periods_of(sdk.v2.contracts.retrieve(**ids).data, recurring_id)
    assert len(before) == 6
    sdk.v2.contracts.edit(
        **ids,
        update_recurring_credits=[
            {
                "recurring_credit_id": recurring_id,
                "ending_before": at(2024, 4, 1),
                "access_amount": {"unit_price": 250},
            }
        ],
    )
    contract = sdk.v2.contracts.retrieve(**ids).data
    after = periods_of(contract, recurring_id)
    assert [p.id for p in after] == [p.id for p in before[:3]]
    assert [p.access_schedule.schedule_items[0].amount for p in after] == [250, 250, 250]
    recurring = next(r for r in contract.recurring_credits if r.id == recurring_id)
    assert recurring.ending_before == at(2024, 4, 1)
    assert recurring.access_amount.unit_price == 250


def test_subscriptions_added_and_updated(sdk, ids, product):
    added = sdk.v2.contracts.edit(
        **ids,
        add_subscriptions=[
            {
                "collection_schedule": "ADVANCE",
                "proration": {"is_prorated": True},
                "subscription_rate": {
                    "billing_frequency": "MONTHLY",
                    "product_id": str(product.id),
                },
                "initial_quantity": 5,
                "starting_at": at(2024, 2, 1),
                "name": "Seats",
            }
        ],
    )
    subscription_id = added.data.edit.add_subscriptions[0].id
    sdk.v2.contracts.edit(
        **ids,
        update_subscriptions=[
            {
                "subscription_id": subscription_id,
                "ending_before": at(2024, 10, 1),
                "name": "Seats (renamed)",
                "quantity_updates": [{"starting_at": at(2024, 5, 1), "quantity": 8}],
            }
        ],
    )
    contract = sdk.v2.contracts.retrieve(**ids).data
    subscription = next(s for s in contract.subscriptions if s.id == subscription_id)
    assert subscription.name == "Seats (renamed)"
    assert subscription.ending_before == at(2024, 10, 1)
    history = sdk.v2.contracts.get_edit_history(**ids).data
    assert history[1].update_subscriptions[0].quantity_updates[0].quantity == 8


def test_scheduled_charge_items_added_and_removed(sdk, ids):
    contract = sdk.v2.contracts.retrieve(**ids).data
    charge = contract.scheduled_charges[0]
    first = charge.schedule.schedule_items[0]
    sdk.v2.contracts.edit(
        **ids,
        update_scheduled_charges=[
            {
                "scheduled_charge_id": charge.id,
                "invoice_schedule": {
                    "remove_schedule_items": [{"id": first.id}],
                    "add_schedule_items": [{"timestamp": at(2024, 6, 1), "amount": 4321}],
                },
            }
        ],
    )
    after = next(
        c for c in sdk.v2.contracts.retrieve(**ids).data.scheduled_charges if c.id == charge.id
    )
    assert first.id not in {i.id for i in after.schedule.schedule_items}
    assert after.schedule.schedule_items[-1].amount == 4321
    with pytest.raises(metronome.BadRequestError) as gone:
        sdk.v2.contracts.edit(
            **ids,
            update_scheduled_charges=[
                {
                    "scheduled_charge_id": charge.id,
                    "invoice_schedule": {"remove_schedule_items": [{"id": first.id}]},
                }
            ],
        )
    assert (
        gone.value.body["field"]
        == "update_scheduled_charges[0].invoice_schedule.remove_schedule_items[0].id"
    )


def test_thresholds_added_then_updated(sdk, ids, product):
    with pytest.raises(metronome.BadRequestError) as missing:
        sdk.v2.contracts.edit(**ids, update_spend_threshold_configuration={"threshold_amount": 5})
    assert missing.value.body["field"] == "update_spend_threshold_configuration"
    sdk.v2.contracts.edit(
        **ids,
        add_spend_threshold_configuration={
            "commit": {"product_id": str(product.id), "name": "Threshold"},
            "is_enabled": True,
            "payment_gate_config": {"payment_gate_type": "NONE"},
            "threshold_amount": 1000,
        },
    )
    sdk.v2.contracts.edit(
        **ids,
        update_spend_threshold_configuration={"threshold_amount": 2500, "is_enabled": False},
    )
    threshold = sdk.v2.contracts.retrieve(**ids).data.spend_threshold_configuration
    assert threshold.threshold_amount == 2500
    assert threshold.is_enabled is False
    assert threshold.commit.name == "Threshold"


def test_stored_only_fields_are_kept_and_returned(sdk, ids, product):
    edited = sdk.v2.contracts.edit(
        **ids,
        add_professional_services=[
            {"product_id": str(product.id), "max_amount": 5000, "quantity": 2, "unit_price": 1000}
        ],
        add_reseller_royalties=[
            {
                "reseller_type": "AWS",
                "fraction": 0.1,
                "netsuite_reseller_id": "ns-1",
                "aws_options": {"aws_offer_id": "offer-1"},
            }
        ],
        add_billing_provider_configuration_update={
            "billing_provider_configuration": {"billing_provider": "stripe"},
            "schedule": {"effective_at": "START_OF_NEXT_PERIOD"},
        },
        allow_contract_ending_before_finalized_invoice=True,
    )
    contract = sdk.v2.contracts.retrieve(**ids).data
    assert contract.professional_services[0].max_amount == 5000
    segment = contract.reseller_royalties[0].segments[0]
    assert (segment.aws_offer_id, segment.starting_at) == ("offer-1", at(2024, 1, 1))
    entry = sdk.v2.contracts.get_edit_history(**ids).data[0]
    assert entry.id == edited.data.edit.id
    assert entry.add_pro_services[0].quantity == 2
    assert entry.to_dict()["add_billing_provider_configuration_update"]["schedule"] == {
        "effective_at": "START_OF_NEXT_PERIOD"
    }
    stored = Contract.objects.get(id=ids["contract_id"]).settings
    assert stored["billing_provider_configuration_updates"][0]["schedule"] == {
        "effective_at": "START_OF_NEXT_PERIOD"
    }


def test_spend_trackers_added_and_archived(sdk, ids):
    sdk.v2.contracts.edit(
        **ids,
        add_spend_trackers=[
            {
                "alias": "manual-topups",
                "applicable_spend_specifiers": [
                    {"sources": ["MANUAL"], "spend_type": "COMMIT_PURCHASE"}
                ],
                "credit_type_id": "2714e483-4ff1-48e4-9e25-ac732e8f24f2",
                "reset_frequency": "BILLING_PERIOD",
            }
        ],
    )
    aliases = {t.alias for t in sdk.v2.contracts.retrieve(**ids).data.spend_trackers}
    assert "manual-topups" in aliases
    sdk.v2.contracts.edit(**ids, archive_spend_trackers=["manual-topups"])
    aliases = {t.alias for t in sdk.v2.contracts.retrieve(**ids).data.spend_trackers}
    assert "manual-topups" not in aliases
    with pytest.raises(metronome.BadRequestError) as again:
        sdk.v2.contracts.edit(**ids, archive_spend_trackers=["manual-topups"])
    assert again.value.body["field"] == "archive_spend_trackers[0]"


def test_override_specifiers_name_added_or_existing_commits(sdk, ids, product):
    edited = sdk.v2.contracts.edit(
        **ids,
        add_commits=[
            {
                "product_id": str(product.id),
                "type": "PREPAID",
                "temporary_id": "new-commit",
                "access_schedule": {
                    "schedule_items": [
                        {
                            "amount": 100,
                            "starting_at": at(2024, 1, 1),
                            "ending_before": at(2024, 6, 1),
                        }
                    ]
                },
            }
        ],
        add_overrides=[
            {
                "starting_at": at(2024, 1, 1),
                "type": "MULTIPLIER",
                "multiplier": 0.5,
                "override_specifiers": [{"commit_ids": ["new-commit"]}],
            }
        ],
    )
    commit_id = edited.data.edit.add_commits[0].id
    assert edited.data.edit.add_overrides[0].override_specifiers[0].commit_ids == [commit_id]
    with pytest.raises(metronome.BadRequestError) as unknown:
        sdk.v2.contracts.edit(
            **ids,
            add_overrides=[
                {
                    "starting_at": at(2024, 1, 1),
                    "multiplier": 0.5,
                    "type": "MULTIPLIER",
                    "override_specifiers": [{"commit_ids": ["nope"]}],
                }
            ],
        )
    assert unknown.value.body["field"] == "add_overrides[0].override_specifiers[0].commit_ids"


def test_edited_terms_survive_a_later_end_and_archived_contracts_refuse_edits(sdk, ids, product):
    edited = sdk.v2.contracts.edit(
        **ids,
        add_credits=[
            {
                "product_id": str(product.id),
                "access_schedule": {
                    "schedule_items": [
                        {
                            "amount": 7,
                            "starting_at": at(2024, 2, 1),
                            "ending_before": at(2024, 3, 1),
                        }
                    ]
                },
            }
        ],
    )
    credit_id = edited.data.edit.add_credits[0].id
    sdk.v2.contracts.edit(**ids, update_contract_end_date=at(2024, 6, 1))
    sdk.v1.contracts.update_end_date(**ids, ending_before=at(2025, 6, 1))
    contract = sdk.v2.contracts.retrieve(**ids).data
    assert contract.ending_before == at(2025, 6, 1)
    assert credit_id in {c.id for c in contract.credits}
    assert contract.to_dict()["package_id"] is not None
    sdk.v1.contracts.archive(**ids, void_invoices=False)
    with pytest.raises(metronome.BadRequestError) as archived:
        sdk.v2.contracts.edit(**ids, update_contract_name="x")
    assert archived.value.body["field"] == "contract_id"


def test_an_edited_package_term_keeps_its_edit_when_the_end_moves_later(sdk, ids):
    contract = sdk.v2.contracts.retrieve(**ids).data
    commit = contract.commits[0]
    item = commit.access_schedule.schedule_items[0]
    untouched = contract.credits[0]
    sdk.v2.contracts.edit(
        **ids,
        update_commits=[
            {
                "commit_id": commit.id,
                "access_schedule": {"update_schedule_items": [{"id": item.id, "amount": 77}]},
            }
        ],
    )
    sdk.v1.contracts.update_end_date(**ids, ending_before=at(2026, 1, 1))
    after = sdk.v2.contracts.retrieve(**ids).data
    edited = next(c for c in after.commits if c.id == commit.id)
    assert edited.access_schedule.schedule_items[0].amount == 77
    assert len([c for c in after.commits if c.recurring_commit_id is None]) == len(
        [c for c in contract.commits if c.recurring_commit_id is None]
    )
    assert untouched.id in {c.id for c in after.credits}
