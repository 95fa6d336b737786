"""In the browser: the customer list shows each customer's current package and the alias it came
through (both linked) and filters by package; a package's customers are one choice away.

Screenshots go to $SCREENSHOT_DIR, else var/screens/customer_pages/ (git-ignored).
"""

import datetime as dt
import os
from pathlib import Path

import pytest

from contracts_app.services.provisioning import contract_provision
from packages_app.models import AliasName
from packages_app.services.aliases import alias_assign
from tests.contracts_app.contract_builders import (
    credit_term,
    ensure_usd_cents,
    make_customer,
    make_package,
    make_product,
)
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
SHOTS = Path(
    os.environ.get("SCREENSHOT_DIR")
    or Path(__file__).parents[2] / "var" / "screens" / "customer_pages"
)
PAST = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


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


def test_the_customer_list_shows_and_filters_by_current_package(live_server, page):
    ensure_usd_cents()
    fee = make_product("Platform fee")
    starter = make_package(name="Starter v1", terms=[credit_term(fee)])
    growth = make_package(name="Growth v2", terms=[credit_term(fee)])
    alias_assign(kind="package", name="Growth Plan", package=growth, starting_at=PAST)
    contract_provision(customer=make_customer("Initech"), starting_at=PAST, package=starter)
    contract_provision(
        customer=make_customer("Globex"), starting_at=PAST, package_alias="Growth Plan"
    )
    make_customer("Hooli")  # no contract
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
    table = page.evaluate(
        "(() => { const t = document.getElementById('object-table');"
        " return [t.scrollWidth, t.clientWidth]; })()"
    )
    assert table[0] <= table[1], f"the customer table overflows at 800 px: {table}"
