"""A pricing team member moves the cohort of Starter Plan v1 to v2 from a future date in the
browser: preview, confirm, watch the bar reach 100 % (a real Celery worker runs the batches on
the bulk queue), see the customers on v2, revert, see them back on v1.

Screenshots of each step go to $SCREENSHOT_DIR, else var/screens/migration_flow/ (git-ignored).
"""

import datetime as dt
import re

import pytest

from contracts_app.models import CohortMigration, CohortMigrationItem, Contract
from tests.builders.browser import WIDE, Screenshots, login, screenshot_dir
from tests.contracts_app.cohort_builders import bulk_cohort, starter_plan_versions

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.xdist_group("celery"),
]
shot = Screenshots(screenshot_dir("var/screens/migration_flow"))
START = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)  # 12-month contracts, running now
MOVE = "2027-03-01"  # a future date: revertible until then


def test_move_a_cohort_watch_it_run_and_revert_it(live_server, page, celery_worker_queue):
    # given Starter Plan v1 with a cohort of 30 customers, and v2
    v1, v2 = starter_plan_versions()
    bulk_cohort(v1, 30, start=START)
    base = live_server.url
    login(page, base, width=WIDE)

    # when they open Starter Plan v1 and press "Move this cohort…"
    page.goto(f"{base}/packages/{v1.id}/")
    shot(page, "1-package-v1")
    page.click("text=Move this cohort…")
    page.wait_for_url(re.compile(r"/migrations/new/\?source_package="))
    assert page.locator("#id_source_package").input_value() == str(v1.id)

    # choose v2 from a future date and preview
    page.select_option("#id_target_package", str(v2.id))
    page.check("input[name=timing][value=AT]")
    page.fill("#id_effective_at", MOVE)
    page.fill("#id_name", "Starter Plan v1 → v2")
    shot(page, "2-wizard")
    page.click("button[value=preview]")
    page.wait_for_selector("#migration-preview")
    assert page.inner_text('[data-count="total"]') == "30"
    assert page.inner_text('[data-count="eligible"]') == "30"
    assert page.inner_text(f'[data-after="{v2.id}"]') == "30"
    assert not CohortMigration.objects.exists()  # the preview wrote nothing
    shot(page, "3-preview")

    # confirm, and watch the bar reach 100 %
    page.click("button[value=confirm]")
    page.wait_for_url(re.compile(r"/migrations/[0-9a-f-]{36}/$"))
    migration = CohortMigration.objects.get()
    page.wait_for_selector('#migration-live .pct[data-percent="100"]', timeout=90_000)
    page.wait_for_selector("#migration-live .status-completed", timeout=30_000)
    assert page.inner_text('#migration-live [data-count="migrated"]') == "30"
    assert page.locator("#migration-live[hx-trigger]").count() == 0  # polling stopped
    # the items refreshed when the job finished
    # (the first render already has 30 pending rows: wait for the refreshed ones, not for a count)
    page.wait_for_function(
        "document.querySelectorAll('#item-rows tr').length === 30"
        " && !document.querySelector('#item-rows').innerText.includes('pending')",
        timeout=30_000,
    )
    assert "migrated" in page.inner_text("#item-rows")
    shot(page, "4-completed")

    # then the cohort is on v2 from the move
    page.goto(f"{base}/packages/{v2.id}/")
    assert "30 starting later" in page.inner_text(".cohort-summary")
    shot(page, "5-package-v2")
    page.goto(f"{base}/packages/{v2.id}/cohort/?at={MOVE}")
    assert "Customer 0" in page.inner_text("#cohort")
    assert Contract.objects.not_archived().filter(package=v2).count() == 30

    # revert it: the confirmation says what will happen and until when
    page.goto(f"{base}/migrations/{migration.id}/")
    page.click("text=Revert all…")
    text = page.inner_text("main")
    assert "30 moved contracts get their old contracts back" in text
    assert f"allowed until {MOVE}" in text
    shot(page, "6-revert-confirm")
    page.click("button.danger")
    page.wait_for_url(f"{base}/migrations/{migration.id}/")
    page.wait_for_selector("#migration-live .status-reverted", timeout=90_000)
    assert page.inner_text('#migration-live [data-count="reverted"]') == "30"
    shot(page, "7-reverted")

    # and the customers are back on v1, as before
    page.goto(f"{base}/packages/{v1.id}/")
    assert "30 contracts running now" in " ".join(page.inner_text(".cohort-summary").split())
    page.goto(f"{base}/packages/{v2.id}/cohort/?at={MOVE}")
    assert "Customer 0" not in page.inner_text("#cohort")
    shot(page, "8-v2-cohort-after-revert")
    assert Contract.objects.not_archived().filter(package=v2).count() == 0
    assert Contract.objects.filter(package=v1, ending_before=START.replace(year=2027)).count() == 30
    assert CohortMigrationItem.objects.filter(migration=migration, status="REVERTED").count() == 30
