"""Admin changelists fit a 1400 px screen: UUID columns are 8 characters with the whole id in
a title (config/admin.py ShortIdsAdminMixin), so no column is pushed off-screen. Screenshots
go to $SCREENSHOT_DIR, else var/screens/admin_widths/ (git-ignored)."""

import pytest
from django.urls import reverse

from tests.builders.browser import screenshot_dir, submit_login
from tests.builders.migrations import create_migration
from tests.contracts_app.cohort_builders import cohort, run_to_end, two_packages
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
SHOTS = screenshot_dir("var/screens/admin_widths")
CHANGELISTS = (
    "contracts_app_contract",
    "contracts_app_cohortmigration",
    "contracts_app_cohortmigrationitem",
    "contracts_app_customer",
    "contracts_app_subscription",
    "packages_app_package",
    "audit_auditlogentry",
)


def test_changelists_with_id_columns_fit_1400_px(live_server, page, unconsumed_bulk_queue):
    source, target = two_packages()
    cohort(source, 3)
    run_to_end(create_migration(source, target, name="Starter v1 → v2"))
    UserFactory(username="ada", is_superuser=True, is_staff=True)
    base = live_server.url
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{base}/admin/login/")
    submit_login(page, "ada", button="input[type=submit]")
    page.wait_for_url(f"{base}/admin/")
    SHOTS.mkdir(parents=True, exist_ok=True)
    too_wide = {}
    for name in CHANGELISTS:
        page.goto(base + reverse(f"admin:{name}_changelist"))
        page.screenshot(path=str(SHOTS / f"{name}-1400.png"), full_page=True)
        # the rows' table within its scroll box (no column hidden to its right), and the
        # page not wider than the screen
        table, box, body = page.evaluate(
            "[document.querySelector('#result_list').scrollWidth,"
            " document.querySelector('#changelist-form .results').clientWidth,"
            " document.documentElement.scrollWidth]"
        )
        if table > box or body > 1400:
            too_wide[name] = (table, box, body)
        title = page.locator("#result_list .short-id").first.get_attribute("title")
        assert len(title) == 36, name
    assert not too_wide, too_wide
