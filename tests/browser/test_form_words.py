"""In the browser: a form whose input the service refuses says so in the page's words (its
inputs' labels, the page's dates), not the API's field names: the contract's edit forms, the
customer form and the provision form. The API keeps its own words (tests/config/test_web.py).

Screenshots go to $SCREENSHOT_DIR, else var/screens/form_words/ (git-ignored).
"""

import datetime as dt
import re

import pytest

from contracts_app.services.provisioning import contract_provision
from tests.builders.browser import Screenshots, login, screenshot_dir, starter_on_alias
from tests.contracts_app import contract_builders as build

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
shot = Screenshots(screenshot_dir("var/screens/form_words"))
START = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
WIRE_NAME = re.compile(r"\b[a-z]+_[a-z_]+\b")  # ending_before, package_id, ...
RFC3339 = re.compile(r"\d{2}:\d{2}:\d{2}Z")


def errors_in(page, selector: str) -> str:
    region = page.locator(selector)
    region.locator(".error, .errorsummary").first.wait_for()
    text = " ".join(region.locator(".error, .errorsummary").all_inner_texts())
    assert not WIRE_NAME.search(text), f"API field names on the page: {text!r}"
    assert not RFC3339.search(text), f"a wire timestamp on the page: {text!r}"
    return text


def test_service_errors_read_in_the_pages_words(live_server, page):
    package = starter_on_alias(START)
    build.make_customer("Globex", external_id="globex-1")
    contract = contract_provision(
        customer=build.make_customer("Initech"), starting_at=START, package=package
    )
    login(page, live_server.url)
    page.set_viewport_size({"width": 1400, "height": 900})

    # the contract's end date before its start (the service's rule)
    page.goto(f"{live_server.url}/contracts/{contract.id}/")
    page.fill("input[name=end-date-ending_before]", "2026-06-01")
    page.locator("#edit-end-date button[type=submit]").click()
    text = errors_in(page, "#edit-end-date")
    assert "“Ends before” must be after the contract's “Start”" in text
    shot(page, "end-date-error-1400")

    # a second customer with the same external id (the service's conflict)
    page.goto(f"{live_server.url}/customers/new/")
    page.fill("input[name=name]", "Globex again")
    page.fill("input[name=external_id]", "globex-1")
    page.locator("main button[type=submit]").click()
    text = errors_in(page, "main form")
    assert "already used by an active customer" in text
    shot(page, "customer-error-1400")

    # provisioning through an alias before it points anywhere (a date in the page's format)
    initech = contract.customer
    page.goto(f"{live_server.url}/customers/{initech.id}/")
    page.select_option("#provision-form select[name=package_alias]", label="Starter Plan")
    page.fill("#provision-form input[name=starting_at]", "2026-06-01")
    page.locator("#provision-form button[value=preview]").click()
    text = errors_in(page, "#provision-form")
    assert "points at no package at 2026-06-01" in text
    page.set_viewport_size({"width": 800, "height": 900})
    shot(page, "provision-error-800")
