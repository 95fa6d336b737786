"""A revert never strands a customer: a moved contract that was changed, archived or followed
since the move (through any path: v1, v2 edits, another migration, a renewal, raw writes) is
left as it is with a REVERT_BLOCKED reason, the rest are reverted, and the job ends
PARTIALLY_REVERTED. After every revert path each subscription holds exactly the expected live
contracts, with no gap and no overlap."""

from __future__ import annotations

import datetime as dt
import itertools
import json
import time

import pytest
from django.utils import timezone

from config.core.errors import ValidationFailed
from contracts_app.models import CohortMigration, CohortMigrationItem, Contract, ContractTerm
from contracts_app.selectors.cohort_migrations import migration_actions, migration_progress
from contracts_app.services import cohort_migrations as services
from contracts_app.services.contract_edits import contract_edit
from contracts_app.services.provisioning import contract_provision
from tests.contracts_app.cohort_builders import (
    T0,
    cohort,
    contract_state,
    item_outcomes,
    run_to_end,
    two_packages,
)
from tests.contracts_app.contract_builders import eight_terms, make_package, make_product
from tests.factories import user_with_token

# Real transactions: whether a contract changed after the move is told by the transaction that
# last wrote it (Contract.written_xact), and a test inside one transaction would have only one.
pytestmark = [
    pytest.mark.django_db(transaction=True),
    # batches run in-process here
    pytest.mark.usefixtures("unconsumed_bulk_queue"),
]

AT = T0 + dt.timedelta(days=40)


def job(source, target, at=AT, **kwargs) -> CohortMigration:
    """A job moving `source`'s contracts to `target` at `at`, created (not started)."""
    return services.cohort_migration_create(
        data=services.migration_input(
            source={"package_id": source.id},
            target={"package_id": target.id},
            effective={"type": "AT", "at": at},
            **kwargs,
        )
    )


def migrate(source, target, at=AT, **kwargs) -> CohortMigration:
    migration = job(source, target, at, **kwargs)
    assert services.migration_start(migration_id=migration.id)
    return run_to_end(migration)


def moved(migration) -> dict:
    """old contract id → new contract id, of the job's migrated items."""
    return dict(
        CohortMigrationItem.objects.filter(migration=migration).values_list(
            "contract_id", "new_contract_id"
        )
    )


def v1(client, path: str, body: dict):
    _, token = user_with_token(superuser=True)
    response = client.post(
        path,
        data=json.dumps(body, default=str),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 200, response.content
    return response


def renew(old, new_id, package):
    """A renewal of `old`'s customer on `package`, following the contract `new_id`."""
    return contract_provision(
        customer=old.customer,
        package=package,
        starting_at=Contract.objects.get(id=new_id).ending_before,
        transition={"from_contract_id": str(new_id), "type": "RENEWAL"},
    )


def update_end_date(client, old, contract_id, ending_before: str):
    """v1 updateEndDate of `contract_id` (a contract of `old`'s customer)."""
    v1(
        client,
        "/v1/contracts/updateEndDate",
        {
            "customer_id": old.customer_id,
            "contract_id": contract_id,
            "ending_before": ending_before,
        },
    )


def live_timeline(contract_id) -> list[Contract]:
    subscription_id = Contract.objects.get(id=contract_id).subscription_id
    return list(
        Contract.objects.filter(subscription_id=subscription_id, archived_at__isnull=True).order_by(
            "starting_at"
        )
    )


def assert_timeline(contract_id, expected: list, *, contiguous: bool = True):
    """The subscription of `contract_id` holds exactly `expected` live contracts (ids, in
    order); each one's transition from an earlier contract points at a live one; and with
    `contiguous` (no change by hand left a gap of its own) each ends where the next starts:
    no gap, no overlap."""
    live = live_timeline(contract_id)
    assert [c.id for c in live] == expected
    live_ids = {c.id for c in live}
    for contract in live[1:]:
        transition = (contract.settings or {}).get("transition")
        if transition:
            assert transition["from_contract_id"] in {str(i) for i in live_ids}
    for before, after in itertools.pairwise(live):
        assert before.ending_before is not None
        if contiguous:
            assert before.ending_before == after.starting_at
        else:
            assert before.ending_before <= after.starting_at


def test_a_revert_leaves_every_contract_changed_after_the_move_and_reverts_the_rest(client):
    # given a completed job over eight customers
    source, target = two_packages()
    olds = cohort(source, 8)
    before = {c.id: contract_state(c.id) for c in olds}
    migration = migrate(source, target)
    new_of = moved(migration)
    o = [c.id for c in olds]
    n = [new_of[i] for i in o]
    # then, after the move, through every path a contract is written by:
    # 1: a renewal follows the new contract
    renewal = renew(olds[1], n[1], target)
    # 2: v1 updateEndDate of the new contract (shorter)
    update_end_date(client, olds[2], n[2], "2030-08-10T00:00:00Z")
    # 3: v1 archive of the old contract
    v1(
        client,
        "/v1/contracts/archive",
        {"customer_id": olds[3].customer_id, "contract_id": o[3], "void_invoices": False},
    )
    # 4: a v2 edit of the old contract
    contract_edit(contract=Contract.objects.get(id=o[4]), data={"update_contract_name": "Renamed"})
    # 5: v1 updateEndDate of the old contract (earlier: a gap of the user's own)
    update_end_date(client, olds[5], o[5], "2030-02-01T00:00:00Z")
    # 6: a second migration moves the new contract on (B → C)
    third = make_package(name="Starter v3", terms=eight_terms(make_product("Third")))
    second = migrate(
        target, third, at=AT + dt.timedelta(days=60), customer_ids=[olds[6].customer_id]
    )
    assert set(moved(second)) == {n[6]}
    newest = moved(second)[n[6]]
    # 7: a term row written directly (admin, raw SQL): nothing but the trigger sees it
    term = ContractTerm.objects.filter(contract_id=n[7]).order_by("id").first()
    ContractTerm.objects.filter(id=term.id).update(ordinal=term.ordinal + 1000)
    after_changes = {i: contract_state(i) for i in o[1:] + n[1:]}

    # when the first job is reverted
    services.cohort_migration_revert(migration=migration)
    migration = run_to_end(migration, revert=True, batch_size=3)

    # then it ends, partially: one contract back, seven kept with their reasons
    assert migration.status == "PARTIALLY_REVERTED"
    assert "7 moved contract(s) were not reverted" in migration.last_error
    assert "2 SUCCESSOR_EXISTS" in migration.last_error
    outcomes = item_outcomes(migration)
    assert outcomes == {
        o[0]: ("REVERTED", ""),
        o[1]: ("REVERT_BLOCKED", "SUCCESSOR_EXISTS"),
        o[2]: ("REVERT_BLOCKED", "CHANGED_SINCE_MOVE"),
        o[3]: ("REVERT_BLOCKED", "ARCHIVED_SINCE_MOVE"),
        o[4]: ("REVERT_BLOCKED", "CHANGED_SINCE_MOVE"),
        o[5]: ("REVERT_BLOCKED", "CHANGED_SINCE_MOVE"),
        o[6]: ("REVERT_BLOCKED", "SUCCESSOR_EXISTS"),
        o[7]: ("REVERT_BLOCKED", "CHANGED_SINCE_MOVE"),
    }
    counts = migration_progress([migration])[migration.id]["counts"]
    assert (counts["migrated"], counts["reverted"], counts["revert_blocked"]) == (0, 1, 7)
    assert migration_progress([migration])[migration.id]["percent"] == 100.0
    # the reverted one is exactly as before the move, its new contract archived
    assert contract_state(o[0]) == before[o[0]]
    assert Contract.objects.get(id=n[0]).archived_at is not None
    # the kept ones are exactly as the changes after the move left them
    assert {i: contract_state(i) for i in o[1:] + n[1:]} == after_changes
    # and every customer has a timeline: exactly the expected live contracts, no gap
    assert_timeline(o[0], [o[0]])
    assert_timeline(o[1], [o[1], n[1], renewal.id])
    assert_timeline(o[2], [o[2], n[2]])
    assert_timeline(n[3], [n[3]])
    assert_timeline(o[4], [o[4], n[4]])
    assert_timeline(o[5], [o[5], n[5]], contiguous=False)
    assert_timeline(o[6], [o[6], n[6], newest])
    assert_timeline(o[7], [o[7], n[7]])


def test_a_clean_revert_gives_every_customer_exactly_the_old_contract_back():
    source, target = two_packages()
    olds = cohort(source, 5)
    migration = migrate(source, target)
    services.cohort_migration_revert(migration=migration)
    migration = run_to_end(migration, revert=True, batch_size=2)
    assert migration.status == "REVERTED"
    assert migration.last_error == ""
    for contract in olds:
        assert_timeline(contract.id, [contract.id])
        assert Contract.objects.get(id=contract.id).ending_before == contract.ending_before


def test_a_revert_nothing_of_which_can_be_undone_is_refused_naming_the_contracts():
    # given a job whose only moved contract has a renewal after the new one
    source, target = two_packages()
    [old] = cohort(source, 1)
    migration = migrate(source, target)
    new_id = moved(migration)[old.id]
    renew(old, new_id, target)
    # then the page offers no revert, and the service refuses it up front
    actions = migration_actions(migration=migration, now=timezone.now())
    assert actions["revert"] is False
    assert actions["revert_window"]["blocked"] == {"SUCCESSOR_EXISTS": 1}
    with pytest.raises(ValidationFailed, match=f"1 SUCCESSOR_EXISTS.*{old.id}") as refused:
        services.cohort_migration_revert(migration=migration)
    assert refused.value.field == "migration_id"
    migration.refresh_from_db()
    assert migration.status == "COMPLETED"


def test_a_move_that_took_effect_while_reverting_is_kept_not_retried():
    # given a revert under way (allowed: nothing had taken effect) whose move's instant passes
    source, target = two_packages()
    start = timezone.now() - dt.timedelta(days=30)
    [old] = cohort(source, 1, start=start)
    migration = migrate(source, target, at=timezone.now() + dt.timedelta(days=1))
    services.cohort_migration_revert(migration=migration)
    CohortMigrationItem.objects.filter(migration=migration).update(
        effective_at=timezone.now() - dt.timedelta(seconds=1)
    )
    # when the batch runs
    migration = run_to_end(migration, revert=True)
    # then the item is kept, with its reason, and the job has ended
    assert migration.status == "PARTIALLY_REVERTED"
    assert item_outcomes(migration) == {old.id: ("REVERT_BLOCKED", "TOOK_EFFECT")}
    assert_timeline(old.id, [old.id, moved(migration)[old.id]])


def test_a_job_cancelled_mid_run_then_reverted_leaves_every_timeline_whole():
    # given six customers, one archived before the job, a job cancelled after one batch
    from contracts_app.services.cohort_migration_batches import migration_batch_run
    from contracts_app.services.cohort_migrations import cohort_migration_cancel
    from contracts_app.services.contracts import contract_archive

    source, target = two_packages()
    olds = cohort(source, 6)
    contract_archive(contract=olds[5])
    before = {c.id: contract_state(c.id) for c in olds}
    migration = job(source, target)
    assert services.migration_start(migration_id=migration.id)
    assert migration_batch_run(migration_id=migration.id, batch_size=2) == 2
    cohort_migration_cancel(migration=migration)
    # when reverted
    services.cohort_migration_revert(migration=migration)
    migration = run_to_end(migration, revert=True)
    # then every customer is exactly where they were before the job
    assert migration.status == "REVERTED"
    assert {c.id: contract_state(c.id) for c in olds} == before
    for old in olds[:5]:
        assert_timeline(old.id, [old.id])
    assert_timeline(olds[5].id, [])


def wait_for_status(migration_id, statuses: set[str], timeout: float = 90.0) -> CohortMigration:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        migration = CohortMigration.objects.get(id=migration_id)
        if migration.status in statuses:
            return migration
        time.sleep(0.3)
    migration = CohortMigration.objects.get(id=migration_id)
    pytest.fail(f"timed out; the migration is {migration.status}: {migration.last_error!r}")


@pytest.mark.xdist_group("celery")
def test_a_real_worker_ends_a_revert_with_a_blocked_contract_in_its_batch(
    client, celery_worker_queue
):
    # given a job moved by a real worker, then a renewal and a v1 end-date change after it
    source, target = two_packages()
    olds = cohort(source, 6)
    migration = wait_for_status(job(source, target).id, {"COMPLETED"})
    new_of = moved(migration)
    o = [c.id for c in olds]
    n = [new_of[i] for i in o]
    renewal = renew(olds[0], n[0], target)
    update_end_date(client, olds[1], n[1], "2030-09-10T00:00:00Z")
    # when it is reverted (one batch holds all six)
    services.cohort_migration_revert(migration=migration)
    # then the worker ends it: four back, two kept with their reasons, nothing retried
    migration = wait_for_status(migration.id, {"PARTIALLY_REVERTED", "REVERTED"})
    assert migration.status == "PARTIALLY_REVERTED"
    assert migration.last_error.startswith("2 moved contract(s) were not reverted")
    outcomes = item_outcomes(migration)
    assert outcomes[o[0]] == ("REVERT_BLOCKED", "SUCCESSOR_EXISTS")
    assert outcomes[o[1]] == ("REVERT_BLOCKED", "CHANGED_SINCE_MOVE")
    assert {outcomes[i] for i in o[2:]} == {("REVERTED", "")}
    assert_timeline(o[0], [o[0], n[0], renewal.id])
    assert_timeline(o[1], [o[1], n[1]])
    for old in olds[2:]:
        assert_timeline(old.id, [old.id])
        assert Contract.objects.get(id=old.id).ending_before == old.ending_before
