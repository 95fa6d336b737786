"""Staged cohort migrations (issue 22), batches run in-process: a canary moves first and the job
pauses; pause and resume; the dispatcher never resumes a paused job; a revert of what has not
taken effect, or of some customers; retryFailed; the actions the selector offers; the webhook
events recorded with each change."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from config.core.billing_periods import add_months
from config.core.errors import ValidationFailed
from config.webhooks.models import WebhookEvent
from contracts_app.api.cohort_migration_serializers import migration_data
from contracts_app.models import CohortMigration, CohortMigrationItem, Contract
from contracts_app.selectors.cohort_migrations import migration_actions, migration_progress
from contracts_app.services import cohort_migrations as services
from contracts_app.services.cohort_migration_batches import migration_batch_run
from tests.builders.migrations import AT, counts
from tests.contracts_app.cohort_builders import cohort, run_to_end, two_packages
from tests.contracts_app.contract_builders import make_customer
from tests.contracts_app.staged_builders import assert_subscription_invariant, job_events
from tests.factories import api_post, user_with_token

pytestmark = [
    pytest.mark.django_db(transaction=True),
    # batches run in-process here
    pytest.mark.usefixtures("unconsumed_bulk_queue"),
]


def staged(source, target, *, canary=None, effective=None, start=True, **kwargs):
    migration = services.cohort_migration_create(
        data=services.migration_input(
            source={"package_id": source.id},
            target={"package_id": target.id},
            effective=effective or {"type": "AT", "at": AT},
            **kwargs,
        ),
        canary=canary,
    )
    if start:
        assert services.migration_start(migration_id=migration.id)
    return migration


def statuses(migration) -> dict[str, int]:
    return {k: v for k, v in counts(migration).items() if v and k != "total"}


def actions(migration) -> dict:
    migration.refresh_from_db()
    got = migration_actions(migration=migration, now=timezone.now())
    return {
        k: got[k]
        for k in ("cancel", "revert", "pause", "resume", "revert_not_in_effect", "retry_failed")
    }


def test_a_canary_of_five_moves_exactly_five_then_pauses_and_resume_moves_the_rest():
    # given 12 contracts and a canary of 5
    source, target = two_packages()
    cohort(source, 12)
    migration = staged(source, target, canary={"count": 5})
    # when the batches run (2 at a time) until they stop
    migration = run_to_end(migration, batch_size=2)
    # then exactly 5 moved and the job waits
    assert migration.status == "PAUSED"
    assert migration.paused_at is not None and migration.finished_at is None
    assert not migration.canary_open
    assert statuses(migration) == {"migrated": 5, "pending": 7}
    assert Contract.objects.filter(package=target).count() == 5
    assert actions(migration) == {
        "cancel": True,
        "revert": True,
        "pause": False,
        "resume": True,
        "revert_not_in_effect": 5,
        "retry_failed": 0,
    }
    # and the beat dispatcher does not resume it
    assert services.migrations_dispatch()["requeued"] == []
    assert migration_batch_run(migration_id=migration.id) == 0
    migration.refresh_from_db()
    assert migration.status == "PAUSED"
    # when resumed
    services.cohort_migration_resume(migration=migration)
    migration = run_to_end(migration, batch_size=4)
    # then the rest moved
    assert migration.status == "COMPLETED"
    assert statuses(migration) == {"migrated": 12}
    assert job_events(migration) == [
        ("cohort_migration.started", "RUNNING"),
        ("cohort_migration.paused", "PAUSED"),
        ("cohort_migration.resumed", "RUNNING"),
        ("cohort_migration.completed", "COMPLETED"),
    ]


def test_a_canary_of_customers_moves_exactly_those_customers_first():
    source, target = two_packages()
    contracts = cohort(source, 6)
    chosen = {contracts[1].customer_id, contracts[4].customer_id}
    migration = run_to_end(
        staged(source, target, canary={"customer_ids": list(chosen)}), batch_size=1
    )
    assert migration.status == "PAUSED"
    assert (
        set(Contract.objects.filter(package=target).values_list("customer_id", flat=True)) == chosen
    )
    # echoed as how many customers it named, not the (up to 100,000) ids
    shown = migration_data(migration, migration_progress([migration])[migration.id])
    assert shown["canary"] == {"customers": 2}


def test_a_canary_that_matches_no_contract_that_moves_pauses_before_moving_any_and_says_why():
    # given 3 contracts and a canary naming a customer who has none of them
    source, target = two_packages()
    cohort(source, 3)
    stranger = make_customer("Not on the package")
    # when the job starts
    migration = staged(source, target, canary={"customer_ids": [stranger.id]})
    migration.refresh_from_db()
    # then it waits before moving anyone, no batch runs, and the pause says why
    assert migration.status == "PAUSED" and not migration.canary_open
    assert migration_batch_run(migration_id=migration.id) == 0
    assert statuses(migration) == {"pending": 3}
    paused = WebhookEvent.objects.get(type="cohort_migration.paused")
    assert paused.data["reason"] == "CANARY_EMPTY"
    # and resuming moves them all
    services.cohort_migration_resume(migration=migration)
    assert run_to_end(migration).status == "COMPLETED"
    assert statuses(migration) == {"migrated": 3}


def test_a_canary_outside_the_jobs_customers_is_refused_naming_the_field():
    source, target = two_packages()
    a, b = cohort(source, 2)
    with pytest.raises(ValidationFailed) as refused:
        staged(
            source,
            target,
            canary={"customer_ids": [b.customer_id]},
            customer_ids=[a.customer_id],
            start=False,
        )
    assert refused.value.field == "canary.customer_ids"
    assert not CohortMigration.objects.exists()


def test_a_pause_stops_the_job_at_the_next_batch_pending_items_stay_and_cancel_cancels_them():
    # given a running job, one batch done
    source, target = two_packages()
    cohort(source, 9)
    migration = staged(source, target)
    assert migration_batch_run(migration_id=migration.id, batch_size=3) == 3
    # when paused
    services.cohort_migration_pause(migration=migration)
    # then no batch moves anything, and the items wait
    assert migration_batch_run(migration_id=migration.id, batch_size=3) == 0
    assert statuses(migration) == {"migrated": 3, "pending": 6}
    assert actions(migration)["resume"] and not actions(migration)["pause"]
    with pytest.raises(ValidationFailed):
        services.cohort_migration_pause(migration=migration)
    # when cancelled while paused
    services.cohort_migration_cancel(migration=migration)
    # then its pending items are cancelled
    migration.refresh_from_db()
    assert migration.status == "CANCELLED"
    assert statuses(migration) == {"migrated": 3, "cancelled": 6}
    assert ("cohort_migration.paused", "PAUSED") in job_events(migration)


def test_a_not_in_effect_revert_of_a_next_billing_period_job_reverts_exactly_the_items_ahead():
    # given a NEXT_BILLING_PERIOD job from 5 days ago: monthly contracts whose boundary after
    # that is 3 days ago (in effect) or in 3 days (still ahead), periods from each start
    source, target = two_packages()
    source.settings = {
        **(source.settings or {}),
        "usage_statement_schedule": {"frequency": "MONTHLY", "day": "CONTRACT_START"},
    }
    source.save(update_fields=["settings"])
    now = timezone.now().replace(microsecond=0)
    passed = cohort(source, 3, start=add_months(now - dt.timedelta(days=3), -2), name="In effect")
    ahead = cohort(source, 4, start=add_months(now + dt.timedelta(days=3), -2), name="Ahead")
    migration = run_to_end(
        staged(
            source,
            target,
            effective={"type": "NEXT_BILLING_PERIOD", "not_before": now - dt.timedelta(days=5)},
            allow_past=True,
        )
    )
    assert migration.status == "COMPLETED" and counts(migration)["migrated"] == 7
    assert actions(migration)["revert"] is False  # scope ALL: some have taken effect
    assert actions(migration)["revert_not_in_effect"] == 4
    with pytest.raises(ValidationFailed):
        services.cohort_migration_revert(migration=migration)
    # when only what has not taken effect is reverted
    migration = services.cohort_migration_revert(migration=migration, scope="NOT_IN_EFFECT")
    assert migration.revert_request | {"at": None} == {
        "judged_before": 0,
        "scope": "NOT_IN_EFFECT",
        "customer_ids": None,
        "reverting": 4,
        "blocked": 0,
        "kept_in_effect": 3,
        "not_chosen": 0,
        "at": None,
    }
    migration = run_to_end(migration, revert=True, batch_size=2)
    # then the 4 ahead are back on their old contracts, the 3 in effect stay moved
    assert migration.status == "PARTIALLY_REVERTED"
    assert migration.last_error == ""
    assert statuses(migration) == {"migrated": 3, "reverted": 4}
    assert_subscription_invariant(migration, {c.id for c in passed}, {c.id for c in ahead})
    assert actions(migration)["revert_not_in_effect"] == 0
    assert job_events(migration)[-1] == ("cohort_migration.reverted", "PARTIALLY_REVERTED")


def test_a_revert_of_some_customers_reverts_only_theirs_and_a_later_one_the_rest(client):
    source, target = two_packages()
    contracts = cohort(source, 5)
    migration = run_to_end(staged(source, target))
    some = contracts[:2]
    token = user_with_token(
        "contracts_app.view_cohortmigration", "contracts_app.change_cohortmigration"
    )[1]

    def revert(body):
        return api_post(
            client,
            token,
            "/v1/packages/migrations/revert",
            {"migration_id": str(migration.id), **body},
        )

    # a customer without a moved contract in the job is refused, naming the field
    stranger = cohort(source, 1, name="Other")[0]
    refused = revert({"customer_ids": [str(stranger.customer_id)]})
    assert refused.status_code == 400, refused.content
    assert "customer_ids" in json.dumps(refused.json())
    # when two customers are reverted
    answer = revert({"customer_ids": [str(c.customer_id) for c in some]})
    assert answer.status_code == 200, answer.content
    assert answer.json()["data"]["revert"]["reverting"] == 2
    assert answer.json()["data"]["revert"]["not_chosen"] == 3
    migration = run_to_end(migration, revert=True)
    # then only theirs are reverted
    assert migration.status == "PARTIALLY_REVERTED"
    assert_subscription_invariant(migration, {c.id for c in contracts[2:]}, {c.id for c in some})
    assert migration_progress([migration])[migration.id]["percent"] == 100.0
    # and a later revert gives back the rest, its progress its own share
    assert actions(migration)["revert"] is True
    assert revert({}).status_code == 200
    migration.refresh_from_db()
    assert migration.revert_request["judged_before"] == 2
    assert migration_progress([migration])[migration.id]["percent"] == 0.0
    migration = run_to_end(migration, revert=True)
    assert migration.status == "REVERTED"
    assert migration_progress([migration])[migration.id]["percent"] == 100.0
    assert_subscription_invariant(migration, set(), {c.id for c in contracts})


def test_retry_failed_moves_the_items_whose_cause_was_fixed():
    # given a job that completed with one item FAILED (its customer archived after the plan)
    source, target = two_packages()
    bad, *_ = cohort(source, 4)
    migration = staged(source, target)
    bad.customer.archived_at = timezone.now()
    bad.customer.save()
    migration = run_to_end(migration)
    assert migration.status == "COMPLETED"
    assert statuses(migration) == {"migrated": 3, "failed": 1}
    assert actions(migration)["retry_failed"] == 1
    # when the cause is fixed and the failed items retried
    bad.customer.archived_at = None
    bad.customer.save()
    migration = services.cohort_migration_retry_failed(migration=migration)
    # then the job runs again, counts moved from failed to pending, and it moves the item
    assert migration.status == "RUNNING"
    assert statuses(migration) == {"migrated": 3, "pending": 1}
    migration = run_to_end(migration)
    assert migration.status == "COMPLETED"
    assert statuses(migration) == {"migrated": 4}
    assert CohortMigrationItem.objects.get(contract=bad).status == "MIGRATED"
    assert job_events(migration) == [
        ("cohort_migration.started", "RUNNING"),
        ("cohort_migration.completed", "COMPLETED"),
        ("cohort_migration.retried", "RUNNING"),
        ("cohort_migration.completed", "COMPLETED"),
    ]
    assert actions(migration)["retry_failed"] == 0
    with pytest.raises(ValidationFailed):
        services.cohort_migration_retry_failed(migration=migration)


def test_openapi_documents_the_staged_rollout_endpoints_and_fields(client):
    _, token = user_with_token()
    schema = client.get("/openapi.json", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    for action in ("pause", "resume", "retryFailed", "revert"):
        assert f"/v1/packages/migrations/{action}" in schema["paths"]
    shapes = schema["components"]["schemas"]
    assert {"scope", "customer_ids"} <= set(shapes["MigrationRevertInput"]["properties"])
    assert "canary" in shapes["MigrationCreateInput"]["properties"]
    output = shapes["MigrationOutput"]["properties"]
    assert {"canary", "canary_open", "paused_at", "revert"} <= set(output)
    assert "PAUSED" in json.dumps(shapes)


def test_canary_and_chosen_revert_batches_cost_the_queries_of_plain_ones():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from contracts_app.services.cohort_migration_batches import migration_revert_batch_run

    # given two jobs of 6 contracts each, one with a canary of 3
    source, target = two_packages()
    contracts = cohort(source, 12)
    halves = [c.customer_id for c in contracts[:6]], [c.customer_id for c in contracts[6:]]
    plain = staged(source, target, customer_ids=halves[0])
    canary = staged(source, target, customer_ids=halves[1], canary={"count": 3})

    def batch_queries(run, job) -> int:
        with CaptureQueriesContext(connection) as captured:
            assert run(migration_id=job.id, batch_size=3) == 3
        return len(captured)

    # then a canary batch costs what a plain batch costs
    assert batch_queries(migration_batch_run, canary) == batch_queries(migration_batch_run, plain)
    run_to_end(plain)
    assert run_to_end(canary).status == "PAUSED"
    services.cohort_migration_resume(migration=canary)
    assert run_to_end(canary).status == "COMPLETED"
    # and a revert batch of chosen customers costs what a revert of all costs
    services.cohort_migration_revert(migration=plain)
    services.cohort_migration_revert(migration=canary, customer_ids=halves[1][:4])
    assert batch_queries(migration_revert_batch_run, canary) == batch_queries(
        migration_revert_batch_run, plain
    )
