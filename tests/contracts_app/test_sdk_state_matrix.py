"""Every contract state the product can produce, read back through the official SDK in strict
mode (issue 17): a response the SDK refuses fails the test and names the state and the read.

Batches of cohort migrations run in-process here (the engine's services); what the services
queue on commit goes to a queue of this test's own, which no worker consumes and which is
deleted afterwards."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import metronome
import pytest
from django.utils import timezone

from contracts_app.models import CohortMigrationItem, Contract
from contracts_app.services import cohort_migrations as services
from contracts_app.services.cohort_migration_batches import migration_batch_run
from contracts_app.services.pricing_plan_schedules import (
    pricing_plan_schedule_create,
    pricing_plan_schedule_migrate,
    pricing_plan_subscription_create,
)
from contracts_app.services.provisioning import contract_provision
from contracts_app.tasks import recurring_terms_extend_task
from packages_app.services.aliases import alias_assign
from tests.conftest import forget_queue
from tests.contracts_app.cohort_builders import T0, cohort, run_to_end, two_packages
from tests.contracts_app.contract_builders import (
    eight_terms,
    make_customer,
    make_package,
    make_product,
    offset,
    recurring_term,
)

AT = T0 + dt.timedelta(days=40)


@pytest.fixture(autouse=True)
def private_bulk_queue(settings, transactional_db):
    settings.BULK_QUEUE = f"sdk-matrix-{uuid.uuid4().hex}"
    yield settings.BULK_QUEUE
    forget_queue(settings.BULK_QUEUE)


def migrate(source, target, effective: dict, **kwargs):
    data = services.migration_input(
        source={"package_id": source.id},
        target={"package_id": target.id},
        effective=effective,
        customer_ids=kwargs.pop("customer_ids", None),
        **kwargs,
    )
    migration = services.cohort_migration_create(data=data)
    assert services.migration_start(migration_id=migration.id)
    return run_to_end(migration)


def test_contracts_moved_mid_term_read_through_the_strict_sdk(sdk):
    # given a contract moved by an AT job and one moved by a NEXT_BILLING_PERIOD job
    source, target = two_packages()
    moved = []
    for effective in ({"type": "AT", "at": AT}, {"type": "NEXT_BILLING_PERIOD", "not_before": AT}):
        (old,) = cohort(source, 1, name=effective["type"])
        migration = migrate(source, target, effective, customer_ids=[old.customer_id])
        assert migration.status == "COMPLETED"
        moved.append(
            (old, Contract.objects.get(subscription_id=old.subscription_id, package=target))
        )
    # when the old and the new contract are read through the SDK in strict mode, then the SDK
    # accepts them, linked by a RENEWAL
    for old, new in moved:
        customer_id = str(old.customer_id)
        for contract in (old, new):
            ids = {"customer_id": customer_id, "contract_id": str(contract.id)}
            v1 = sdk.v1.contracts.retrieve(**ids).data.current
            v2 = sdk.v2.contracts.retrieve(**ids).data
            assert [t.type for t in v1.transitions] == ["RENEWAL"]
            assert [(t.from_contract_id, t.to_contract_id) for t in v2.transitions] == [
                (str(old.id), str(new.id))
            ]
        assert len(sdk.v2.contracts.list(customer_id=customer_id).data) == 2
        assert len(sdk.v1.contracts.list(customer_id=customer_id).data) == 2


def test_links_stored_as_supersede_read_as_renewal_after_the_data_migration(sdk):
    from importlib import import_module

    from django.db import connection

    rewrite = import_module("contracts_app.migrations.0008_transition_type_supersede_to_renewal")
    # given a moved contract whose links were stored as SUPERSEDE (as before the fix), and an
    # item whose revert snapshot holds such a link from an earlier move
    source, target = two_packages()
    (old,) = cohort(source, 1)
    migration = migrate(source, target, {"type": "AT", "at": AT})
    new = Contract.objects.get(subscription_id=old.subscription_id, package=target)
    for contract in Contract.objects.filter(id__in=[old.id, new.id]):
        settings = contract.settings
        settings["transitions"] = [{**t, "type": "SUPERSEDE"} for t in settings["transitions"]]
        if "transition" in settings:
            settings["transition"]["type"] = "SUPERSEDE"
        contract.save(update_fields=["settings"])
    item = CohortMigrationItem.objects.get(migration=migration)
    earlier = {"from_contract_id": str(uuid.uuid4()), "to_contract_id": str(old.id)}
    item.snapshot["settings"]["transitions"] = [{**earlier, "type": "SUPERSEDE"}]
    item.snapshot["settings"]["transition"] = {"type": "SUPERSEDE", "from_contract_id": "x"}
    item.save(update_fields=["snapshot"])
    # when the data migration runs
    with connection.cursor() as cursor:
        for statement in rewrite.REWRITE_SQL:
            cursor.execute(statement)
    # then nothing stored says SUPERSEDE, the SDK reads both contracts, and so after a revert
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM contracts_app_contract WHERE settings::text "
            "LIKE '%%SUPERSEDE%%') + (SELECT count(*) FROM contracts_app_cohortmigrationitem "
            "WHERE snapshot::text LIKE '%%SUPERSEDE%%')"
        )
        assert cursor.fetchone() == (0,)
    for contract in Contract.objects.filter(id__in=[old.id, new.id]):
        ids = {"customer_id": str(old.customer_id), "contract_id": str(contract.id)}
        assert [t.type for t in sdk.v1.contracts.retrieve(**ids).data.current.transitions] == [
            "RENEWAL"
        ]
    item.refresh_from_db()
    assert item.snapshot["settings"]["transitions"] == [{**earlier, "type": "RENEWAL"}]
    assert item.snapshot["settings"]["transition"]["type"] == "RENEWAL"
    run_to_end(services.cohort_migration_revert(migration=migration), revert=True)
    ids = {"customer_id": str(old.customer_id), "contract_id": str(old.id)}
    assert [t.type for t in sdk.v2.contracts.retrieve(**ids).data.transitions] == ["RENEWAL"]


# --- the matrix -------------------------------------------------------------------------------


@dataclass(frozen=True)
class State:
    name: str
    customer_id: str
    contract_id: str
    package_id: str | None = None
    customer_archived: bool = False

    @property
    def ids(self) -> dict:
        return {"customer_id": self.customer_id, "contract_id": self.contract_id}


@dataclass(frozen=True)
class Read:
    """One SDK read. A list read answers the ids it lists, which must hold the state's
    contract (or customer); states whose request is the same (`shared_by`: one customer's
    contracts, one package's) share one answer."""

    fetch: Callable
    shared_by: Callable[[State], str | None] = lambda s: s.name
    lists: str = ""  # "contract" | "customer"


def _ids(page) -> list[str]:
    return [getattr(item, "contract_id", None) or item.id for item in page]


def _contracts_list(version: str) -> Read:
    """The customer's contracts, archived too, through one API version's list."""
    return Read(
        lambda sdk, s: _ids(
            getattr(sdk, version).contracts.list(customer_id=s.customer_id, include_archived=True)
        ),
        shared_by=lambda s: s.customer_id,
        lists="contract",
    )


READS = {
    "v1 contracts get": Read(lambda sdk, s: sdk.v1.contracts.retrieve(**s.ids)),
    "v1 contracts list": _contracts_list("v1"),
    "v2 contracts get": Read(lambda sdk, s: sdk.v2.contracts.retrieve(**s.ids)),
    "v2 contracts list": _contracts_list("v2"),
    "v2 getEditHistory": Read(lambda sdk, s: sdk.v2.contracts.get_edit_history(**s.ids)),
    # A negotiated contract is on no package: it has no such read (shared_by None).
    "listContractsOnPackage": Read(
        lambda sdk, s: _ids(
            sdk.v1.packages.list_contracts_on_package(
                package_id=s.package_id, include_archived=True
            )
        ),
        shared_by=lambda s: s.package_id,
        lists="contract",
    ),
    "customers get": Read(
        lambda sdk, s: sdk.v1.customers.retrieve(customer_id=s.customer_id),
        shared_by=lambda s: s.customer_id,
    ),
    "customers list": Read(
        lambda sdk, s: _ids(
            sdk.v1.customers.list(customer_ids=[s.customer_id], only_archived=s.customer_archived)
        ),
        shared_by=lambda s: s.customer_id,
        lists="customer",
    ),
}


# --- the states, built through the API (SDK) and the services --------------------------------

USD_CENTS = "2714e483-4ff1-48e4-9e25-ac732e8f24f2"


def at(month: int, day: int = 1, year: int = 2030) -> dt.datetime:
    return dt.datetime(year, month, day, tzinfo=dt.UTC)


def _access(amount, start, end) -> dict:
    return {"schedule_items": [{"amount": amount, "starting_at": start, "ending_before": end}]}


def _terms(product) -> dict:
    """One term of every kind contracts/create and contracts/edit take, dated inside 2030."""
    pid = str(product.id)
    return {
        "commits": [
            {
                "product_id": pid,
                "type": "PREPAID",
                "name": "Negotiated commit",
                "access_schedule": _access(1000, at(1), at(7)),
                "invoice_schedule": {
                    "schedule_items": [{"timestamp": at(1), "quantity": 1, "unit_price": 1000}]
                },
            }
        ],
        "credits": [{"product_id": pid, "access_schedule": _access(500, at(2), at(5))}],
        "overrides": [
            {
                "starting_at": at(3),
                "ending_before": at(6),
                "type": "MULTIPLIER",
                "multiplier": 0.8,
                "product_id": pid,
            }
        ],
        "scheduled_charges": [
            {
                "product_id": pid,
                "name": "Onboarding",
                "schedule": {"schedule_items": [{"timestamp": at(2), "amount": 999}]},
            }
        ],
        "recurring_credits": [
            {
                "product_id": pid,
                "priority": 1,
                "starting_at": at(4),
                "ending_before": at(7),
                "access_amount": {"unit_price": 100},
                "commit_duration": {"value": 1},
                "recurrence_frequency": "MONTHLY",
            }
        ],
        "recurring_commits": [
            {
                "product_id": pid,
                "priority": 1,
                "starting_at": at(1),
                "ending_before": at(4),
                "access_amount": {"unit_price": 200, "quantity": 1, "credit_type_id": USD_CENTS},
                "invoice_amount": {"unit_price": 200, "quantity": 1, "credit_type_id": USD_CENTS},
                "commit_duration": {"value": 1, "unit": "PERIODS"},
                "recurrence_frequency": "MONTHLY",
            }
        ],
        "subscriptions": [
            {
                "collection_schedule": "ADVANCE",
                "proration": {"is_prorated": True},
                "subscription_rate": {"billing_frequency": "MONTHLY", "product_id": pid},
                "initial_quantity": 5,
                "starting_at": at(2),
                "name": "Seats",
            }
        ],
        "discounts": [
            {
                "product_id": pid,
                "schedule": {"schedule_items": [{"timestamp": at(2), "amount": 50}]},
            }
        ],
        "professional_services": [
            {"product_id": pid, "max_amount": 5000, "quantity": 2, "unit_price": 1000}
        ],
        "reseller_royalties": [
            {
                "reseller_type": "AWS",
                "fraction": 0.1,
                "netsuite_reseller_id": "ns-1",
                "aws_options": {"aws_offer_id": "offer-1"},
                "starting_at": at(1),
            }
        ],
        "spend_trackers": [
            {
                "alias": "manual-topups",
                "applicable_spend_specifiers": [
                    {"sources": ["MANUAL"], "spend_type": "COMMIT_PURCHASE"}
                ],
                "credit_type_id": USD_CENTS,
                "reset_frequency": "BILLING_PERIOD",
            }
        ],
    }


def _thresholds(product) -> dict:
    pid = str(product.id)
    return {
        "spend_threshold_configuration": {
            "commit": {"product_id": pid, "name": "Threshold"},
            "is_enabled": True,
            "payment_gate_config": {"payment_gate_type": "NONE"},
            "threshold_amount": 1000,
        },
        "prepaid_balance_threshold_configuration": {
            "commit": {"product_id": pid, "name": "Top-up"},
            "is_enabled": True,
            "payment_gate_config": {"payment_gate_type": "NONE"},
            "threshold_amount": 100,
            "recharge_to_amount": 1000,
        },
    }


class Builder:
    """Builds each state on a customer of its own and records it."""

    def __init__(self, sdk):
        self.sdk = sdk
        self.states: list[State] = []
        self.source, self.target = two_packages()
        self.product = make_product("Negotiated")

    def add(self, name: str, contract, *, package_id=None, customer_archived=False) -> None:
        if isinstance(contract, Contract):
            package_id = package_id or contract.package_id
            customer_id, contract_id = contract.customer_id, contract.id
        else:  # (customer_id, contract_id)
            customer_id, contract_id = contract
        self.states.append(
            State(
                name,
                str(customer_id),
                str(contract_id),
                str(package_id) if package_id else None,
                customer_archived,
            )
        )

    def provisioned(self, name: str) -> dict:
        """A contract from the source package through contracts/create; its ids."""
        customer = make_customer(name)
        created = self.sdk.v1.contracts.create(
            customer_id=str(customer.id), starting_at=T0, package_id=str(self.source.id)
        )
        return {"customer_id": str(customer.id), "contract_id": created.data.id}

    def contract(self, ids: dict) -> Contract:
        return Contract.objects.get(id=ids["contract_id"])


def provisioning_states(b: Builder) -> None:
    sdk = b.sdk
    b.add("provisioned by package id", b.contract(b.provisioned("By id")))
    alias_assign(kind="package", name="Starter", package=b.source, starting_at=at(1, year=2029))
    alias_assign(kind="package", name="Starter", package=b.target, starting_at=at(6))
    customer = make_customer("By alias")
    created = sdk.v1.contracts.create(
        customer_id=str(customer.id), starting_at=T0, package_alias="Starter"
    )
    b.add("provisioned by package alias", b.contract({"contract_id": created.data.id}))
    customer = make_customer("Negotiated")
    created = sdk.v1.contracts.create(
        customer_id=str(customer.id),
        starting_at=T0,
        ending_before=at(1, year=2031),
        name="Negotiated deal",
        rate_card_id=str(b.source.rate_card_id),
        net_payment_terms_days=30,
        usage_statement_schedule={"frequency": "MONTHLY"},
        **_terms(b.product),
        **_thresholds(b.product),
    )
    b.add("negotiated (no package, every kind of term)", (customer.id, created.data.id))
    customer = sdk.v1.customers.create(
        name="Billed through Stripe",
        external_id="billed-ext",
        ingest_aliases=["billed", "billed@example.com"],
        custom_fields={"tier": "gold"},
        customer_billing_provider_configurations=[
            {
                "billing_provider": "stripe",
                "delivery_method": "direct_to_billing_provider",
                "configuration": {"stripe_customer_id": "cus_123"},
            }
        ],
    ).data
    billed = make_package(
        name="Billed",
        rate_card=b.source.rate_card,
        terms=eight_terms(b.product),
        billing_provider="stripe",
        delivery_method="direct_to_billing_provider",
    )
    created = sdk.v1.contracts.create(
        customer_id=customer.id, starting_at=T0, package_id=str(billed.id)
    )
    contract = b.contract({"contract_id": created.data.id})
    assert contract.billing_provider_configuration_id is not None
    b.add("provisioned with a billing provider configuration (customer with aliases)", contract)
    ids = b.provisioned("Renewed")
    renewal = sdk.v1.contracts.create(
        customer_id=ids["customer_id"],
        starting_at=at(1, year=2031),
        package_id=str(b.target.id),
        transition={"from_contract_id": ids["contract_id"], "type": "RENEWAL"},
    )
    b.add("renewed by contracts/create: old", b.contract(ids))
    b.add("renewed by contracts/create: new", b.contract({"contract_id": renewal.data.id}))


def _first(terms, **absent):
    """The first term not generated by a recurring one."""
    return next(t for t in terms if not any(getattr(t, key, None) for key in absent))


def edit_states(b: Builder) -> None:
    sdk, pid = b.sdk, str(b.product.id)
    terms, thresholds = _terms(b.product), _thresholds(b.product)

    def edit(**changes):
        return lambda ids, _: sdk.v2.contracts.edit(**ids, **changes)

    def thresholds_updated(ids, _):
        sdk.v2.contracts.edit(
            **ids,
            add_spend_threshold_configuration=thresholds["spend_threshold_configuration"],
            add_prepaid_balance_threshold_configuration=thresholds[
                "prepaid_balance_threshold_configuration"
            ],
        )
        sdk.v2.contracts.edit(
            **ids,
            update_spend_threshold_configuration={"threshold_amount": 2500, "is_enabled": False},
            update_prepaid_balance_threshold_configuration={
                "recharge_to_amount": 2000,
                "commit": {"name": "Top-up (renamed)"},
            },
        )

    def commits_and_credits_updated(ids, contract):
        credit = _first(contract.credits, recurring_credit_id=True)
        item = credit.access_schedule.schedule_items[0]
        sdk.v2.contracts.edit(
            **ids,
            update_commits=[
                {"commit_id": _first(contract.commits, recurring_commit_id=True).id, "name": "N"}
            ],
            update_credits=[
                {
                    "credit_id": credit.id,
                    "priority": 5,
                    "access_schedule": {"update_schedule_items": [{"id": item.id, "amount": 123}]},
                }
            ],
        )

    def scheduled_charge_updated(ids, contract):
        charge = contract.scheduled_charges[0]
        sdk.v2.contracts.edit(
            **ids,
            update_scheduled_charges=[
                {
                    "scheduled_charge_id": charge.id,
                    "invoice_schedule": {
                        "remove_schedule_items": [{"id": charge.schedule.schedule_items[0].id}],
                        "add_schedule_items": [{"timestamp": at(6), "amount": 4321}],
                    },
                }
            ],
        )

    def recurring_updated(ids, contract):
        sdk.v2.contracts.edit(
            **ids,
            update_recurring_credits=[
                {
                    "recurring_credit_id": contract.recurring_credits[0].id,
                    "access_amount": {"unit_price": 250},
                }
            ],
            update_recurring_commits=[
                {"recurring_commit_id": contract.recurring_commits[0].id, "ending_before": at(7)}
            ],
        )

    def subscription_updated(ids, contract):
        sdk.v2.contracts.edit(
            **ids,
            update_subscriptions=[
                {
                    "subscription_id": contract.subscriptions[0].id,
                    "name": "Seats (renamed)",
                    "quantity_updates": [{"starting_at": at(5), "quantity": 8}],
                }
            ],
        )

    def schedule_items_changed(ids, contract):
        commit = _first(contract.commits, recurring_commit_id=True)
        credit = _first(contract.credits, recurring_credit_id=True)
        sdk.v2.contracts.edit(
            **ids,
            update_commits=[
                {
                    "commit_id": commit.id,
                    "access_schedule": {
                        "add_schedule_items": [
                            {"amount": 50, "starting_at": at(8), "ending_before": at(9)}
                        ]
                    },
                    "invoice_schedule": {
                        "add_schedule_items": [
                            {"timestamp": at(8), "quantity": 1, "unit_price": 50}
                        ]
                    },
                }
            ],
            update_credits=[
                {
                    "credit_id": credit.id,
                    "access_schedule": {
                        "add_schedule_items": [
                            {"amount": 20, "starting_at": at(6), "ending_before": at(7)}
                        ],
                        "remove_schedule_items": [
                            {"id": credit.access_schedule.schedule_items[0].id}
                        ],
                    },
                }
            ],
        )

    def seats(ids, contract):
        added = sdk.v2.contracts.edit(
            **ids,
            add_subscriptions=[
                {
                    "collection_schedule": "ADVANCE",
                    "proration": {"is_prorated": True},
                    "subscription_rate": {"billing_frequency": "MONTHLY", "product_id": pid},
                    "quantity_management_mode": "SEAT_BASED",
                    "seat_config": {"initial_seat_ids": ["a", "b"], "seat_group_key": "team"},
                    "starting_at": at(2),
                }
            ],
        )
        sdk.v2.contracts.edit(
            **ids,
            update_subscriptions=[
                {
                    "subscription_id": added.data.edit.add_subscriptions[0].id,
                    "seat_updates": {
                        "add_seat_ids": [{"seat_ids": ["c"], "starting_at": at(4)}],
                        "remove_seat_ids": [{"seat_ids": ["a"], "starting_at": at(5)}],
                        "add_unassigned_seats": [{"quantity": 2, "starting_at": at(6)}],
                    },
                }
            ],
        )

    def archived_terms(ids, contract):
        sdk.v2.contracts.edit(
            **ids,
            archive_commits=[{"id": _first(contract.commits, recurring_commit_id=True).id}],
            archive_credits=[{"id": _first(contract.credits, recurring_credit_id=True).id}],
            archive_scheduled_charges=[{"id": contract.scheduled_charges[0].id}],
            remove_overrides=[{"id": contract.overrides[0].id}],
            archive_spend_trackers=[contract.spend_trackers[0].alias],
        )

    def commit_and_credit_edited(ids, contract):
        customer_id = ids["customer_id"]
        commit = _first(contract.commits, recurring_commit_id=True)
        credit = _first(contract.credits, recurring_credit_id=True)
        sdk.v2.contracts.edit_commit(commit_id=commit.id, customer_id=customer_id, name="Renamed")
        sdk.v2.contracts.edit_credit(credit_id=credit.id, customer_id=customer_id, priority=7)

    edits = {
        "v2 edit: add every kind of term": edit(**{f"add_{k}": v for k, v in terms.items()}),
        "v2 edit: add thresholds": edit(
            add_spend_threshold_configuration=thresholds["spend_threshold_configuration"],
            add_prepaid_balance_threshold_configuration=thresholds[
                "prepaid_balance_threshold_configuration"
            ],
        ),
        "v2 edit: update thresholds": thresholds_updated,
        "v2 edit: billing provider and revenue system updates": edit(
            add_billing_provider_configuration_update={
                "billing_provider_configuration": {"billing_provider": "stripe"},
                "schedule": {"effective_at": "START_OF_NEXT_PERIOD"},
            },
            add_revenue_system_configuration_update={
                "revenue_system_configuration": {"provider": "netsuite"},
                "schedule": {"effective_at": "START_OF_NEXT_PERIOD"},
            },
            allow_contract_ending_before_finalized_invoice=True,
        ),
        "v2 edit: update commits and credits": commits_and_credits_updated,
        "v2 edit: update scheduled charges": scheduled_charge_updated,
        "v2 edit: update recurring commits and credits": recurring_updated,
        "v2 edit: update subscriptions": subscription_updated,
        "v2 edit: schedule items added and removed": schedule_items_changed,
        "v2 edit: seat-based subscription, seats added and removed": seats,
        "v2 edit: archive terms, remove overrides and spend trackers": archived_terms,
        "v2 edit: name and payment terms": edit(
            update_contract_name="Renamed deal", update_net_payment_terms_days=45
        ),
        "v2 edit: end date moved earlier": edit(update_contract_end_date=at(9)),
        "v2 edit: open-ended (end date null)": edit(update_contract_end_date=None),
        "v2 editCommit and editCredit": commit_and_credit_edited,
        "v1 updateEndDate": lambda ids, _: sdk.v1.contracts.update_end_date(
            **ids, ending_before=at(1, year=2032)
        ),
        "v1 amend": lambda ids, _: sdk.v1.contracts.amend(
            **ids,
            starting_at=at(3),
            credits=[{"product_id": pid, "access_schedule": _access(75, at(3), at(4))}],
            scheduled_charges=terms["scheduled_charges"],
            salesforce_opportunity_id="opp-1",
        ),
    }
    for name, apply in edits.items():
        ids = b.provisioned(name)
        apply(ids, sdk.v2.contracts.retrieve(**ids).data)
        b.add(name, b.contract(ids))


def _successor(contract: Contract) -> Contract:
    contract.refresh_from_db()
    return Contract.objects.get(id=contract.settings["transitions"][-1]["to_contract_id"])


def migration_states(b: Builder) -> None:
    sdk, source, target = b.sdk, b.source, b.target

    def one(name: str) -> Contract:
        (contract,) = cohort(source, 1, name=name)
        return contract

    def job(contracts, effective, **kwargs):
        return migrate(
            source, target, effective, customer_ids=[c.customer_id for c in contracts], **kwargs
        )

    def edited(contract: Contract) -> Contract:
        sdk.v2.contracts.edit(
            customer_id=str(contract.customer_id),
            contract_id=str(contract.id),
            update_contract_name="Edited before the move",
        )
        return contract

    plain, skipped = one("AT"), edited(one("AT edited, skipped"))
    assert job([plain, skipped], {"type": "AT", "at": AT}).status == "COMPLETED"
    b.add("migrated AT: old", plain)
    b.add("migrated AT: new", _successor(plain))
    assert CohortMigrationItem.objects.get(contract=skipped).reason == "HAS_EDITS"
    b.add("edited, skipped by an AT migration", skipped)
    moved = edited(one("AT edited, migrated"))
    job([moved], {"type": "AT", "at": AT}, edited_contracts="MIGRATE")
    b.add("edited, migrated AT: old", moved)
    new = _successor(moved)
    sdk.v2.contracts.edit(
        customer_id=str(new.customer_id), contract_id=str(new.id), update_contract_name="After"
    )
    b.add("migrated AT, then the new contract edited", new)
    for timing, effective in (
        ("NEXT_BILLING_PERIOD", {"type": "NEXT_BILLING_PERIOD", "not_before": AT}),
        ("END_OF_TERM", {"type": "END_OF_TERM"}),
    ):
        old = one(timing)
        assert job([old], effective).status == "COMPLETED"
        b.add(f"migrated {timing}: old", old)
        b.add(f"migrated {timing}: new", _successor(old))
    # moved on again: the middle contract has a transition in and one out
    middle = _successor(plain)
    back = migrate(
        target,
        source,
        {"type": "AT", "at": AT + dt.timedelta(days=60)},
        customer_ids=[plain.customer_id],
    )
    assert back.status == "COMPLETED"
    b.add("migrated twice: middle", middle)
    b.add("migrated twice: last", _successor(middle))

    reverted = one("Reverted")
    migration = job([reverted], {"type": "AT", "at": AT})
    new = _successor(reverted)
    migration = run_to_end(services.cohort_migration_revert(migration=migration), revert=True)
    assert migration.status == "REVERTED"
    b.add("reverted: old (restored)", reverted)
    b.add("reverted: new (archived)", new)

    def cancelled_after_one(contracts):
        data = services.migration_input(
            source={"package_id": source.id},
            target={"package_id": target.id},
            effective={"type": "AT", "at": AT},
            customer_ids=[c.customer_id for c in contracts],
        )
        migration = services.cohort_migration_create(data=data)
        assert services.migration_start(migration_id=migration.id)
        assert migration_batch_run(migration_id=migration.id, batch_size=1) == 1
        return services.cohort_migration_cancel(migration=migration)

    undone = cohort(source, 2, name="Cancelled, then reverted")
    migration = cancelled_after_one(undone)
    (moved,) = CohortMigrationItem.objects.filter(migration=migration, status="MIGRATED")
    migration = run_to_end(services.cohort_migration_revert(migration=migration), revert=True)
    assert migration.status == "REVERTED"
    b.add("cancelled, then reverted: old (restored)", moved.contract)
    b.add("cancelled, then reverted: new (archived)", moved.new_contract)

    # a revert that keeps one customer moved (renewed after the move) and gives the other back
    kept, given_back = cohort(source, 2, name="Partially reverted")
    migration = job([kept, given_back], {"type": "AT", "at": AT})
    kept_new = _successor(kept)
    renewal = contract_provision(
        customer=kept.customer,
        package=target,
        starting_at=kept_new.ending_before,
        transition={"from_contract_id": str(kept_new.id), "type": "RENEWAL"},
    )
    migration = run_to_end(services.cohort_migration_revert(migration=migration), revert=True)
    assert migration.status == "PARTIALLY_REVERTED"
    b.add("partially reverted: kept old", kept)
    b.add("partially reverted: kept new", kept_new)
    b.add("partially reverted: renewal after the kept new", renewal)
    b.add("partially reverted: old given back", given_back)

    running = cohort(source, 3, name="Cancelled mid-run")
    migration = cancelled_after_one(running)
    items = dict(
        CohortMigrationItem.objects.filter(migration=migration).values_list("contract_id", "status")
    )
    assert sorted(items.values()) == ["CANCELLED", "CANCELLED", "MIGRATED"]
    for n, contract in enumerate(running, 1):
        status = items[contract.id].lower()
        b.add(f"cancelled mid-run: {status} ({n})", contract)
        if status == "migrated":
            b.add("cancelled mid-run: new of the migrated", _successor(contract))

    # staged rollouts (issue 22): a canary moved and its job paused, the other customer still
    # waiting; a revert of one customer's move, the other's kept
    canaried, waiting = one("Canary moved"), one("Canary, waiting")
    migration = services.cohort_migration_create(
        data=services.migration_input(
            source={"package_id": source.id},
            target={"package_id": target.id},
            effective={"type": "AT", "at": AT},
            customer_ids=[canaried.customer_id, waiting.customer_id],
        ),
        canary={"customer_ids": [canaried.customer_id]},
    )
    assert services.migration_start(migration_id=migration.id)
    assert run_to_end(migration).status == "PAUSED"
    b.add("canary moved, job paused: old", canaried)
    b.add("canary moved, job paused: new", _successor(canaried))
    b.add("canary job paused: contract waiting", waiting)
    chosen, other = one("Reverted by customer"), one("Not chosen by the revert")
    migration = job([chosen, other], {"type": "AT", "at": AT})
    other_new = _successor(other)
    migration = services.cohort_migration_revert(
        migration=migration, customer_ids=[chosen.customer_id]
    )
    assert run_to_end(migration, revert=True).status == "PARTIALLY_REVERTED"
    b.add("reverted by customer: old given back", chosen)
    b.add("reverted by customer: another customer's new kept", other_new)

    # moved to the package an alias names (provisioning_states points "Starter" at the target
    # from June): the new contract records the alias, as one created through it does
    by_alias = one("Moved to an alias")
    migration = services.cohort_migration_create(
        data=services.migration_input(
            source={"package_id": source.id},
            target={"package_alias": "Starter"},
            effective={"type": "AT", "at": at(7)},
            customer_ids=[by_alias.customer_id],
        )
    )
    assert services.migration_start(migration_id=migration.id)
    assert run_to_end(migration).status == "COMPLETED"
    new = _successor(by_alias)
    assert new.package_id == target.id and new.settings["package_alias"] == "Starter"
    b.add("migrated AT to an alias's package: new", new)


def schedule_states(b: Builder) -> None:
    """Pricing plan schedules on the plan "Starter" (the alias: source, then target from June)."""
    latest = {"pricing_plan_reference": "Starter", "type": "LATEST"}
    customer = make_customer("Scheduled")
    subscription = pricing_plan_subscription_create(customer_id=customer.id, details={})
    first = pricing_plan_schedule_create(
        subscription_id=subscription.id, start_at=T0, version_selector=latest
    )
    second = pricing_plan_schedule_create(
        subscription_id=subscription.id, start_at=first.ending_before, version_selector=latest
    )
    later = pricing_plan_schedule_migrate(
        schedule_id=second.id,
        start_at=at(6, year=2031),
        version_selector={**latest, "type": "VERSION", "version": 1},
    )
    b.add("schedule-chained: first", first)
    b.add("schedule-chained: second, migrated (ended)", second)
    b.add("schedule-chained: migrated to version 1", later)
    customer = make_customer("Schedule ended by the next")
    subscription = pricing_plan_subscription_create(customer_id=customer.id, details={})
    open_ended = pricing_plan_schedule_create(
        subscription_id=subscription.id,
        start_at=T0,
        end_at=None,
        end_at_sent=True,
        version_selector=latest,
    )
    following = pricing_plan_schedule_create(
        subscription_id=subscription.id,
        start_at=at(9),
        version_selector=latest,
        set_previous_end_at=True,
    )
    b.add("schedule ended by set_previous_end_at", open_ended)
    b.add("schedule after set_previous_end_at", following)


def beat_state(b: Builder) -> None:
    # An open-ended contract three years in: provisioning expanded its first year of monthly
    # credits, the beat task adds every period up to a year ahead.
    package = make_package(
        name="Open-ended",
        rate_card=b.source.rate_card,
        terms=[
            recurring_term(b.product, "recurring_credit", start=offset("MONTHS", 1), duration=None),
            recurring_term(b.product, "recurring_commit", start=offset("MONTHS", 0), duration=None),
        ],
    )
    start = dt.datetime(timezone.now().year - 3, 1, 31, tzinfo=dt.UTC)
    contract = contract_provision(
        customer=make_customer("Beat"), package=package, starting_at=start
    )
    assert recurring_terms_extend_task() > 0
    b.add("recurring terms extended by beat", contract)


def archive_states(b: Builder) -> None:
    sdk = b.sdk
    ids = b.provisioned("Archived contract")
    sdk.v1.contracts.archive(**ids, void_invoices=False)
    b.add("archived contract", b.contract(ids))
    ids = b.provisioned("Archived customer")
    sdk.v1.customers.archive(id=ids["customer_id"])
    b.add("archived customer", b.contract(ids), customer_archived=True)
    retired = make_package(
        name="Retired", rate_card=b.source.rate_card, terms=eight_terms(b.product)
    )
    contract = contract_provision(
        customer=make_customer("Retired"), package=retired, starting_at=T0
    )
    sdk.v1.packages.archive(package_id=str(retired.id))
    b.add("on an archived package", contract)


def test_every_state_reads_through_the_strict_sdk(sdk):
    # given every state the product can produce, each on a customer of its own
    builder = Builder(sdk)
    for build in (
        provisioning_states,
        edit_states,
        migration_states,
        schedule_states,
        beat_state,
        archive_states,
    ):
        build(builder)
    states = builder.states
    assert len({s.name for s in states}) == len(states)
    # when each is read through every read the SDK offers on it
    answers: dict[tuple, object] = {}
    failures, checked = [], 0
    for state in states:
        for name, read in READS.items():
            shared_by = read.shared_by(state)
            if shared_by is None:
                continue
            key = (name, shared_by)
            if key not in answers:
                try:
                    answers[key] = read.fetch(sdk, state)
                except metronome.APIError as exc:
                    answers[key] = exc
            answer, checked = answers[key], checked + 1
            if isinstance(answer, Exception):
                failures.append(f"{state.name} x {name}: {str(answer.__cause__ or answer)[:600]}")
            elif read.lists:
                listed = state.contract_id if read.lists == "contract" else state.customer_id
                if listed not in answer:
                    failures.append(f"{state.name} x {name}: {read.lists} {listed} not listed")
    # then the SDK accepts every answer
    size = f"{checked} reads ({len(states)} states x {len(READS)} reads, {len(answers)} requests)"
    assert not failures, f"{len(failures)} of {size} failed:\n" + "\n".join(failures)
