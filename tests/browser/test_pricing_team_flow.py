"""A pricing team member logs in, opens a package, sees its cohort count and pages through
its cohort."""

import datetime as dt
import os

import pytest

from contracts_app.services.provisioning import contract_provision
from packages_app.services.aliases import alias_assign
from tests.builders.browser import submit_login
from tests.contracts_app import contract_builders as build
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
JAN = dt.datetime(2027, 1, 31, tzinfo=dt.UTC)
SCREENSHOTS = os.environ.get("SCREENSHOT_DIR")


def test_login_package_page_and_cohort_load_more(live_server, page):
    # given a package with a cohort larger than one page, and a pricing user
    package = build.make_package(
        name="Starter Plan v1", terms=build.eight_terms(build.make_product())
    )
    alias_assign(kind="package", name="Starter Plan", package=package, starting_at=JAN)
    for i in range(55):
        contract_provision(
            customer=build.make_customer(f"Customer {i:02d}"), starting_at=JAN, package=package
        )
    UserFactory(username="priya", is_superuser=True)

    # when they log in
    page.goto(f"{live_server.url}/")
    assert "/login/" in page.url
    submit_login(page)
    page.wait_for_url(f"{live_server.url}/")
    assert page.locator('[data-count="packages"]').inner_text() == "1"

    # and open the package from the packages list
    page.click("nav.mainnav >> text=Packages")
    page.click("text=Starter Plan v1")
    assert "55 starting later" in page.inner_text(".cohort-summary")  # they start in 2027
    page.click("text=55 starting later")
    page.wait_for_selector("#cohort")
    assert page.locator("#cohort-rows tr").count() == 51  # 50 contracts + the "Load more" row
    if SCREENSHOTS:
        page.screenshot(path=os.path.join(SCREENSHOTS, "package.png"), full_page=True)

    # then "Load more" appends the rest in place
    page.click("text=Load more")
    page.wait_for_function("document.querySelectorAll('#cohort-rows tr').length === 55")
    assert page.locator("text=Load more").count() == 0
    assert "Customer 54" in page.locator("#cohort-rows").inner_text()
