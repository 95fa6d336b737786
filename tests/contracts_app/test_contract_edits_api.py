"""Editing provisioned contracts through the official SDK in strict mode: v2 contracts/edit,
get/list, getEditHistory, commits/edit, credits/edit and v1 contracts/amend."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import metronome
import pytest

from contracts_app.models import Contract, ContractEdit, ContractTerm
from tests.contracts_app.contract_builders import (
    at,
    make_billing_configuration,
    make_customer,
    recurring_credit_edit,
)

UTC = dt.UTC


@pytest.fixture
def customer(transactional_db):
    customer = make_customer()
    make_billing_configuration(customer)
    return customer


@pytest.fixture
def provisioned(sdk, customer, package):
    created = sdk.v1.contracts.create(
        customer_id=str(customer.id), starting_at=at(2024, 1, 1), package_id=str(package.id)
    )
    return created.data.id


def credit(product, amount=500, start=at(2024, 2, 1), end=at(2024, 5, 1)):
    return {
        "product_id": str(product.id),
        "name": "Goodwill credit",
        "access_schedule": {
            "schedule_items": [{"amount": amount, "starting_at": start, "ending_before": end}]
        },
    }


def test_edit_adds_archives_and_updates_then_get_and_history_show_it(
    sdk, customer, package, product, provisioned
):
    # given a contract provisioned from a package
    ids = {"customer_id": str(customer.id), "contract_id": provisioned}
    before = sdk.v2.contracts.retrieve(**ids).data
    first_commit = before.commits[0]
    override = before.overrides[0]

    # when a sales-led edit adds a credit, a discount override and a recurring credit,
    # archives the package commit, removes the override and renames the contract
    edited = sdk.v2.contracts.edit(
        **ids,
        add_credits=[credit(product)],
        add_overrides=[
            {
                "starting_at": at(2024, 3, 1),
                "ending_before": at(2024, 6, 1),
                "type": "MULTIPLIER",
                "multiplier": 0.8,
                "product_id": str(product.id),
            }
        ],
        add_recurring_credits=[
            recurring_credit_edit(
                product, at(2024, 4, 1), at(2024, 7, 1), recurrence_frequency="MONTHLY"
            )
        ],
        archive_commits=[{"id": first_commit.id}],
        remove_overrides=[{"id": override.id}],
        update_contract_name="Acme (negotiated)",
        update_net_payment_terms_days=45,
        add_discounts=[
            {
                "product_id": str(product.id),
                "schedule": {"schedule_items": [{"timestamp": at(2024, 2, 1), "amount": 100}]},
            }
        ],
        uniqueness_key="edit-1",
    )
    assert edited.data.id == provisioned
    assert edited.data.edit.add_credits[0].product.id == str(product.id)

    # then the v2 contract shows the edit applied, still on its package
    after = sdk.v2.contracts.retrieve(**ids).data
    assert after.name == "Acme (negotiated)"
    assert after.net_payment_terms_days == 45
    assert after.to_dict()["package_id"] == str(package.id)
    archived = next(c for c in after.commits if c.id == first_commit.id)
    assert archived.archived_at is not None
    assert override.id not in {o.id for o in after.overrides}
    added = [c for c in after.credits if c.name == "Goodwill credit"]
    assert len(added) == 1
    assert added[0].access_schedule.schedule_items[0].amount == 500
    assert any(o.multiplier == 0.8 for o in after.overrides)
    # the recurring credit is expanded into its three monthly periods, as at provisioning
    recurring = [r for r in after.recurring_credits if r.starting_at == at(2024, 4, 1)]
    assert len(recurring) == 1
    periods = [c for c in after.credits if c.recurring_credit_id == recurring[0].id]
    assert [p.access_schedule.schedule_items[0].starting_at for p in periods] == [
        at(2024, 4, 1),
        at(2024, 5, 1),
        at(2024, 6, 1),
    ]
    assert after.discounts[0].schedule.schedule_items[0].amount == 100

    # and the history lists the edit, with who made it
    history = sdk.v2.contracts.get_edit_history(**ids).data
    assert len(history) == 1
    entry = history[0]
    assert entry.id == edited.data.edit.id
    assert entry.uniqueness_key == "edit-1"
    assert entry.archive_commits[0].id == first_commit.id
    assert entry.remove_overrides[0].id == override.id
    assert entry.update_contract_name == "Acme (negotiated)"
    assert entry.to_dict()["created_by"]
    assert entry.timestamp is not None

    # and the contract is still in its package's cohort
    cohort = sdk.v1.packages.list_contracts_on_package(package_id=str(package.id))
    assert provisioned in {item.contract_id for item in cohort.data}

    # and v1 get shows the same current state; `initial` lacks the added credit
    v1 = sdk.v1.contracts.retrieve(**ids).data
    assert v1.package_id == str(package.id)
    assert "Goodwill credit" in {c.name for c in v1.current.credits}
    assert "Goodwill credit" not in {c.name for c in v1.initial.credits or []}


def test_a_chain_of_edits_gives_the_expected_state_and_history_in_order(
    sdk, customer, product, provisioned
):
    ids = {"customer_id": str(customer.id), "contract_id": provisioned}
    first = sdk.v2.contracts.edit(**ids, add_credits=[credit(product, amount=100)])
    credit_id = first.data.edit.add_credits[0].id
    item_id = first.data.edit.add_credits[0].access_schedule.schedule_items[0].id
    sdk.v2.contracts.edit(
        **ids,
        update_credits=[
            {
                "credit_id": credit_id,
                "name": "Renamed",
                "access_schedule": {
                    "update_schedule_items": [{"id": item_id, "amount": 250}],
                    "add_schedule_items": [
                        {
                            "amount": 50,
                            "starting_at": at(2024, 5, 1),
                            "ending_before": at(2024, 6, 1),
                        }
                    ],
                },
            }
        ],
    )
    sdk.v2.contracts.edit(**ids, update_contract_end_date=at(2024, 9, 1))
    sdk.v2.contracts.edit(**ids, archive_credits=[{"id": credit_id}])

    contract = sdk.v2.contracts.retrieve(**ids).data
    edited = next(c for c in contract.credits if c.id == credit_id)
    assert edited.name == "Renamed"
    assert [i.amount for i in edited.access_schedule.schedule_items] == [250, 50]
    assert edited.archived_at is not None
    assert contract.ending_before == at(2024, 9, 1)
    # the package's terms were clipped to the new end
    assert all(
        c.access_schedule.schedule_items[-1].ending_before <= at(2024, 9, 1)
        for c in contract.commits
    )

    history = sdk.v2.contracts.get_edit_history(**ids).data
    assert [bool(h.add_credits) for h in history] == [True, False, False, False]
    assert history[1].update_credits[0].id == credit_id
    assert history[2].update_contract_end_date == at(2024, 9, 1)
    assert history[3].archive_credits[0].id == credit_id
    assert [h.timestamp for h in history] == sorted(h.timestamp for h in history)


def test_unknown_and_archived_term_ids_are_400_naming_the_field(sdk, customer, provisioned):
    ids = {"customer_id": str(customer.id), "contract_id": provisioned}
    with pytest.raises(metronome.BadRequestError) as unknown:
        sdk.v2.contracts.edit(**ids, archive_commits=[{"id": "not-a-term"}])
    assert unknown.value.body["field"] == "archive_commits[0].id"
    commit_id = sdk.v2.contracts.retrieve(**ids).data.commits[0].id
    sdk.v2.contracts.edit(**ids, archive_commits=[{"id": commit_id}])
    with pytest.raises(metronome.BadRequestError) as archived:
        sdk.v2.contracts.edit(**ids, update_commits=[{"commit_id": commit_id, "name": "x"}])
    assert archived.value.body["field"] == "update_commits[0].commit_id"
    assert "archived" in archived.value.body["message"]
    with pytest.raises(metronome.BadRequestError) as bad_item:
        sdk.v2.contracts.edit(**ids, extra_body={"add_comits": []})
    assert "add_comits" in str(bad_item.value.body)


def test_an_edit_failing_half_way_writes_nothing(sdk, customer, product, provisioned):
    ids = {"customer_id": str(customer.id), "contract_id": provisioned}
    terms_before = ContractTerm.objects.filter(contract_id=provisioned).count()
    name_before = Contract.objects.get(id=provisioned).name
    # given an edit whose adds and rename are valid but whose last part names an unknown term
    with pytest.raises(metronome.BadRequestError) as failed:
        sdk.v2.contracts.edit(
            **ids,
            add_credits=[credit(product)],
            update_contract_name="Never",
            update_scheduled_charges=[
                {"scheduled_charge_id": "00000000-0000-4000-8000-000000000000"}
            ],
        )
    assert failed.value.body["field"] == "update_scheduled_charges[0].scheduled_charge_id"
    # then nothing was written
    assert ContractTerm.objects.filter(contract_id=provisioned).count() == terms_before
    assert Contract.objects.get(id=provisioned).name == name_before
    assert not ContractEdit.objects.filter(contract_id=provisioned).exists()


def test_reused_uniqueness_key_is_409_and_writes_nothing(sdk, customer, product, provisioned):
    ids = {"customer_id": str(customer.id), "contract_id": provisioned}
    sdk.v2.contracts.edit(**ids, add_credits=[credit(product)], uniqueness_key="once")
    terms = ContractTerm.objects.filter(contract_id=provisioned).count()
    with pytest.raises(metronome.ConflictError) as conflict:
        sdk.v2.contracts.edit(**ids, add_credits=[credit(product)], uniqueness_key="once")
    assert conflict.value.body["field"] == "uniqueness_key"
    assert ContractTerm.objects.filter(contract_id=provisioned).count() == terms


def test_unknown_contract_404_and_unknown_product_400(sdk, customer, product, provisioned):
    with pytest.raises(metronome.NotFoundError):
        sdk.v2.contracts.edit(
            customer_id=str(customer.id),
            contract_id="00000000-0000-4000-8000-000000000000",
            update_contract_name="x",
        )
    with pytest.raises(metronome.BadRequestError) as unknown:
        sdk.v2.contracts.edit(
            customer_id=str(customer.id),
            contract_id=provisioned,
            add_credits=[{**credit(product), "product_id": "00000000-0000-4000-8000-000000000000"}],
        )
    assert unknown.value.body["field"] == "add_credits[0].product_id"


def test_edit_needs_the_change_permission(sdk_for, customer, provisioned):
    reader = sdk_for("contracts_app.view_contract")
    with pytest.raises(metronome.PermissionDeniedError):
        reader.v2.contracts.edit(
            customer_id=str(customer.id), contract_id=provisioned, update_contract_name="x"
        )
    assert (
        reader.v2.contracts.get_edit_history(
            customer_id=str(customer.id), contract_id=provisioned
        ).data
        == []
    )


def test_commits_edit_and_credits_edit(sdk, customer, product, provisioned):
    ids = {"customer_id": str(customer.id), "contract_id": provisioned}
    contract = sdk.v2.contracts.retrieve(**ids).data
    commit = contract.commits[0]
    item = commit.access_schedule.schedule_items[0]
    answer = sdk.v2.contracts.edit_commit(
        commit_id=commit.id,
        customer_id=str(customer.id),
        name="Edited commit",
        access_schedule={"update_schedule_items": [{"id": item.id, "amount": 1234}]},
    )
    assert answer.data.id == commit.id
    credit_id = contract.credits[0].id
    sdk.v2.contracts.edit_credit(credit_id=credit_id, customer_id=str(customer.id), priority=7)

    after = sdk.v2.contracts.retrieve(**ids).data
    edited = next(c for c in after.commits if c.id == commit.id)
    assert edited.name == "Edited commit"
    assert edited.access_schedule.schedule_items[0].amount == 1234
    assert next(c for c in after.credits if c.id == credit_id).priority == 7
    history = sdk.v2.contracts.get_edit_history(**ids).data
    assert [h.update_commits[0].id if h.update_commits else None for h in history] == [
        commit.id,
        None,
    ]
    assert history[1].update_credits[0].id == credit_id
    with pytest.raises(metronome.NotFoundError):
        sdk.v2.contracts.edit_commit(commit_id=credit_id, customer_id=str(customer.id), name="x")


def test_amend_adds_terms_shown_as_an_amendment(sdk, customer, product, provisioned):
    ids = {"customer_id": str(customer.id), "contract_id": provisioned}
    amended = sdk.v1.contracts.amend(
        **ids,
        starting_at=at(2024, 3, 1),
        credits=[credit(product, amount=75, start=at(2024, 3, 1), end=at(2024, 4, 1))],
        scheduled_charges=[
            {
                "product_id": str(product.id),
                "schedule": {"schedule_items": [{"timestamp": at(2024, 3, 1), "amount": 999}]},
            }
        ],
        salesforce_opportunity_id="opp-1",
    )
    contract = sdk.v1.contracts.retrieve(**ids).data
    assert len(contract.amendments) == 1
    amendment = contract.amendments[0]
    assert amendment.id == amended.data.id
    assert amendment.starting_at == at(2024, 3, 1)
    assert amendment.credits[0].access_schedule.schedule_items[0].amount == 75
    assert amendment.scheduled_charges[0].schedule.schedule_items[0].amount == 999
    charge_id = amendment.scheduled_charges[0].id
    assert charge_id in {c.id for c in contract.current.scheduled_charges}
    assert charge_id not in {c.id for c in contract.initial.scheduled_charges}
    with pytest.raises(metronome.BadRequestError) as early:
        sdk.v1.contracts.amend(**ids, starting_at=at(2023, 1, 1))
    assert early.value.body["field"] == "starting_at"


def test_v2_list_pages_contracts_with_edits_applied(sdk, customer, product, provisioned):
    sdk.v2.contracts.edit(
        customer_id=str(customer.id), contract_id=provisioned, update_contract_name="Edited"
    )
    page = sdk.v2.contracts.list(customer_id=str(customer.id))
    assert [c.name for c in page.data] == ["Edited"]
    assert (
        page.data[0].net_payment_terms_days is None
        or Decimal(str(page.data[0].net_payment_terms_days)) >= 0
    )


def test_each_edit_is_one_audit_entry_and_a_failed_edit_none(sdk, customer, product, provisioned):
    from config.audit.models import AuditLogEntry

    ids = {"customer_id": str(customer.id), "contract_id": provisioned}
    # an edit that also moves the end date is still one entry
    first = sdk.v2.contracts.edit(
        **ids, add_credits=[credit(product)], update_contract_end_date=at(2024, 10, 1)
    )
    sdk.v1.contracts.amend(**ids, starting_at=at(2024, 2, 1), credits=[credit(product)])
    with pytest.raises(metronome.BadRequestError):
        sdk.v2.contracts.edit(**ids, archive_credits=[{"id": "nope"}])
    entries = list(
        AuditLogEntry.objects.filter(resource_type="contract", resource_id=provisioned).order_by(
            "timestamp"
        )
    )
    edit_entries = [e for e in entries if e.action in ("edit", "amend")]
    assert [e.action for e in edit_entries] == ["edit", "amend"]
    assert edit_entries[0].changes["edit_id"] == first.data.edit.id
    assert edit_entries[0].changes["counts"]["add_credits"] == 1
    assert edit_entries[0].changes["ending_before"]["after"] == "2024-10-01T00:00:00Z"
    assert not [e for e in entries if e.action == "update_end_date"]


def test_v2_get_refuses_as_of_date_rather_than_answer_with_today(sdk, customer, provisioned):
    with pytest.raises(metronome.BadRequestError) as refused:
        sdk.v2.contracts.retrieve(
            customer_id=str(customer.id), contract_id=provisioned, as_of_date=at(2024, 2, 1)
        )
    assert refused.value.body["field"] == "as_of_date"


def test_a_null_end_date_makes_the_contract_open_ended(sdk, customer, provisioned):
    # given a contract with an end date
    ids = {"customer_id": str(customer.id), "contract_id": provisioned}
    assert sdk.v2.contracts.retrieve(**ids).data.ending_before == at(2025, 1, 1)
    # when an edit sends update_contract_end_date null (the SDK's type allows None)
    sdk.v2.contracts.edit(**ids, update_contract_end_date=None)
    # then the contract is open-ended and the history records the clearing
    assert sdk.v2.contracts.retrieve(**ids).data.ending_before is None
    (entry,) = sdk.v2.contracts.get_edit_history(**ids).data
    assert entry.update_contract_end_date is None
    assert "update_contract_end_date" in entry.model_fields_set
