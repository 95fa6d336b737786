"""The migration pages say what is true, in the page's words (issue 20 item 7): the wizard's
"only these customers" takes ids, external ids or names and shows whom each names before the
preview; a job just queued says it is starting (then "n of m"), not "waits until"; a cancelled
job that moved nothing offers no revert; the item links name the contracts they open.

Each test looks at the page at 1400 px and 800 px; screenshots go to $SCREENSHOT_DIR, else
var/screens/migration_pages/ (git-ignored). Batches run in-process (a queue nobody consumes).
"""

import datetime as dt
import re

import pytest
from django.utils import timezone

from config.core.billing_periods import add_months
from contracts_app.models import CohortMigration, Customer
from contracts_app.services.cohort_migrations import (
    cohort_migration_cancel,
    cohort_migration_create,
    cohort_migration_revert,
    migration_input,
    migration_start,
)
from contracts_app.services.customers import customer_create
from contracts_app.services.provisioning import contract_provision
from packages_app.models import Package
from tests.builders.browser import WIDE, Screenshots, login, screenshot_dir
from tests.builders.migrations import create_migration
from tests.contracts_app.cohort_builders import (
    bulk_cohort,
    cohort,
    run_to_end,
    starter_plan_versions,
    two_packages,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
START = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)  # 12-month contracts, running now
MOVE = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)  # a future date: revertible until then
shot = Screenshots(screenshot_dir("var/screens/migration_pages"), widths=(WIDE, 800), fits=True)


def starter_plans(n: int):
    v1, v2 = starter_plan_versions()
    bulk_cohort(v1, n, start=START)
    return v1, v2


def job(v1, v2, *, start: bool = False, **kwargs) -> CohortMigration:
    """A job from v1 to v2 at MOVE, started when `start` (its batches left to the test)."""
    return create_migration(
        v1,
        v2,
        effective={"type": "AT", "at": MOVE},
        start=start,
        name="Starter Plan v1 → v2",
        **kwargs,
    )


def test_the_wizard_takes_ids_external_ids_and_names_and_shows_whom_they_name(
    live_server, page, unconsumed_bulk_queue
):
    # given a cohort of 6, and two more customers known by an external id and by a name
    v1, v2 = starter_plans(6)
    acme = customer_create(name="Acme Corp", external_id="acme-42")
    globex = customer_create(name="Globex Inc")
    for customer in (acme, globex):
        contract_provision(customer=customer, package=v1, starting_at=START)
    by_id = v1.contracts.exclude(customer__in=[acme, globex]).first().customer
    base = live_server.url
    login(page, base, width=WIDE)

    # when only these customers are given: an external id, a name (any case), an id, a stranger
    page.goto(f"{base}/migrations/new/?source_package={v1.id}")
    page.select_option("#id_target_package", str(v2.id))
    page.fill("#id_effective_at", MOVE.strftime("%Y-%m-%d"))
    page.fill("#id_customer_ids", f"acme-42\nglobex inc, {by_id.id}\nInitech")
    page.click("button[value=preview]")

    # then the stranger is named beside the box and nothing is previewed
    error = page.locator("#id_customer_ids_error")
    assert "Initech" in error.inner_text()
    assert "acme-42" not in error.inner_text()
    assert page.locator("#migration-preview").count() == 0
    shot(page, "1-wizard-unknown-customer")

    # fixed: each entry is shown with the customer it names, and the preview moves those three
    page.fill("#id_customer_ids", f"acme-42\nglobex inc, {by_id.id}")
    page.click("button[value=preview]")
    page.locator("#migration-preview").wait_for()
    resolved = page.locator("#resolved-customer_ids").inner_text()
    assert f"Acme Corp ({acme.id})" in resolved
    assert f"Globex Inc ({globex.id})" in resolved
    assert f"{by_id.name} ({by_id.id})" in resolved
    assert page.inner_text('[data-count="eligible"]') == "3"
    shot(page, "2-wizard-preview-resolved")

    # and the confirmed job carries their ids (the API's UUIDs)
    page.click("button[value=confirm]")
    page.wait_for_url(re.compile(r"/migrations/[0-9a-f-]{36}/$"))
    assert sorted(CohortMigration.objects.get().customer_ids) == sorted(
        str(c.id) for c in (acme, globex, by_id)
    )


def test_a_job_just_queued_says_it_is_starting_then_n_of_m(
    live_server, page, unconsumed_bulk_queue
):
    v1, v2 = starter_plans(12)
    base = live_server.url
    login(page, base, width=WIDE)

    # a job due now, not yet picked up by a worker
    migration = job(v1, v2)
    page.goto(f"{base}/migrations/{migration.id}/")
    live = page.locator("#migration-live")
    assert "Waits until" not in live.inner_text()
    assert "scheduled" not in live.inner_text()
    assert "Starting" in live.inner_text()
    assert live.get_attribute("hx-trigger") == "every 1s"
    shot(page, "3-job-starting")
    page.goto(f"{base}/migrations/")
    assert page.inner_text("#migration-rows tr td:nth-child(2)") == "starting"
    page.goto(f"{base}/migrations/{migration.id}/")

    # the worker plans it: the page (polling) says how many of how many have moved
    migration_start(migration_id=migration.id)
    page.locator("#migration-live", has_text="0 of 12").wait_for()
    shot(page, "4-job-running")

    # done: completed, polling stopped
    run_to_end(migration)
    page.locator("#migration-live .status-completed").wait_for()
    assert "12 of 12" in page.inner_text("#migration-live")
    shot(page, "5-job-completed")


def test_a_cancelled_job_that_moved_nothing_offers_no_revert(
    live_server, page, unconsumed_bulk_queue
):
    v1, v2 = starter_plans(5)
    base = live_server.url
    login(page, base, width=WIDE)
    # one cancelled before it started, one cancelled after planning, before any batch
    before = job(v1, v2, run_at=MOVE - dt.timedelta(days=10))
    cohort_migration_cancel(migration=before)
    during = job(v1, v2, start=True)
    cohort_migration_cancel(migration=CohortMigration.objects.get(id=during.id))

    for migration in (before, during):
        page.goto(f"{base}/migrations/{migration.id}/")
        page.locator("#migration-live .status-cancelled").wait_for()
        assert page.locator("#migration-live a", has_text="Revert").count() == 0
        assert "contracts already moved stay moved" not in page.inner_text("#migration-live")
        assert "nothing had moved" in page.inner_text("#migration-live")
    shot(page, "6-job-cancelled")


def test_item_links_name_the_old_and_the_new_contract(live_server, page, unconsumed_bulk_queue):
    v1, v2 = starter_plans(3)
    base = live_server.url
    login(page, base, width=WIDE)
    migration = job(v1, v2, start=True)
    run_to_end(migration)

    page.goto(f"{base}/migrations/{migration.id}/")
    rows = page.locator("#item-rows tr")
    assert rows.count() == 3
    links = rows.first.locator("a")
    names = [links.nth(i).inner_text() for i in range(links.count())]
    assert "open" not in names
    old = rows.first.get_by_role("link", name=re.compile("^old contract"))
    new = rows.first.get_by_role("link", name=re.compile("^new contract"))
    assert old.inner_text() == "2026-06-01 → 2027-03-01"
    assert new.inner_text() == "2027-03-01 → 2028-03-01"  # 12 months from the move
    new.click()
    page.wait_for_url(re.compile(r"/contracts/[0-9a-f-]{36}/$"))


def test_a_staged_rollout_in_the_browser_canary_pause_resume(
    live_server, page, unconsumed_bulk_queue
):
    v1, v2 = starter_plans(8)
    base = live_server.url
    login(page, base, width=WIDE)

    # the wizard: a canary of the first 3 contracts
    page.goto(f"{base}/migrations/new/?source_package={v1.id}")
    page.select_option("#id_target_package", str(v2.id))
    page.fill("#id_effective_at", MOVE.strftime("%Y-%m-%d"))
    page.check("input[name=canary][value=count]")
    page.fill("#id_canary_count", "3")
    page.click("button[value=preview]")
    page.locator("#migration-preview").wait_for()
    assert "the first 3 contracts move first, then the job pauses" in page.inner_text(
        "[data-canary]"
    )
    shot(page, "7-wizard-canary-preview")
    page.click("button[value=confirm]")
    page.wait_for_url(re.compile(r"/migrations/[0-9a-f-]{36}/$"))
    migration = CohortMigration.objects.get()
    assert migration.canary == {"count": 3}

    # the canary moves, the job pauses: the page says so and offers Resume
    migration_start(migration_id=migration.id)
    run_to_end(migration)
    page.reload()
    live = page.locator("#migration-live")
    live.locator(".status-paused").wait_for()
    assert "3 of 8 contracts done, 5 wait until you resume" in live.inner_text()
    assert "A staged rollout: the first 3 contracts move first" in live.inner_text()
    assert live.get_by_role("button", name="Pause").count() == 0
    assert live.get_by_role("link", name="Revert all…").count() == 1
    shot(page, "8-job-paused-after-the-canary")

    # resume: running again, with a Pause button
    live.get_by_role("button", name="Resume").click()
    page.locator("#migration-live .status-running").wait_for()
    assert CohortMigration.objects.get(id=migration.id).status == "RUNNING"
    shot(page, "9-job-resumed-running")
    page.locator("#migration-live").get_by_role("button", name="Pause").click()
    page.locator("#migration-live .status-paused").wait_for()
    assert "3 of 8 contracts done, 5 wait" in page.inner_text("#migration-live")
    page.locator("#migration-live").get_by_role("button", name="Resume").click()
    page.locator("#migration-live .status-running").wait_for()
    run_to_end(migration)
    page.locator("#migration-live .status-completed").wait_for()
    assert "8 of 8" in page.inner_text("#migration-live")


def test_a_page_opened_before_the_canary_moved_shows_the_moved_items(
    live_server, page, unconsumed_bulk_queue
):
    """The items table follows the polled counts: opened while nothing had moved, the page
    shows the canary's 3 contracts migrated once the job has paused (not "pending")."""
    v1, v2 = starter_plans(8)
    base = live_server.url
    login(page, base)
    migration = job(v1, v2, canary={"count": 3})
    migration_start(migration_id=migration.id)
    page.goto(f"{base}/migrations/{migration.id}/")
    rows = page.locator("#item-rows tr")
    assert rows.count() == 8 and page.locator("#item-rows .status-pending").count() == 8

    run_to_end(migration)
    page.locator("#migration-live .status-paused").wait_for()
    page.wait_for_function(
        "document.querySelectorAll('#item-rows .status-migrated').length === 3", timeout=20_000
    )
    assert page.locator("#item-rows .status-pending").count() == 5
    assert page.inner_text("[data-count=migrated]") == "3"
    shot(page, "10-paused-items-agree-with-counts")


def test_a_reverted_jobs_items_say_their_new_contract_is_archived(
    live_server, page, unconsumed_bulk_queue
):
    """Skip reasons in words only; a reverted item's new contract link is marked archived."""
    v1, v2 = starter_plans(4)
    late = Customer.objects.order_by("name").first()
    late.contracts.update(starting_at=MOVE + dt.timedelta(days=1))
    base = live_server.url
    login(page, base)
    migration = job(v1, v2)
    migration_start(migration_id=migration.id)
    run_to_end(migration)
    cohort_migration_revert(migration=migration)
    run_to_end(migration, revert=True)
    page.goto(f"{base}/migrations/{migration.id}/")
    live = page.locator("#migration-live")
    assert "STARTS_AFTER_EFFECTIVE" not in live.inner_text()
    assert live.get_by_role("link", name=re.compile(r"^1 · ")).count() == 1
    archived = page.locator("#item-rows .badge", has_text="archived")
    assert archived.count() == 3
    assert page.get_by_role("link", name=re.compile(r"^new contract of .*, archived$")).count() == 3
    shot(page, "11-reverted-items-archived")


def test_retry_failed_moves_the_fixed_items(live_server, page, unconsumed_bulk_queue):
    # given a completed job with one item failed (its customer archived after the plan)
    v1, v2 = starter_plans(4)
    base = live_server.url
    login(page, base, width=WIDE)
    migration = job(v1, v2, start=True)
    bad = v1.contracts.order_by("id").first().customer
    Customer.objects.filter(id=bad.id).update(archived_at=timezone.now())
    run_to_end(migration)
    page.goto(f"{base}/migrations/{migration.id}/")
    page.get_by_role("link", name="Retry failed (1)…").click()
    assert "1 contract that failed is tried again" in page.inner_text("main")
    shot(page, "10-retry-failed-confirm")
    # the cause fixed, the retry moves it
    Customer.objects.filter(id=bad.id).update(archived_at=None)
    page.get_by_role("button", name="Retry 1 failed").click()
    page.wait_for_url(f"{base}/migrations/{migration.id}/")
    run_to_end(migration)
    page.locator("#migration-live .status-completed").wait_for()
    assert page.inner_text('#migration-live [data-count="migrated"]') == "4"
    assert page.locator("#migration-live a", has_text="Retry failed").count() == 0


def test_revert_what_has_not_taken_effect(live_server, page, unconsumed_bulk_queue):
    # given a next-billing-period job from 5 days ago: 2 customers' moves took effect 3 days
    # ago, 3 customers' take effect in 3 days
    v1, v2 = two_packages()
    Package.objects.filter(pk=v1.pk).update(
        name="Starter Plan v1",
        settings={
            **(v1.settings or {}),
            "usage_statement_schedule": {"frequency": "MONTHLY", "day": "CONTRACT_START"},
        },
    )
    v1.refresh_from_db()
    now = timezone.now().replace(microsecond=0)
    cohort(v1, 2, start=add_months(now - dt.timedelta(days=3), -2), name="In effect")
    cohort(v1, 3, start=add_months(now + dt.timedelta(days=3), -2), name="Ahead")
    migration = cohort_migration_create(
        data=migration_input(
            source={"package_id": v1.id},
            target={"package_id": v2.id},
            effective={"type": "NEXT_BILLING_PERIOD", "not_before": now - dt.timedelta(days=5)},
            allow_past=True,
        ),
        name="Monthly v1 → v2",
    )
    migration_start(migration_id=migration.id)
    run_to_end(migration)
    base = live_server.url
    login(page, base, width=WIDE)

    # the page offers to revert what has not taken effect, by count, and not "Revert all"
    page.goto(f"{base}/migrations/{migration.id}/")
    live = page.locator("#migration-live")
    assert live.get_by_role("link", name="Revert all…").count() == 0
    live.get_by_role("link", name="Revert what has not taken effect (3 customers)…").click()
    text = page.inner_text("main")
    assert "3 moved contracts whose move has not taken effect yet get the old contract back" in text
    assert "the 2 already in effect stay on the new package" in text
    shot(page, "11-revert-not-in-effect-confirm")
    page.get_by_role("button", name="Revert 3 contracts").click()
    page.wait_for_url(f"{base}/migrations/{migration.id}/")
    run_to_end(migration, revert=True)
    page.locator("#migration-live .status-partially_reverted").wait_for()
    assert page.inner_text('#migration-live [data-count="reverted"]') == "3"
    shot(page, "12-partially-reverted-not-in-effect")
