"""Cohort migrations through the services (plan, batches, cancel, revert) on real PostgreSQL.
Batches run in-process here; tests/contracts_app/test_cohort_migration_worker.py runs them on
real Celery workers."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.db.models import Q
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.core.errors import ValidationFailed
from contracts_app.models import CohortMigrationItem, CohortMigrationProgress, Contract
from contracts_app.selectors.cohort_migrations import migration_progress
from contracts_app.services import cohort_migrations as services
from contracts_app.services.cohort_migration_batches import (
    migration_batch_run,
)
from contracts_app.services.contracts import contract_archive
from contracts_app.services.provisioning import contract_provision
from tests.builders.migrations import AT, create_migration
from tests.contracts_app import contract_builders as build
from tests.contracts_app.cohort_builders import (
    T0,
    cohort,
    contract_state,
    run_to_end,
    two_packages,
)
from tests.contracts_app.contract_builders import offset, recurring_term

# Batches run in-process here (conftest.in_process_batches).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_process_batches")]


def counts(migration):
    return migration_progress([migration])[migration.id]["counts"]


def reasons(migration) -> dict:
    return dict(
        CohortMigrationItem.objects.filter(migration=migration, status="SKIPPED").values_list(
            "contract_id", "reason"
        )
    )


def test_a_job_migrates_every_contract_with_no_gap_and_no_overlap():
    # given
    source, target = two_packages()
    contracts = cohort(source, 20)
    # when
    migration = run_to_end(create_migration(source, target))
    # then
    assert migration.status == "COMPLETED"
    assert counts(migration) == {
        "total": 20,
        "pending": 0,
        "migrated": 20,
        "skipped": 0,
        "failed": 0,
        "cancelled": 0,
        "reverted": 0,
        "revert_blocked": 0,
    }
    for old in contracts:
        old.refresh_from_db()
        assert old.ending_before == AT
        assert old.package_id == source.id
        new = Contract.objects.get(subscription_id=old.subscription_id, starting_at=AT)
        assert new.package_id == target.id
        assert new.ending_before == dt.datetime(2031, 2, 10, tzinfo=dt.UTC)
        assert new.settings["transition"] == {"type": "RENEWAL", "from_contract_id": str(old.id)}
        assert old.settings["transitions"][-1]["to_contract_id"] == str(new.id)
        assert not old.terms.filter(Q(ending_before__gt=AT) | Q(starting_at__gte=AT)).exists()
        assert new.terms.count() > 8


def test_batches_write_the_same_contract_as_contracts_create_and_update_end_date():
    # given two cohorts of one customer each, on the same packages
    source, target = two_packages()
    by_job, by_hand = cohort(source, 1, name="Job"), cohort(source, 1, name="Hand")
    # when one moves by the job and the other through the single-contract services
    run_to_end(create_migration(source, target, customer_ids=[by_job[0].customer_id]))
    contract_provision(
        customer=by_hand[0].customer,
        starting_at=AT,
        package=target,
        transition={"type": "RENEWAL", "from_contract_id": str(by_hand[0].id)},
    )

    # then both old contracts and both new contracts are the same but for ids
    def shape(contract_id):
        start, end, settings, archived, package, terms = contract_state(contract_id)
        settings = {k: v for k, v in settings.items() if k not in ("transition", "transitions")}
        return (
            start,
            end,
            settings,
            archived,
            package,
            sorted((t[1], t[2], t[3], t[4]) for t in terms),
        )

    new_job = Contract.objects.get(customer=by_job[0].customer, starting_at=AT)
    new_hand = Contract.objects.get(customer=by_hand[0].customer, starting_at=AT)
    assert shape(by_job[0].id) == shape(by_hand[0].id)
    assert shape(new_job.id) == shape(new_hand.id)
    assert new_job.settings["transition"]["type"] == new_hand.settings["transition"]["type"]
    assert len(Contract.objects.get(id=by_job[0].id).settings["transitions"]) == len(
        Contract.objects.get(id=by_hand[0].id).settings["transitions"]
    )


def test_revert_restores_the_old_contracts_exactly_and_archives_the_new_ones():
    # given
    source, target = two_packages()
    contracts = cohort(source, 9)
    before = {c.id: contract_state(c.id) for c in contracts}
    migration = run_to_end(create_migration(source, target))
    new_ids = list(
        CohortMigrationItem.objects.filter(migration=migration).values_list(
            "new_contract_id", flat=True
        )
    )
    # when
    services.cohort_migration_revert(migration=migration)
    migration = run_to_end(migration, revert=True, batch_size=4)
    # then
    assert migration.status == "REVERTED"
    assert {c.id: contract_state(c.id) for c in contracts} == before
    assert not Contract.objects.filter(id__in=new_ids, archived_at__isnull=True).exists()
    assert counts(migration)["reverted"] == 9
    assert counts(migration)["migrated"] == 0


def test_revert_is_refused_once_an_item_has_taken_effect():
    # given a back-dated migration (t in the past)
    source, target = two_packages()
    past = timezone.now() - dt.timedelta(days=400)
    cohort(source, 3, start=past - dt.timedelta(days=30))
    migration = run_to_end(
        create_migration(source, target, effective={"type": "AT", "at": past}, allow_past=True)
    )
    assert counts(migration)["migrated"] == 3
    # when / then
    with pytest.raises(ValidationFailed, match="3 migrated contract"):
        services.cohort_migration_revert(migration=migration)
    migration.refresh_from_db()
    assert migration.status == "COMPLETED"


def test_cancel_mid_run_keeps_migrated_items_and_cancels_pending_ones():
    # given a job one batch in
    source, target = two_packages()
    cohort(source, 10)
    migration = create_migration(source, target)
    assert migration_batch_run(migration_id=migration.id, batch_size=4) == 4
    # when
    services.cohort_migration_cancel(migration=migration)
    # then
    assert migration.status == "CANCELLED"
    assert migration_batch_run(migration_id=migration.id, batch_size=4) == 0
    assert counts(migration) | {} == {
        "total": 10,
        "pending": 0,
        "migrated": 4,
        "skipped": 0,
        "failed": 0,
        "cancelled": 6,
        "reverted": 0,
        "revert_blocked": 0,
    }
    with pytest.raises(ValidationFailed, match="CANCELLED migration cannot be cancelled"):
        services.cohort_migration_cancel(migration=migration)
    # and the migrated four can be reverted
    services.cohort_migration_revert(migration=migration)
    assert run_to_end(migration, revert=True).status == "REVERTED"
    assert counts(migration)["reverted"] == 4


def test_nobody_is_migrated_twice_by_a_rerun_or_a_second_job():
    # given a job and a second one over the same cohort, planned while the first is pending
    source, target = two_packages()
    cohort(source, 6)
    first = create_migration(source, target)
    second = create_migration(source, target)
    assert set(reasons(second).values()) == {"IN_OTHER_MIGRATION"}
    # when the first runs, is started again, and a third job comes after it
    run_to_end(first)
    assert not services.migration_start(migration_id=first.id)
    assert migration_batch_run(migration_id=first.id) == 0
    third = run_to_end(create_migration(source, target))
    earlier = run_to_end(
        create_migration(source, target, effective={"type": "AT", "at": AT - dt.timedelta(days=5)})
    )
    # then each contract moved once
    assert counts(first)["migrated"] == 6
    assert counts(third)["total"] == 0  # ended at t: no longer in the cohort
    assert set(reasons(earlier).values()) == {"SUCCESSOR_EXISTS"}
    assert Contract.objects.filter(package=target).count() == 6


def test_every_skip_reason_of_an_at_migration():
    # given contracts in each situation
    source, target = two_packages(billing_provider="stripe")
    archived, late, renewed, none, two, fine = cohort(source, 6)
    contract_archive(contract=archived)
    late_one = contract_provision(
        customer=build.make_customer("Late"), starting_at=AT + dt.timedelta(days=1), package=source
    )
    contract_provision(
        customer=renewed.customer,
        starting_at=T0 + dt.timedelta(days=100),
        package=source,
        transition={"type": "RENEWAL", "from_contract_id": str(renewed.id)},
    )
    build.make_billing_configuration(two.customer)
    build.make_billing_configuration(two.customer)
    build.make_billing_configuration(fine.customer)
    for contract in (late, late_one):
        build.make_billing_configuration(contract.customer)
    # when
    migration = run_to_end(create_migration(source, target))
    # then
    got = reasons(migration)
    assert got[archived.id] == "CONTRACT_ARCHIVED"
    assert got[late_one.id] == "STARTS_AFTER_EFFECTIVE"
    assert got[renewed.id] == "SUCCESSOR_EXISTS"
    assert got[none.id] == "NO_BILLING_CONFIGURATION"
    assert got[two.id] == "AMBIGUOUS_BILLING_CONFIGURATION"
    migrated = CohortMigrationItem.objects.filter(migration=migration, status="MIGRATED")
    assert set(migrated.values_list("contract_id", flat=True)) == {fine.id, late.id}
    new = Contract.objects.get(customer=fine.customer, package=target)
    assert new.billing_provider_configuration.customer_id == fine.customer_id


def test_target_alias_skips_unresolved_archived_and_already_on_target():
    from packages_app.models import AliasName
    from packages_app.services.aliases import alias_assign

    def package_alias_assign(*, package, name, starting_at):
        alias_assign(
            kind=AliasName.Kind.PACKAGE, name=name, package=package, starting_at=starting_at
        )

    # given an alias that points at the source until t + 10 days, then at the target
    source, target = two_packages()
    package_alias_assign(package=source, name="Starter", starting_at=T0 - dt.timedelta(days=1))
    package_alias_assign(package=target, name="Starter", starting_at=AT + dt.timedelta(days=10))
    cohort(source, 2)
    target_ref = {"package_alias": "Starter"}
    # when: at t the alias still means the source; 20 days later the target
    at_t = run_to_end(create_migration(source, target_ref=target_ref))
    later = run_to_end(
        create_migration(
            source,
            target_ref=target_ref,
            effective={"type": "AT", "at": AT + dt.timedelta(days=20)},
        )
    )
    # then
    assert set(reasons(at_t).values()) == {"ALREADY_ON_TARGET"}
    assert counts(later)["migrated"] == 2
    moved = Contract.objects.filter(package=target, starting_at=AT + dt.timedelta(days=20))
    assert moved.count() == 2
    # and each moved contract records the alias it was provisioned through, as a
    # contracts/create with package_alias does
    assert [c.settings.get("package_alias") for c in moved] == ["Starter", "Starter"]


def test_archived_target_and_unresolved_alias_are_skipped():
    from packages_app.models import AliasName

    source, target = two_packages(archived_at=T0)
    cohort(source, 2)
    AliasName.objects.create(kind=AliasName.Kind.PACKAGE, name="Nowhere")
    archived = run_to_end(create_migration(source, target))
    unresolved = run_to_end(create_migration(source, target_ref={"package_alias": "Nowhere"}))
    assert set(reasons(archived).values()) == {"TARGET_ARCHIVED"}
    assert set(reasons(unresolved).values()) == {"TARGET_ALIAS_UNRESOLVED"}


def test_end_of_term_moves_each_contract_at_its_own_end_and_skips_open_ended_ones():
    # given one 12-month contract and one open-ended contract
    source, target = two_packages()
    ending = cohort(source, 1)[0]
    open_source, _ = two_packages(duration_months=None)
    open_ended = cohort(open_source, 1)[0]
    # when
    migration = run_to_end(create_migration(source, target, effective={"type": "END_OF_TERM"}))
    open_job = run_to_end(create_migration(open_source, target, effective={"type": "END_OF_TERM"}))
    # then
    new = Contract.objects.get(customer=ending.customer, package=target)
    assert new.starting_at == ending.ending_before
    assert new.settings["transition"]["type"] == "RENEWAL"
    ending.refresh_from_db()
    assert ending.ending_before == new.starting_at
    assert counts(migration)["migrated"] == 1
    assert reasons(open_job) == {open_ended.id: "OPEN_ENDED"}


def test_next_billing_period_moves_each_contract_at_its_own_boundary():
    # given contracts starting on different days (statements anchored on the 1st by default,
    # on the start for a CONTRACT_START schedule) and one ending between not_before and its boundary
    source, target = two_packages()
    first = cohort(source, 1, start=dt.datetime(2030, 1, 31, tzinfo=dt.UTC))[0]
    quarterly = build.make_package(
        name="Quarterly",
        rate_card=source.rate_card,
        terms=[recurring_term(build.make_product("Q"))],
        settings={"usage_statement_schedule": {"frequency": "QUARTERLY", "day": "CONTRACT_START"}},
        duration_unit="MONTHS",
        duration_value=24,
    )
    on_quarterly = cohort(quarterly, 1, start=dt.datetime(2030, 1, 31, tzinfo=dt.UTC))[0]
    not_before = dt.datetime(2030, 5, 15, tzinfo=dt.UTC)
    # when
    monthly_job = run_to_end(
        create_migration(
            source, target, effective={"type": "NEXT_BILLING_PERIOD", "not_before": not_before}
        )
    )
    quarterly_job = run_to_end(
        create_migration(
            quarterly, target, effective={"type": "NEXT_BILLING_PERIOD", "not_before": not_before}
        )
    )
    # then: monthly from Feb 1 → Jun 1; quarterly from Jan 31 → Jan 31 + 6 months = Jul 31
    assert Contract.objects.get(customer=first.customer, package=target).starting_at == (
        dt.datetime(2030, 6, 1, tzinfo=dt.UTC)
    )
    assert Contract.objects.get(customer=on_quarterly.customer, package=target).starting_at == (
        dt.datetime(2030, 7, 31, tzinfo=dt.UTC)
    )
    assert counts(monthly_job)["migrated"] == counts(quarterly_job)["migrated"] == 1


def test_next_billing_period_skips_a_contract_that_ends_before_its_boundary():
    source, target = two_packages(duration_months=None)
    contract = cohort(source, 1, start=dt.datetime(2030, 1, 10, tzinfo=dt.UTC))[0]
    from contracts_app.services.contracts import contract_update_end_date

    contract_update_end_date(
        contract=contract, ending_before=dt.datetime(2030, 5, 20, tzinfo=dt.UTC)
    )
    migration = run_to_end(
        create_migration(
            source,
            target,
            effective={
                "type": "NEXT_BILLING_PERIOD",
                "not_before": dt.datetime(2030, 5, 15, tzinfo=dt.UTC),
            },
        )
    )
    assert reasons(migration) == {contract.id: "ENDS_BEFORE_EFFECTIVE"}


def test_customer_filters_include_and_exclude():
    source, target = two_packages()
    a, b, _c = cohort(source, 3)
    migration = run_to_end(
        create_migration(
            source,
            target,
            customer_ids=[a.customer_id, b.customer_id],
            exclude_customer_ids=[b.customer_id],
        )
    )
    assert counts(migration)["total"] == 1
    assert Contract.objects.get(package=target).customer_id == a.customer_id


def test_an_item_that_fails_is_failed_with_its_message_and_the_batch_goes_on():
    # given a customer archived after planning
    source, target = two_packages()
    bad, *_good = cohort(source, 5)
    migration = create_migration(source, target)
    bad.customer.archived_at = timezone.now()
    bad.customer.save()
    # when
    run_to_end(migration, batch_size=10)
    # then
    item = CohortMigrationItem.objects.get(migration=migration, contract=bad)
    assert (item.status, item.message) == ("FAILED", "The customer is archived")
    assert counts(migration)["migrated"] == 4
    assert counts(migration)["failed"] == 1


def test_a_write_the_database_refuses_fails_one_item_and_the_rest_migrate():
    # given a database that refuses new contracts for one customer (as a constraint would)
    source, target = two_packages()
    bad, *_good = cohort(source, 4)
    before = contract_state(bad.id)
    migration = create_migration(source, target)
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse_one() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE EXCEPTION 'refused for this customer'; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER refuse_one BEFORE INSERT ON contracts_app_contract FOR EACH ROW "
            f"WHEN (NEW.customer_id = '{bad.customer_id}') EXECUTE FUNCTION refuse_one()"
        )
    # when
    run_to_end(migration, batch_size=10)
    # then
    item = CohortMigrationItem.objects.get(migration=migration, contract=bad)
    assert item.status == "FAILED"
    assert "refused for this customer" in item.message
    assert contract_state(bad.id) == before
    assert counts(migration)["migrated"] == 3
    assert counts(migration)["failed"] == 1


def test_preview_writes_nothing_and_agrees_with_the_job():
    from contracts_app.selectors.cohort_migrations import cohort_migration_preview

    # given
    source, target = two_packages()
    contracts = cohort(source, 5)
    contract_archive(contract=contracts[0])
    data = services.migration_input(
        source={"package_id": source.id},
        target={"package_id": target.id},
        effective={"type": "AT", "at": AT},
    )
    tables = (
        "contracts_app_contract",
        "contracts_app_contractterm",
        "contracts_app_cohortmigrationitem",
        "contracts_app_cohortmigration",
    )

    def row_counts():
        with connection.cursor() as cursor:
            return [cursor.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables]

    before = row_counts()
    # when
    preview = cohort_migration_preview(
        spec=data.spec, source=data.source_package, target=data.target_package
    )
    # then
    assert row_counts() == before
    assert (preview["total"], preview["eligible"], preview["skipped"]) == (
        5,
        4,
        {"CONTRACT_ARCHIVED": 1},
    )
    assert preview["sample"][0]["outcome"] == "MIGRATE"
    assert preview["sample"][0]["new_contract"]["ending_before"] == "2031-02-10T00:00:00Z"
    assert {t["kind"] for t in preview["diff"]["terms_added"]} >= {"commit", "credit"}
    migration = run_to_end(create_migration(source, target))
    assert counts(migration)["migrated"] == preview["eligible"]
    assert counts(migration)["skipped"] == sum(preview["skipped"].values())


def test_a_batch_costs_the_same_queries_whatever_the_term_count(django_assert_max_num_queries):
    # given one cohort on 8-term packages and one on packages with 4 times the recurrences
    small_source, small_target = two_packages()
    cohort(small_source, 20)  # a second full batch for the pin below
    product = build.make_product("Big")
    many = [recurring_term(product, frequency="MONTHLY", duration=offset("MONTHS", 36))] * 6
    big_source, big_target = (
        build.make_package(
            name=f"Big {version}",
            rate_card=small_source.rate_card,
            terms=many,
            duration_unit="MONTHS",
            duration_value=36,
        )
        for version in ("v1", "v2")
    )
    cohort(big_source, 10, name="Big")
    small_job, big_job = (
        create_migration(small_source, small_target),
        create_migration(big_source, big_target),
    )
    # when
    queries = []
    for job in (small_job, big_job):
        with CaptureQueriesContext(connection) as captured:
            assert migration_batch_run(migration_id=job.id, batch_size=10) == 10
        queries.append(len(captured))
    # then
    assert queries[0] == queries[1]
    # 18 statements, three bulk audit inserts, two savepoints (the test's own transaction); a
    # package contract's terms are clipped with the outcomes (no term rewrite of their own)
    with django_assert_max_num_queries(23):
        assert migration_batch_run(migration_id=small_job.id, batch_size=10) == 10
    assert counts(big_job)["migrated"] == 10


def test_progress_comes_from_counter_rows():
    source, target = two_packages()
    cohort(source, 6)
    migration = create_migration(source, target)
    migration_batch_run(migration_id=migration.id, batch_size=2)
    progress = migration_progress([migration])[migration.id]
    assert progress["counts"]["pending"] == 4
    assert progress["percent"] == pytest.approx(33.3)
    assert CohortMigrationProgress.objects.filter(migration=migration).count() == 2


def test_contracts_moved_in_one_batch_get_their_own_term_and_item_ids():
    # given two contracts moved in the same batch (their terms materialised once, then copied)
    source, target = two_packages()
    first, second = cohort(source, 2)
    run_to_end(create_migration(source, target), batch_size=10)
    new = [Contract.objects.get(customer=c.customer, package=target) for c in (first, second)]

    def ids(contract):
        terms = list(contract.terms.all())
        row_ids = {str(t.id) for t in terms}
        item_ids = {
            item["id"]
            for t in terms
            for key in ("access_schedule", "invoice_schedule", "schedule")
            for item in (t.body.get(key) or {}).get("schedule_items", [])
        }
        links = {
            t.body[k]
            for t in terms
            for k in ("recurring_commit_id", "recurring_credit_id")
            if k in t.body
        }
        parents = {str(t.generated_from_id) for t in terms if t.generated_from_id}
        return row_ids, item_ids, links, parents

    (rows_a, items_a, links_a, parents_a), (rows_b, items_b, links_b, parents_b) = map(ids, new)
    # then nothing is shared, and every link points inside its own contract
    assert not rows_a & rows_b and not items_a & items_b
    assert links_a <= rows_a and parents_a <= rows_a and links_a
    assert links_b <= rows_b and parents_b <= rows_b and links_b
    assert len(items_a) == len(items_b) > 10
    # and every id, row or item, is a version-4 UUID written as one
    for text in rows_a | items_a | rows_b | items_b:
        assert str(uuid.UUID(text)) == text and uuid.UUID(text).version == 4


def test_processed_items_are_counted_for_metrics(django_capture_on_commit_callbacks):
    from config.metrics.registry import cohort_migration_items_processed

    source, target = two_packages()
    cohort(source, 3)
    migration = create_migration(source, target)
    before = cohort_migration_items_processed.labels("migrated")._value.get()
    with django_capture_on_commit_callbacks(execute=True):
        migration_batch_run(migration_id=migration.id, batch_size=10)
    assert cohort_migration_items_processed.labels("migrated")._value.get() == before + 3
