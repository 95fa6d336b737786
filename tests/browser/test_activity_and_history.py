"""In the browser: /activity/ and the History sections speak the page's words. Dates are ISO
text boxes, the resource type is a select in words, a cohort migration's 150 per-contract
entries are one row ("Cohort migration … moved 150 contracts") that opens in place, and no
history row shows a raw `package_id`/`rate_card_id`, a UUID, or "add_rates: rate_ids …".

Screenshots go to $SCREENSHOT_DIR, else shots/activity/ (git-ignored).
"""

import datetime as dt
import re

import pytest

from packages_app.services.aliases import alias_assign
from tests.builders.browser import WIDE, Screenshots, assert_fits, login, screenshot_dir
from tests.builders.migrations import create_migration
from tests.builders.pages import flat_rate
from tests.contracts_app.cohort_builders import (
    bulk_cohort,
    run_to_end,
    starter_plan_versions,
)
from tests.contracts_app.contract_builders import make_product

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
shot = Screenshots(screenshot_dir("shots/activity"))
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
START = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
MOVE = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)


def test_activity_and_history_speak_the_pages_words(live_server, page):
    v1, v2 = starter_plan_versions()
    rate_card = v1.rate_card
    api_calls = make_product("API calls")
    flat_rate(rate_card, api_calls, 25, "2027-01-01T00:00:00Z")
    alias_assign(kind="package", name="Starter Plan", package=v2, starting_at=START)
    bulk_cohort(v1, 150, start=START)
    migration = create_migration(
        v1, v2, effective={"type": "AT", "at": MOVE}, name="Starter v1 → v2"
    )
    run_to_end(migration, batch_size=500)
    base = live_server.url
    login(page, base, is_staff=True, width=WIDE)

    # /activity/: ISO date boxes and a select of resource types in words
    page.goto(f"{base}/activity/")
    for box in ("#id_since", "#id_until"):
        assert page.get_attribute(box, "type") == "text"
        assert page.get_attribute(box, "placeholder") == "YYYY-MM-DD"
    options = page.locator("#id_resource_type option").all_inner_texts()
    assert {"Rate card", "Package", "Cohort migration", "Webhook"} <= set(options)
    assert "rate_card" not in options

    # the migration's 450 per-contract entries (150 moved) are one row, in words
    batch = page.locator("tr.batch-row")
    assert batch.count() == 1
    assert "Cohort migration “Starter v1 → v2” moved 150 contracts" in batch.inner_text()
    assert page.locator("table.activity > tbody > tr:not(.batch-members-row)").count() < 20
    entries_text = page.inner_text("#activity-entries")
    assert not UUID.search(entries_text), UUID.search(entries_text)
    for raw in ("rate_card_id", "package_id", "rate_ids", "add_rates"):
        assert raw not in entries_text
    shot(page, "1-activity")
    page.set_viewport_size({"width": 800, "height": 900})
    shot(page, "1b-activity-800")
    # the Changes column is wide enough for words (no UUID broken character by character)
    widths = page.eval_on_selector_all(
        "table.activity > tbody > tr > td.changes", "cells => cells.map(c => c.offsetWidth)"
    )
    assert min(widths) >= 200, widths
    assert_fits(page, 800)
    page.set_viewport_size({"width": 1400, "height": 900})

    # opened, it lists the contracts it changed, in place
    batch.locator("summary").click()
    page.locator(".batch-members table tbody tr").first.wait_for()
    assert page.locator(".batch-members table tbody tr").count() == 50
    members = page.inner_text(".batch-members")
    assert "Created" in members and "Starter Plan v2" in members
    shot(page, "2-activity-batch-open")
    page.set_viewport_size({"width": 800, "height": 900})
    shot(page, "2b-activity-batch-open-800")
    page.set_viewport_size({"width": 1400, "height": 900})

    # filtered by the select: the rate card's rates added, named, with the product and date
    page.select_option("#id_resource_type", "rate_card")
    page.click("button:has-text('Filter')")
    page.wait_for_url(re.compile(r"resource_type=rate_card"))
    text = page.inner_text("#activity-entries")
    assert "Added rates" in text and "API calls from 2027-01-01" in text
    assert "Rate card" in text and rate_card.name in text

    # the rate card page's History: names and words, and a link named in words
    page.goto(f"{base}/rate-cards/{rate_card.id}/")
    page.locator("#history table").wait_for()
    history = page.inner_text("#history")
    assert "Rates added" in history and "API calls from 2027-01-01" in history
    assert "All activity on this rate card →" in history
    assert not UUID.search(history) and "rate_ids" not in history and "rate_card" not in history
    shot(page, "3-rate-card-history")

    # the alias page's History names the package it points at, with a link
    page.goto(f"{base}/activity/?resource_type=alias")
    link = page.locator("#activity-entries td.changes a", has_text="Starter Plan v2")
    assert link.count() == 1
    assert link.get_attribute("href") == f"/packages/{v2.id}/"
    shot(page, "4-alias-activity")

    # the admin reads dates the same way
    page.goto(f"{base}/admin/packages_app/package/")
    admin_text = page.inner_text("#result_list")
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", admin_text)
    shot(page, "5-admin-dates")
