"""A pricing team member builds a package in the browser, watches the live preview, saves it,
makes a new version that takes the alias over from a date, provisions a customer by alias
from the customer page and finds the contract in the new version's cohort.

Screenshots of each step go to $SCREENSHOT_DIR, else var/screenshots/ (git-ignored).
"""

import re

import pytest

from packages_app.models import AliasAssignment, Package
from tests.builders.browser import Screenshots, login, screenshot_dir
from tests.contracts_app.contract_builders import make_customer, make_product, make_rate_card

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
shot = Screenshots(screenshot_dir("var/screenshots"), prefix="builder-flow-")


def period_rows(page) -> list[tuple[str, str, str]]:
    """(what, from, until) of the preview's table rows for recurring periods."""
    rows = page.locator("#preview [data-testid=periods] tbody tr")
    found = []
    for index in range(rows.count()):
        cells = [cell.strip() for cell in rows.nth(index).locator("td").all_text_contents()]
        if cells[1].startswith("period"):
            found.append((cells[1], cells[2], cells[3]))
    return found


def test_build_preview_save_version_and_provision_by_alias(live_server, page):
    make_rate_card("Standard")
    make_product("Input tokens", "USAGE")
    make_product("Seat", "SUBSCRIPTION")
    customer = make_customer("Initech")
    base = live_server.url

    login(page, base)

    # Build: name, rate card, 12 months, an alias, a recurring credit and a subscription.
    page.click("text=Build a package")
    page.wait_for_url(f"{base}/packages/new/")
    page.fill("#id_name", "Growth v1")
    page.select_option("#id_rate_card", label="Standard")
    page.fill("#id_duration_value", "12")
    page.fill("#id_aliases-0-name", "Growth")
    page.fill("#id_aliases-0-starting_at", "2027-01-01")
    page.click("button[value='add:recurring_credits']")
    page.wait_for_selector("#id_recurring_credits-0-product")
    page.select_option("#id_recurring_credits-0-product", label="Input tokens (usage)")
    page.fill("#id_recurring_credits-0-unit_price", "1000")
    page.fill("#id_recurring_credits-0-length_value", "3")
    page.click("button[value='add:subscriptions']")
    page.wait_for_selector("#id_subscriptions-0-product")
    page.select_option("#id_subscriptions-0-product", label="Seat (subscription)")

    # The live preview, for a contract starting Jan 31: three monthly credit periods, clamped.
    page.fill("#preview_start", "2027-01-31")
    page.press("#preview_start", "Tab")
    page.wait_for_function(
        "document.querySelector('#preview [data-testid=contract-span]')"
        " && document.querySelector('#preview [data-testid=contract-span]').innerText"
        ".startsWith('2027-01-31')"
    )
    assert page.inner_text("#preview [data-testid=contract-span]") == "2027-01-31 → 2028-01-31"
    assert period_rows(page) == [
        ("period 1", "2027-01-31", "2027-02-28"),
        ("period 2", "2027-02-28", "2027-03-31"),
        ("period 3", "2027-03-31", "2027-04-30"),
    ]
    assert page.locator("#preview svg .tl-period, #preview svg .tl-period-alt").count() == 3
    assert Package.objects.count() == 0  # the preview wrote nothing
    shot(page, "1-preview")

    # Save, twice in a row (a double submit): one package.
    page.click("button[value=save]")
    page.wait_for_url(re.compile(r"/packages/[0-9a-f-]{36}/$"))
    v1 = Package.objects.get()
    assert "Growth v1" in page.inner_text("h1")
    assert "$10.00 credit on Input tokens, each month for 3 months" in page.inner_text(
        ".terms-words"
    )
    shot(page, "2-package")

    # New version: prefilled, takes the alias over from June 1.
    page.click("text=New version")
    page.wait_for_url(f"{base}/packages/{v1.id}/new-version/")
    page.fill("#id_name", "Growth v2")
    page.fill("#id_aliases-0-name", "")
    page.fill("#id_recurring_credits-0-unit_price", "2000")
    page.fill("#id_version-take_over_aliases_from", "2027-06-01")
    page.wait_for_selector("#preview .difflist .changed")
    changed = page.inner_text("#preview .difflist .changed")
    assert "+ $20.00 credit" in changed and "\u2212 $10.00 credit" in changed
    shot(page, "3-new-version")
    page.click("button[value=save]")
    page.wait_for_url(re.compile(r"/packages/[0-9a-f-]{36}/$"))
    v2 = Package.objects.get(name="Growth v2")
    assert AliasAssignment.objects.in_force().get(package=v2).starting_at.date().isoformat() == (
        "2027-06-01"
    )

    # Provision Initech by alias from July: it resolves to the new version.
    page.goto(f"{base}/customers/")
    page.click("text=Initech")
    page.select_option("#id_package_alias", label="Growth")
    page.fill("#id_starting_at", "2027-07-01")
    page.click("#provision-form button[value=preview]")
    page.wait_for_selector("#provision-form .result")
    assert "Growth v2" in page.inner_text("#provision-form .result")
    shot(page, "4-provision-preview")
    page.click("#provision-form button[value=confirm]")
    page.wait_for_url(re.compile(r"/contracts/[0-9a-f-]{36}/$"))
    assert "Growth v2" in page.inner_text(".facts")
    assert "2027-07-01 → 2028-07-01" in page.inner_text(".facts")
    shot(page, "5-contract")

    # The customer is in the new version's cohort.
    page.goto(f"{base}/packages/{v2.id}/cohort/?at=2027-07-01")
    assert "Initech" in page.inner_text("#cohort")
    assert customer.contracts.get().package_id == v2.id
    shot(page, "6-cohort")
