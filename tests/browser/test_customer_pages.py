"""In the browser: the customer list shows each customer's current package and the alias it came
through (both linked) and filters by package; a package's customers are one choice away.

Screenshots go to $SCREENSHOT_DIR, else var/screens/customer_pages/ (git-ignored).
"""

import datetime as dt

import pytest

from contracts_app.services.provisioning import contract_provision
from packages_app.models import AliasName
from packages_app.services.aliases import alias_assign
from tests.builders.browser import Screenshots, assert_inside, login, screenshot_dir
from tests.contracts_app import contract_builders as build

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
shot = Screenshots(screenshot_dir("var/screens/customer_pages"))
PAST = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


def test_the_customer_list_shows_and_filters_by_current_package(live_server, page):
    build.ensure_usd_cents()
    fee = build.make_product("Platform fee")
    starter = build.make_package(name="Starter v1", terms=[build.credit_term(fee)])
    growth = build.make_package(name="Growth v2", terms=[build.credit_term(fee)])
    alias_assign(kind="package", name="Growth Plan", package=growth, starting_at=PAST)
    contract_provision(customer=build.make_customer("Initech"), starting_at=PAST, package=starter)
    contract_provision(
        customer=build.make_customer("Globex"), starting_at=PAST, package_alias="Growth Plan"
    )
    build.make_customer("Hooli")  # no contract
    login(page, live_server.url)

    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{live_server.url}/customers/")
    globex = page.locator("#object-table tr", has_text="Globex")
    assert "Growth v2" in globex.inner_text() and "Growth Plan" in globex.inner_text()
    assert globex.locator("a", has_text="Growth v2").get_attribute("href") == (
        f"/packages/{growth.pk}/"
    )
    alias = AliasName.objects.get(name="Growth Plan")
    assert globex.locator("a", has_text="Growth Plan").get_attribute("href") == (
        f"/aliases/{alias.pk}/"
    )
    assert "—" in page.locator("#object-table tr", has_text="Hooli").inner_text()
    shot(page, "customers-1400")

    # filtered by a package: only its customers
    page.select_option("#customer-package-filter", value=str(starter.pk))
    page.click("form.filters button[type=submit]")
    page.wait_for_url(f"**/customers/?package={starter.pk}")
    rows = page.locator("#object-table tbody tr")
    assert rows.count() == 1 and "Initech" in rows.first.inner_text()
    page.set_viewport_size({"width": 800, "height": 900})
    shot(page, "customers-filtered-800")
    assert_inside(page, "object-table", "the customer table at 800 px")
