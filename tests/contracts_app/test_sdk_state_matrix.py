"""Every contract state the product can produce, read back through the official SDK in strict
mode (issue 17): a response the SDK refuses fails the test and names the state and the read.

Batches of cohort migrations run in-process here (the engine's services); what the services
queue on commit goes to a queue of this test's own, which no worker consumes and which is
deleted afterwards."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest

from contracts_app.models import Contract
from contracts_app.services.cohort_migrations import (
    cohort_migration_create,
    migration_input,
    migration_start,
)
from tests.conftest import forget_queue
from tests.contracts_app.cohort_builders import T0, cohort, run_to_end, two_packages

AT = T0 + dt.timedelta(days=40)


@pytest.fixture(autouse=True)
def private_bulk_queue(settings, transactional_db):
    settings.BULK_QUEUE = f"sdk-matrix-{uuid.uuid4().hex}"
    yield settings.BULK_QUEUE
    forget_queue(settings.BULK_QUEUE)


def migrate(source, target, effective: dict, **kwargs):
    data = migration_input(
        source={"package_id": source.id},
        target={"package_id": target.id},
        effective=effective,
        customer_ids=kwargs.pop("customer_ids", None),
        **kwargs,
    )
    migration = cohort_migration_create(data=data)
    assert migration_start(migration_id=migration.id)
    return run_to_end(migration)


@pytest.mark.parametrize(
    "effective",
    [
        {"type": "AT", "at": AT},
        {"type": "NEXT_BILLING_PERIOD", "not_before": AT},
    ],
    ids=["AT", "NEXT_BILLING_PERIOD"],
)
def test_contracts_moved_mid_term_read_through_the_strict_sdk(sdk, effective):
    # given a contract moved mid-term by a cohort migration
    source, target = two_packages()
    (old,) = cohort(source, 1)
    assert migrate(source, target, effective).status == "COMPLETED"
    new = Contract.objects.get(subscription_id=old.subscription_id, package=target)
    customer_id = str(old.customer_id)
    # when both are read through the SDK in strict mode, then the SDK accepts them
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

    from contracts_app.models import CohortMigrationItem
    from contracts_app.services.cohort_migrations import cohort_migration_revert

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
    for contract in Contract.objects.filter(id__in=[old.id, new.id]):
        ids = {"customer_id": str(old.customer_id), "contract_id": str(contract.id)}
        assert [t.type for t in sdk.v1.contracts.retrieve(**ids).data.current.transitions] == ["RENEWAL"]
    item.refresh_from_db()
    assert item.snapshot["settings"]["transitions"] == [{**earlier, "type": "RENEWAL"}]
    assert item.snapshot["settings"]["transition"]["type"] == "RENEWAL"
    run_to_end(cohort_migration_revert(migration=migration), revert=True)
    ids = {"customer_id": str(old.customer_id), "contract_id": str(old.id)}
    assert [t.type for t in sdk.v2.contracts.retrieve(**ids).data.transitions] == ["RENEWAL"]
