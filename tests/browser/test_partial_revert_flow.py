"""In the browser: the wizard asks, in words and with a checkbox, before moving a cohort from a
past date; a revert of a job one of whose customers renewed after the move says who stays,
ends partially reverted, and lists who was not reverted and why, in words.

Screenshots of each step go to $SCREENSHOT_DIR, else var/screens/partial_revert/ (git-ignored).
"""

import datetime as dt

import pytest

from contracts_app.models import CohortMigration, CohortMigrationItem, Contract
from contracts_app.services.provisioning import contract_provision
from tests.builders.browser import WIDE, Screenshots, login, screenshot_dir
from tests.builders.migrations import create_migration
from tests.contracts_app.cohort_builders import (
    bulk_cohort,
    run_to_end,
    starter_plan_versions,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
shot = Screenshots(screenshot_dir("var/screens/partial_revert"))
START = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
MOVE = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)  # future: revertible until then


def test_a_past_date_is_asked_and_a_partial_revert_is_told_in_words(
    live_server, page, unconsumed_bulk_queue
):
    v1, v2 = starter_plan_versions()
    bulk_cohort(v1, 12, start=START)
    base = live_server.url
    login(page, base, width=WIDE)

    # a past date: the wizard asks before any preview
    page.goto(f"{base}/migrations/new/?source_package={v1.id}")
    page.select_option("#id_target_package", str(v2.id))
    page.fill("#id_effective_at", "2026-09-01")
    page.click("button[value=preview]")
    question = page.locator("#allow-past")
    assert "This changes contracts from 2026-09-01, already billed." in question.inner_text()
    assert page.locator("#migration-preview").count() == 0
    shot(page, "1-wizard-asks-about-a-past-date")
    page.check("#id_allow_past")
    page.click("button[value=preview]")
    page.locator("#migration-preview").wait_for()
    assert page.locator("#id_allow_past").is_checked()
    shot(page, "2-wizard-preview-from-a-past-date")

    # a job moved from a future date; one customer renews after the new contract
    migration = create_migration(
        v1, v2, effective={"type": "AT", "at": MOVE}, name="Starter v1 → v2"
    )
    run_to_end(migration)
    item = CohortMigrationItem.objects.filter(migration=migration).order_by("id").first()
    new = Contract.objects.get(id=item.new_contract_id)
    contract_provision(
        customer=new.customer,
        package=v2,
        starting_at=new.ending_before,
        transition={"from_contract_id": str(new.id), "type": "RENEWAL"},
    )

    # the revert page says who stays, and why
    page.goto(f"{base}/migrations/{migration.id}/revert/")
    body = page.locator("main").inner_text()
    assert "1 other stays on the new package as it is" in body
    assert "a later contract already follows it" in body
    shot(page, "3-revert-says-who-stays")
    page.click("button.danger")
    page.wait_for_url(f"{base}/migrations/{migration.id}/")
    run_to_end(migration, revert=True)
    assert CohortMigration.objects.get(id=migration.id).status == "PARTIALLY_REVERTED"

    # the job's page: partially reverted, in words, and the one not reverted with its reason
    page.goto(f"{base}/migrations/{migration.id}/")
    live = page.locator("#migration-live").inner_text()
    assert "partially reverted" in live
    assert "11 customers have their old contract back; 1 stays on the new package" in live
    assert "Not reverted, and why" in live
    assert "PARTIALLY_REVERTED" not in live and "REVERT_BLOCKED" not in live
    page.select_option("#f-status", "REVERT_BLOCKED")
    page.locator("#migration-items", has_text="Showing").wait_for()
    assert page.locator("#migration-items tbody tr").count() == 1
    items = page.locator("#migration-items").inner_text()
    assert "not reverted" in items and "a later contract already follows it" in items
    shot(page, "4-partially-reverted")
