"""In the browser: the wizard asks, in words and with a checkbox, before moving a cohort from a
past date; a revert of a job one of whose customers renewed after the move says who stays,
ends partially reverted, and lists who was not reverted and why, in words.

Screenshots of each step go to $SCREENSHOT_DIR, else var/screens/partial_revert/ (git-ignored).
"""

import datetime as dt
import os
from pathlib import Path

import pytest

from contracts_app.models import CohortMigration, CohortMigrationItem, Contract
from contracts_app.services.cohort_migrations import (
    cohort_migration_create,
    migration_input,
    migration_start,
)
from contracts_app.services.provisioning import contract_provision
from packages_app.models import Package
from tests.contracts_app.cohort_builders import bulk_cohort, run_to_end, two_packages
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
SHOTS = Path(
    os.environ.get("SCREENSHOT_DIR")
    or Path(__file__).parents[2] / "var" / "screens" / "partial_revert"
)
START = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
MOVE = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)  # future: revertible until then


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def login(page, base: str) -> None:
    UserFactory(username="priya", is_superuser=True)
    page.goto(f"{base}/login/")
    page.fill("#id_username", "priya")
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")


def test_a_past_date_is_asked_and_a_partial_revert_is_told_in_words(
    live_server, page, unconsumed_bulk_queue
):
    v1, v2 = two_packages()
    Package.objects.filter(pk=v1.pk).update(name="Starter Plan v1")
    Package.objects.filter(pk=v2.pk).update(name="Starter Plan v2")
    bulk_cohort(v1, 12, start=START)
    base = live_server.url
    page.set_viewport_size({"width": 1400, "height": 900})
    login(page, base)

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
    migration = cohort_migration_create(
        data=migration_input(
            source={"package_id": v1.id},
            target={"package_id": v2.id},
            effective={"type": "AT", "at": MOVE},
        ),
        name="Starter v1 → v2",
    )
    migration_start(migration_id=migration.id)
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
