"""Helpers for the staged-rollout tests (issue 22; a helper module, not a test module): the
subscription invariant after a revert, and the webhook events a job recorded."""

from __future__ import annotations

import itertools

from config.webhooks.models import WebhookEvent
from contracts_app.models import CohortMigrationItem, Contract


def live_contract_ids(subscription_id) -> list:
    return list(
        Contract.objects.filter(subscription_id=subscription_id, archived_at__isnull=True)
        .order_by("starting_at")
        .values_list("id", flat=True)
    )


def assert_subscription_invariant(migration, expected_moved: set, expected_reverted: set):
    """Per subscription of the job's items: no gap, no overlap, and exactly the expected live
    contracts: the old contract alone where its item was reverted, the old then the new where
    it stays moved (items of `expected_moved`, by old contract id)."""
    items = list(CohortMigrationItem.objects.filter(migration=migration).select_related("contract"))
    assert {i.contract_id for i in items if i.status == "MIGRATED"} == expected_moved
    assert {i.contract_id for i in items if i.status == "REVERTED"} == expected_reverted
    for item in items:
        if item.contract_id not in expected_moved | expected_reverted:
            continue
        live = list(
            Contract.objects.filter(
                subscription_id=item.contract.subscription_id, archived_at__isnull=True
            ).order_by("starting_at")
        )
        if item.contract_id in expected_moved:
            assert [c.id for c in live] == [item.contract_id, item.new_contract_id]
        else:
            assert [c.id for c in live] == [item.contract_id]
            assert Contract.objects.get(id=item.new_contract_id).archived_at is not None
        for before, after in itertools.pairwise(live):
            assert before.ending_before == after.starting_at  # no gap, no overlap


def job_events(migration) -> list[tuple[str, str]]:
    """(type, status) of the webhook events the job recorded, in order."""
    return [
        (event.type, event.data.get("status"))
        for event in WebhookEvent.objects.filter(data__id=str(migration.id)).order_by("created_at")
    ]
