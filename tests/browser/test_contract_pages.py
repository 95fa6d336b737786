"""In the browser: the contract page answers an edit in place (the new term, the new history row,
a confirmation, a fresh form), with and without JS, and says it once; a term an edit added is
archived from the page after a confirmation; the page says which alias the contract was
provisioned through.

Screenshots of each step go to $SCREENSHOT_DIR, else var/screens/contract_pages/ (git-ignored).
"""

import datetime as dt

import pytest

from contracts_app.models import ContractTerm
from contracts_app.services.provisioning import contract_provision
from packages_app.models import AliasName
from tests.builders.browser import (
    Screenshots,
    assert_inside,
    login,
    screenshot_dir,
    starter_on_alias,
)
from tests.contracts_app import contract_builders as build

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
shot = Screenshots(screenshot_dir("var/screens/contract_pages"))
START = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def aliased_contract():
    """A contract provisioned through the alias "Starter Plan" (pointing at Starter v1)."""
    starter_on_alias(START, override=True)
    return contract_provision(
        customer=build.make_customer("Initech"), starting_at=START, package_alias="Starter Plan"
    )


def fill_credit(page, amount: str) -> None:
    form = page.locator("#edit-credit")
    form.locator("select[name=credit-product]").select_option(label="Input tokens (usage)")
    form.locator("input[name=credit-amount]").fill(amount)
    form.locator("input[name=credit-starting_at]").fill("2027-03-01")
    form.locator("input[name=credit-ending_before]").fill("2027-06-01")
    form.locator("input[name=credit-name]").fill("Goodwill")


def test_an_edit_shows_its_term_history_row_and_confirmation_and_resets_the_form(
    live_server, page, aliased_contract
):
    contract = aliased_contract
    login(page, live_server.url)
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{live_server.url}/contracts/{contract.id}/")

    # the page says which alias the contract came through, linked to the alias's page
    through = page.locator("[data-testid=provisioned-through]")
    assert "Starter Plan" in through.inner_text()
    alias = AliasName.objects.get(name="Starter Plan")
    assert through.locator("a").get_attribute("href") == f"/aliases/{alias.pk}/"
    shot(page, "1-contract-1400")

    # when a credit is added (htmx)
    fill_credit(page, "2500")
    page.locator("#edit-credit button[type=submit]").click()

    # then the page says so, lists the edit and the new term, and the form is empty again
    confirmation = page.locator("#contract-confirmation")
    confirmation.wait_for()
    assert "Credit added: $25.00 on Input tokens" in confirmation.inner_text()
    assert page.locator("#edit-history-rows tr").count() == 1
    assert "Goodwill" in page.locator("#added-terms").inner_text()
    assert "2027-03-01" in page.locator("[data-testid=periods]").inner_text()
    assert page.locator("#edit-credit input[name=credit-amount]").input_value() == ""
    assert page.locator(".messages").count() == 0
    page.wait_for_function("document.activeElement.id === 'contract-confirmation'")  # focus
    shot(page, "2-credit-added-1400")

    # and the confirmation is not repeated on a later page
    page.goto(f"{live_server.url}/contracts/{contract.id}/")
    assert page.locator("#contract-confirmation").count() == 0
    assert "Credit added" not in page.inner_text("main")

    # when the added credit is archived, after a confirmation
    row = page.locator("#added-terms tbody tr").first
    row.locator("summary").click()
    row.locator("button[type=submit]").click()
    page.locator("#contract-confirmation").wait_for()
    assert "Term archived" in page.inner_text("#contract-confirmation")
    assert "archived" in page.locator("#added-terms tbody tr").first.inner_text()
    assert page.locator("#edit-history-rows tr").count() == 2
    assert "Archived credit “Goodwill”" in page.inner_text("#edit-history")  # named, not an id
    credit = ContractTerm.objects.get(contract=contract, body__name="Goodwill")
    assert credit.archived_at is not None
    assert "Goodwill" not in page.locator("[data-testid=periods]").inner_text()

    page.set_viewport_size({"width": 800, "height": 900})
    shot(page, "3-archived-800")
    # the page's own regions fit (the header's width is the layout's, tested with it)
    assert_inside(page, "contract-body", "the contract body at 800 px")


def test_an_edit_without_javascript_redirects_to_the_page_with_the_confirmation(
    live_server, browser, aliased_contract
):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    try:
        login(page, live_server.url)
        page.goto(f"{live_server.url}/contracts/{aliased_contract.id}/")
        fill_credit(page, "700")
        page.locator("#edit-credit button[type=submit]").click()
        page.wait_for_load_state()
        assert "Credit added: $7.00 on Input tokens" in page.inner_text(".messages")
        assert page.locator("#edit-history-rows tr").count() == 1
        assert page.locator("#edit-credit input[name=credit-amount]").input_value() == ""
        # said once: the next page has no message
        page.goto(f"{live_server.url}/customers/")
        assert page.locator(".messages").count() == 0
    finally:
        context.close()
