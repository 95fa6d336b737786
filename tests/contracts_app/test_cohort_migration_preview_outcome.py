"""Preview = outcome: every number a migration preview shows (counts by outcome and reason, the
contracts that ended before the move, the on-date counts, the projected chart's points) is what
the run then does and what the selectors and listContractsOnPackage report afterwards, for each
timing. Batches run in-process; the API is called through the test client."""

from __future__ import annotations

import datetime as dt
import threading

import psycopg
import pytest
from django.conf import settings as django_settings
from django.db import connections
from django.urls import reverse
from django.utils import timezone

from contracts_app.models import CohortMigration, CohortMigrationItem, Contract, ContractEdit
from contracts_app.selectors.cohort_migrations import cohort_migration_preview, cohort_projection
from contracts_app.selectors.cohorts import cohort_sizes_over_time
from contracts_app.services import cohort_migrations as services
from contracts_app.services.contract_edits import contract_edit
from contracts_app.services.contracts import contract_archive, contract_update_end_date
from tests.contracts_app import contract_builders as build
from tests.contracts_app.cohort_builders import T0, cohort, run_to_end, two_packages
from tests.contracts_app.contract_builders import eight_terms
from tests.factories import UserFactory, api_post, user_with_token

# Batches run in-process here (conftest.in_process_batches).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_process_batches")]

UTC = dt.UTC
# The migration's date: AT's instant, NEXT_BILLING_PERIOD's not_before.
DATE = dt.datetime(2030, 3, 1, tzinfo=UTC)
TIMINGS = {
    "AT": {"type": "AT", "at": DATE},
    "NEXT_BILLING_PERIOD": {"type": "NEXT_BILLING_PERIOD", "not_before": DATE},
    "END_OF_TERM": {"type": "END_OF_TERM"},
}


def day(month: int, d: int, year: int = 2030) -> dt.datetime:
    return dt.datetime(year, month, d, tzinfo=UTC)


@pytest.fixture
def scene():
    """A source whose statements are anchored on each contract's start (so boundaries differ
    from contract to contract), a target with contracts of its own, and a source cohort of
    every kind around DATE: moving on it, moving after it, starting exactly on it, starting
    after it, ended before it, ending between it and a boundary, archived."""
    rate_card = build.make_rate_card()
    source = build.make_package(
        name="Starter v2",
        rate_card=rate_card,
        terms=eight_terms(build.make_product("Platform")),
        settings={"usage_statement_schedule": {"frequency": "MONTHLY", "day": "CONTRACT_START"}},
        duration_unit="MONTHS",
        duration_value=12,
    )
    target = build.make_package(
        name="Growth v2",
        rate_card=rate_card,
        terms=eight_terms(build.make_product("Growth platform")),
        duration_unit="MONTHS",
        duration_value=12,
    )
    cohort(target, 2, start=T0, name="Already on Growth")
    groups = {
        "on_the_1st": cohort(source, 4, start=day(1, 1), name="First"),  # boundary Mar 1
        "mid_month": cohort(source, 3, start=day(1, 15), name="Mid"),  # boundary Mar 15
        "starts_on_date": cohort(source, 2, start=DATE, name="On the date"),
        "starts_later": cohort(source, 2, start=day(4, 10), name="Later"),
        "ended": cohort(source, 2, start=day(1, 1, 2029), name="Ended"),  # ended 2030-01-01
        "ends_soon": cohort(source, 1, start=day(1, 20), name="Ends soon"),
        "archived": cohort(source, 2, start=day(1, 1), name="Archived"),
    }
    for contract in groups["ends_soon"]:
        contract_update_end_date(contract=contract, ending_before=day(3, 10))
    for contract in groups["archived"]:
        contract_archive(contract=contract)
    # one edited since provisioning (skipped as HAS_EDITS: it moves after the date anyway)
    contract_edit(
        contract=groups["mid_month"][0],
        data={"update_contract_name": "Negotiated"},
        kind=ContractEdit.Kind.EDIT,
    )
    return source, target, groups


def preview_api(client, token, source, target, effective) -> dict:
    body = {
        "source": {"package_id": str(source.id)},
        "target": {"package_id": str(target.id)},
        "effective": {
            key: (value.isoformat() if isinstance(value, dt.datetime) else value)
            for key, value in effective.items()
        },
    }
    response = api_post(client, token, "/v1/packages/migrations/preview", body)
    assert response.status_code == 200, response.content
    return response.json()["data"]


def listed_on_package(client, token, package, date: dt.datetime) -> int:
    """How many contracts listContractsOnPackage lists on the package at the date (all pages)."""
    listed, cursor = 0, None
    while True:
        query = "?limit=100" + (f"&next_page={cursor}" if cursor else "")
        response = api_post(
            client,
            token,
            "/v1/packages/listContractsOnPackage" + query,
            {"package_id": str(package.id), "covering_date": date.isoformat()},
        )
        assert response.status_code == 200, response.content
        page = response.json()
        listed += len(page["data"])
        cursor = page.get("next_page")
        if not cursor:
            return listed


def run(source, target, effective) -> CohortMigration:
    data = services.migration_input(
        source={"package_id": source.id}, target={"package_id": target.id}, effective=effective
    )
    migration = services.cohort_migration_create(data=data, name="preview = outcome")
    assert services.migration_start(migration_id=migration.id)
    return run_to_end(migration, batch_size=4)


def outcome_counts(migration) -> tuple[int, int, dict]:
    items = CohortMigrationItem.objects.filter(migration=migration)
    skipped: dict[str, int] = {}
    for reason in items.filter(status="SKIPPED").values_list("reason", flat=True):
        skipped[reason] = skipped.get(reason, 0) + 1
    return items.count(), items.filter(status="MIGRATED").count(), skipped


@pytest.fixture
def token():
    return user_with_token(
        "contracts_app.view_cohortmigration",
        "contracts_app.add_cohortmigration",
        "contracts_app.view_contract",
    )[1]


@pytest.mark.parametrize("timing", ["AT", "NEXT_BILLING_PERIOD"])
def test_on_date_counts_equal_list_contracts_on_package_after_the_run(client, token, scene, timing):
    # given a cohort where, with NEXT_BILLING_PERIOD, some contracts move on the date and some
    # at a later boundary
    source, target, _ = scene
    effective = TIMINGS[timing]
    before = {p.id: listed_on_package(client, token, p, DATE) for p in (source, target)}

    # when the API previews the move
    on_date = preview_api(client, token, source, target, effective)["on_date"]

    # then its on-date "before" figures are today's lists at the date
    assert on_date["date"] == "2030-03-01T00:00:00Z"
    assert on_date["source"]["package_id"] == str(source.id)
    assert on_date["target"]["package_id"] == str(target.id)
    assert on_date["source"]["before"] == before[source.id]
    assert on_date["target"]["before"] == before[target.id]
    assert on_date["source"]["after"] >= 0
    # and after the run, its "after" figures are listContractsOnPackage at that date
    run(source, target, effective)
    assert on_date["source"]["after"] == listed_on_package(client, token, source, DATE)
    assert on_date["target"]["after"] == listed_on_package(client, token, target, DATE)
    if timing == "NEXT_BILLING_PERIOD":
        # only the four on the 1st move on the date; the rest stay on Starter that day
        assert (on_date["source"]["before"] - on_date["source"]["after"]) == 4
        assert (on_date["target"]["after"] - on_date["target"]["before"]) == 4


def test_preview_page_headlines_the_live_cohort_and_shows_the_on_date_table(client, scene):
    # given the scene's cohort with two archived contracts and two that ended before the date
    source, target, _ = scene
    client.force_login(UserFactory(username="pricing", is_superuser=True))

    # when the wizard previews Starter → Growth at the next billing period from DATE
    response = client.post(
        reverse("contracts:migration-new"),
        {
            "source_package": str(source.id),
            "target_package": str(target.id),
            "timing": "NEXT_BILLING_PERIOD",
            "effective_at": "2030-03-01",
            "edited_contracts": "SKIP",
            "name": "Starter → Growth",
            "_action": "preview",
        },
    )
    html = response.content.decode()

    # then the headline counts the live cohort only; archived and ended ones are said apart
    assert response.status_code == 200, html
    preview = response.context["preview"]
    assert preview["skipped"]["CONTRACT_ARCHIVED"] == 2
    assert f'data-count="total">{preview["total"] - 2}<' in html
    assert 'data-count="archived">2<' in html
    assert 'data-count="ended_before_effective">2<' in html
    # and the on-date table is the selector's (the API's) figures, never negative
    on_date = preview["on_date"]
    assert f'data-before="{source.id}">{on_date["source"]["before"]}<' in html
    assert f'data-after="{source.id}">{on_date["source"]["after"]}<' in html
    assert f'data-after="{target.id}">{on_date["target"]["after"]}<' in html
    assert on_date["source"]["after"] == on_date["source"]["before"] - 4


def test_a_contract_starting_exactly_at_not_before_moves_at_its_next_boundary(scene):
    # given two contracts starting exactly at not_before (statements anchored on their start)
    source, target, groups = scene

    # when a NEXT_BILLING_PERIOD migration from that instant runs
    migration = run(source, target, TIMINGS["NEXT_BILLING_PERIOD"])

    # then they move at their first boundary after their start, not skipped
    for contract in groups["starts_on_date"]:
        item = CohortMigrationItem.objects.get(migration=migration, contract=contract)
        assert (item.status, item.reason) == ("MIGRATED", "")
        assert item.effective_at == day(4, 1)
        assert Contract.objects.get(customer=contract.customer, package=target).starting_at == (
            day(4, 1)
        )


@pytest.mark.parametrize("timing", ["AT", "NEXT_BILLING_PERIOD", "END_OF_TERM"])
def test_contracts_ended_before_the_move_are_reported_and_the_numbers_add_up(
    client, token, scene, timing
):
    # given the scene: two contracts of Starter ended before the date, two archived
    source, target, _ = scene
    effective = TIMINGS[timing]

    # when previewed (API) and run
    preview = preview_api(client, token, source, target, effective)
    migration = run(source, target, effective)

    # then the ended ones are reported by both (END_OF_TERM's cutoff is now, before they end:
    # none), and with the live cohort they are the package's contracts (listContractsOnPackage
    # without a date; the moved ones stay on it, ended at their move)
    ended = 0 if timing == "END_OF_TERM" else 2
    assert preview["ended_before_effective"] == ended
    migration.refresh_from_db()
    assert migration.ended_before_effective == ended
    live = preview["total"] - preview["skipped"].get("CONTRACT_ARCHIVED", 0)
    assert live + ended == Contract.objects.filter(package=source, archived_at__isnull=True).count()
    got = api_post(
        client, token, "/v1/packages/migrations/get", {"migration_id": str(migration.id)}
    ).json()["data"]
    assert got["ended_before_effective"] == ended
    # and the job's page says it
    client.force_login(UserFactory(username="pricing", is_superuser=True))
    html = client.get(reverse("contracts:migration-detail", args=[migration.id])).content.decode()
    assert (f'data-count="ended_before_effective">{ended}<' in html) == bool(ended)


@pytest.mark.parametrize("timing", ["AT", "NEXT_BILLING_PERIOD", "END_OF_TERM"])
def test_every_number_the_preview_shows_is_what_the_run_does(client, token, scene, timing):
    """One table of numbers per timing: each previewed number beside the same number read back
    after the run (items by outcome and reason, ended before the move, on-date counts, and
    the projected chart's points against the cohort chart's query)."""
    source, target, _ = scene
    effective = TIMINGS[timing]
    data = services.migration_input(
        source={"package_id": source.id}, target={"package_id": target.id}, effective=effective
    )
    now = timezone.now()
    preview = cohort_migration_preview(spec=data.spec, source=source, target=target)
    projected = cohort_projection(spec=data.spec, source=source, target=target, now=now)

    migration = run(source, target, effective)

    total, migrated, skipped = outcome_counts(migration)
    migration.refresh_from_db()
    after = cohort_sizes_over_time(
        package_ids=[source.id, target.id],
        start=projected.points[0],
        end=projected.points[-1],
        bucket="month",
    )
    assert after.points == projected.points
    table = [
        ("total", preview["total"], total),
        ("eligible → migrated", preview["eligible"], migrated),
        ("skipped by reason", preview["skipped"], skipped),
        ("edited → HAS_EDITS", preview["edits"]["contracts"], skipped.get("HAS_EDITS", 0)),
        ("ended before", preview["ended_before_effective"], migration.ended_before_effective),
        ("chart: source", projected.sizes[source.id], after.sizes[source.id]),
        ("chart: target", projected.sizes[target.id], after.sizes[target.id]),
    ]
    if preview["on_date"] is not None:
        on_date = preview["on_date"]
        for side, package in (("source", source), ("target", target)):
            table.append(
                (
                    f"on date: {side}",
                    on_date[side]["after"],
                    listed_on_package(client, token, package, DATE),
                )
            )
    else:
        assert timing == "END_OF_TERM"
    wrong = [(name, shown, done) for name, shown, done in table if shown != done]
    assert not wrong, wrong
    assert migrated > 0  # the table compared a run that moved something


@pytest.mark.django_db(transaction=True)
def test_a_contract_claimed_by_a_job_planned_meanwhile_is_skipped_in_the_same_statement(
    unconsumed_bulk_queue,
):
    # given a cohort of five, and another job whose plan has claimed one contract in a
    # transaction not yet committed (invisible to this plan's snapshot)
    source, target = two_packages()
    contracts = cohort(source, 5)
    claimed = contracts[0]
    other = services.cohort_migration_create(
        data=services.migration_input(
            source={"package_id": source.id},
            target={"package_id": target.id},
            effective=TIMINGS["AT"],
        ),
        run_at=dt.datetime(2099, 1, 1, tzinfo=UTC),
    )
    mine = services.cohort_migration_create(
        data=services.migration_input(
            source={"package_id": source.id},
            target={"package_id": target.id},
            effective=TIMINGS["AT"],
        ),
        run_at=dt.datetime(2099, 1, 1, tzinfo=UTC),  # due below: nothing queued on create
    )
    CohortMigration.objects.filter(id=mine.id).update(run_at=timezone.now())
    url = django_settings.DATABASES["default"]
    held = psycopg.connect(
        host=url["HOST"],
        port=url["PORT"],
        user=url["USER"],
        password=url["PASSWORD"],
        dbname=url["NAME"],
    )
    held.execute(
        "INSERT INTO contracts_app_cohortmigrationitem (migration_id, contract_id, customer_id, "
        "status, reason, message, effective_at, target_package_id) "
        "VALUES (%s, %s, %s, 'PENDING', '', '', %s, %s)",
        [other.id, claimed.id, claimed.customer_id, DATE, target.id],
    )

    # when this job is planned (its INSERT waits on the claim) and the other commits
    started: list = []

    def plan():
        try:
            started.append(services.migration_start(migration_id=mine.id))
        finally:
            connections.close_all()

    thread = threading.Thread(target=plan)
    thread.start()
    thread.join(timeout=1.5)
    assert thread.is_alive()  # waiting on the unique index
    held.commit()
    held.close()
    thread.join(timeout=30)

    # then the claimed contract is skipped as IN_OTHER_MIGRATION, the four others pending
    assert started == [True]
    items = dict(
        CohortMigrationItem.objects.filter(migration=mine).values_list("contract_id", "reason")
    )
    assert len(items) == 5
    assert items[claimed.id] == "IN_OTHER_MIGRATION"
    assert (
        CohortMigrationItem.objects.filter(migration=mine, status="PENDING").count(),
        CohortMigrationItem.objects.filter(migration=mine, status="SKIPPED").count(),
    ) == (4, 1)
    progress = mine.progress.get()
    assert (progress.total, progress.pending, progress.skipped) == (5, 4, 1)
