"""A staged rollout end to end in the browser with a real Celery worker (issue 22, browser
part): the wizard's canary, the job pausing by itself after it (the page notices: it polls
while PAUSED), Resume, completed, then "Revert what has not taken effect" gives back only the
moves still ahead. Also: the job says who created it, and its history speaks in words.

Each step is looked at 1400 px and 800 px; screenshots go to $SCREENSHOT_DIR, else
var/screens/staged_rollout/ (git-ignored).
"""

import datetime as dt
import re

import pytest
from django.utils import timezone

from config.core.billing_periods import add_months
from contracts_app.models import CohortMigration
from contracts_app.services.cohort_migrations import cohort_migration_resume
from packages_app.models import Package
from tests.builders.browser import WIDE, Screenshots, login, screenshot_dir
from tests.contracts_app.cohort_builders import cohort, two_packages

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.slow,
    pytest.mark.xdist_group("celery"),
]
shot = Screenshots(screenshot_dir("var/screens/staged_rollout"), widths=(WIDE, 800), fits=True)
WORKER = 90_000  # ms: a real worker on a shared machine


def test_canary_pause_resume_complete_and_revert_what_has_not_taken_effect(
    live_server, page, celery_worker_queue
):
    # given Monthly v1: 2 customers whose next billing period began 3 days ago, 4 whose next
    # one begins in 3 days
    v1, v2 = two_packages()
    Package.objects.filter(pk=v1.pk).update(
        name="Monthly v1",
        settings={
            **(v1.settings or {}),
            "usage_statement_schedule": {"frequency": "MONTHLY", "day": "CONTRACT_START"},
        },
    )
    Package.objects.filter(pk=v2.pk).update(name="Monthly v2")
    v1.refresh_from_db()  # (the cohort is provisioned from the package as it is now)
    now = timezone.now().replace(microsecond=0)
    cohort(v1, 2, start=add_months(now - dt.timedelta(days=3), -2), name="In effect")
    cohort(v1, 4, start=add_months(now + dt.timedelta(days=3), -2), name="Ahead")
    base = live_server.url
    login(page, base, first_name="Priya", last_name="Raman", width=WIDE)

    # the wizard: each contract's next billing period from 5 days ago (asked, and allowed),
    # a canary of the first 2 contracts
    since = (now - dt.timedelta(days=5)).strftime("%Y-%m-%d")
    page.goto(f"{base}/migrations/new/?source_package={v1.id}")
    page.select_option("#id_target_package", str(v2.id))
    page.check("input[name=timing][value=NEXT_BILLING_PERIOD]")
    page.fill("#id_effective_at", since)
    page.fill("#id_name", "Monthly v1 → v2, staged")
    page.check("input[name=canary][value=count]")
    page.fill("#id_canary_count", "2")
    page.click("button[value=preview]")
    page.locator("#id_allow_past").check()
    page.click("button[value=preview]")
    page.locator("#migration-preview").wait_for()
    assert "the first 2 contracts move first, then the job pauses" in page.inner_text(
        "[data-canary]"
    )
    shot(page, "1-wizard-canary-preview")

    # confirm: the worker moves the canary and the job pauses by itself; the page notices
    page.click("button[value=confirm]")
    page.wait_for_url(re.compile(r"/migrations/[0-9a-f-]{36}/$"))
    migration = CohortMigration.objects.get()
    live = page.locator("#migration-live")
    live.locator(".status-paused").wait_for(timeout=WORKER)
    assert "2 of 6 contracts done, 4 wait until you resume" in live.inner_text()
    assert live.get_attribute("hx-trigger") == "every 10s"  # still watching, slowly
    facts = page.inner_text("dl.facts")
    assert "by Priya Raman" in facts and "by —" not in facts
    # no empty band above "Status:": the panel's own padding, not a heading's 2rem margin
    gap = page.evaluate(
        "document.querySelector('#live-title').getBoundingClientRect().top"
        " - document.querySelector('#migration-live').getBoundingClientRect().top"
    )
    assert gap < 24, f"{gap} px above the status line"
    shot(page, "2-paused-after-the-canary")

    # Resume: running again, then completed by the worker
    live.get_by_role("button", name="Resume").click()
    page.locator("#migration-live .status-completed").wait_for(timeout=WORKER)
    assert page.inner_text('#migration-live [data-count="migrated"]') == "6"
    assert page.locator("#migration-live[hx-trigger]").count() == 0  # polling stopped
    shot(page, "3-completed")

    # two moves took effect: "Revert all" is gone, "what has not taken effect" offers the 4
    assert live.get_by_role("link", name="Revert all…").count() == 0
    live.get_by_role("link", name="Revert what has not taken effect (4 customers)…").click()
    text = page.inner_text("main")
    assert "4 moved contracts whose move has not taken effect yet get the old contract back" in (
        text
    )
    shot(page, "4-revert-not-in-effect-confirm")
    page.get_by_role("button", name="Revert 4 contracts").click()
    page.wait_for_url(f"{base}/migrations/{migration.id}/")
    page.locator("#migration-live .status-partially_reverted").wait_for(timeout=WORKER)
    assert page.inner_text('#migration-live [data-count="reverted"]') == "4"
    assert (
        "4 customers have their old contract back; 2 stay on the new package, their move "
        "already in effect" in page.inner_text("#migration-live")
    )
    assert "0 stay" not in page.inner_text("#migration-live")
    page.locator("#history").wait_for()
    history = " ".join(page.inner_text("#history").split())
    assert "scheduled → running" in history and "SCHEDULED" not in history
    assert "only the moves that have not taken effect" in history
    assert "From Monthly v1" in history and "Package: " not in history
    assert "Finish:" not in history
    assert "background job: migration batch" in history and "contracts_app.tasks" not in history
    shot(page, "5-partially-reverted")


def test_a_paused_page_notices_a_resume_made_elsewhere(live_server, page, celery_worker_queue):
    v1, v2 = two_packages()
    cohort(v1, 4, start=timezone.now() - dt.timedelta(days=30))
    from tests.builders.migrations import create_migration

    move = {"type": "AT", "at": timezone.now() + dt.timedelta(days=60)}
    base = live_server.url
    login(page, base)
    migration = create_migration(v1, v2, effective=move, start=False, canary={"count": 1})
    page.goto(f"{base}/migrations/{migration.id}/")
    page.locator("#migration-live .status-paused").wait_for(timeout=WORKER)
    # resumed by somebody else (the API, the CLI): this page turns to completed by itself
    cohort_migration_resume(migration=CohortMigration.objects.get(id=migration.id))
    page.locator("#migration-live .status-completed").wait_for(timeout=WORKER)
    assert page.inner_text('#migration-live [data-count="migrated"]') == "4"
