"""The money of a change in the browser (issue 21): the forecast on the package page (with an
expected usage typed in, re-rendered by htmx), on the new-version builder, and the money before
and after on the migration wizard's preview. Screenshots at 1400 and 800 px go to
$SCREENSHOT_DIR, else var/screens/forecast_flow/ (git-ignored)."""

from __future__ import annotations

import pytest

from contracts_app.models import CohortMigration
from tests.builders import pricing
from tests.builders.browser import WIDE, Screenshots, login, screenshot_dir

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
shot = Screenshots(screenshot_dir("var/screens/forecast_flow"), widths=(WIDE, 800))


def test_forecast_on_the_package_page_and_builder_and_money_on_the_wizard(
    live_server, page, starter_upgrade
):
    _card, v1, v2, tokens = starter_upgrade
    base = live_server.url
    login(page, base, width=WIDE)

    # The package page: 12 months of the 1000 fee from 2027-03-01 = 12000 cents.
    page.goto(f"{base}/packages/{v1.id}/?start=2027-03-01")
    page.wait_for_selector("[data-testid=forecast-table]")
    assert page.inner_text("[data-testid=forecast-total] >> nth=0") == "$120.00"
    assert page.locator("#forecast svg rect.tl-bar").count() == 12
    assert "2027-03-01 → 2027-04-01" in page.inner_text("[data-testid=forecast-table]")
    # 1,000,000 input tokens a month x 0.0003 = 300 cents more each month: 15600.
    page.fill(f"#forecast-usage-{tokens.id}", "1000000")
    page.press(f"#forecast-usage-{tokens.id}", "Tab")
    page.wait_for_function(
        "document.querySelector('[data-testid=forecast-total]').innerText === '$156.00'"
    )
    assert page.input_value(f"#forecast-usage-{tokens.id}") == "1000000"
    page.locator("#forecast").scroll_into_view_if_needed()
    shot(page, "1-package-forecast")

    # The new-version builder: the live preview carries the forecast of the version built.
    page.goto(f"{base}/packages/{v1.id}/new-version/")
    page.fill("#preview_start", "2027-03-01")
    page.press("#preview_start", "Tab")
    page.wait_for_selector("#preview [data-testid=forecast-table]")
    page.wait_for_function(
        "document.querySelector('#preview [data-testid=forecast-title], #preview #forecast-title')"
        " && document.querySelector('#preview #forecast-title').innerText.includes('2027-03-01')"
    )
    assert page.inner_text("#preview [data-testid=forecast-total] >> nth=0") == "$120.00"
    page.fill(f"#forecast-usage-{tokens.id}", "2000000")
    page.press(f"#forecast-usage-{tokens.id}", "Tab")
    page.wait_for_function(
        "document.querySelector('#preview [data-testid=forecast-total]').innerText === '$192.00'"
    )
    shot(page, "2-builder-forecast")

    # The wizard's preview: before (Mar 1, Apr 1, May 1 on v1: 3000 each), after (12 x 1500
    # + 25000 = 43000 each), for the three customers: $90.00, $1,290.00, $1,200.00.
    page.goto(f"{base}/migrations/new/?source_package={v1.id}")
    page.select_option("#id_target_package", str(v2.id))
    page.check("input[name=timing][value=AT]")
    page.fill("#id_effective_at", "2027-03-01")
    page.click("button[value=preview]")
    page.wait_for_selector("[data-testid=preview-money]")
    assert page.inner_text("[data-money=before]") == "$90.00"
    assert page.inner_text("[data-money=after]") == "$1,290.00"
    assert page.inner_text("[data-money=delta]") == "+$1,200.00"
    rows = page.locator("[data-testid=preview-money-sample] tbody tr")
    assert rows.count() == 3
    assert "$30.00" in rows.nth(0).inner_text() and "$430.00" in rows.nth(0).inner_text()
    page.locator("[data-testid=preview-money]").scroll_into_view_if_needed()
    shot(page, "3-wizard-money")
    assert not CohortMigration.objects.exists()


def test_a_package_without_prices_says_so_on_its_page(live_server, page):
    """A package with no priced term on a card that prices no usage: the package page's
    forecast is an empty state in words, no chart of "$0.00" bars."""
    fee = pricing.product("Unused fee", "SUBSCRIPTION")
    card = pricing.rate_card([pricing.monthly_fee(fee, 1000)], name="Fees")
    bare = pricing.package(card, name="Bare Plan", duration={"unit": "MONTHS", "value": 12})
    base = live_server.url
    login(page, base, width=WIDE)
    page.goto(f"{base}/packages/{bare.id}/?start=2027-03-01")
    empty = page.locator("[data-testid=forecast-unpriced]")
    empty.wait_for()
    assert "This package has no prices" in empty.inner_text()
    assert page.locator("#forecast svg").count() == 0
    assert "$0.00" not in page.inner_text("#forecast")
    empty.scroll_into_view_if_needed()
    shot(page, "4-package-without-prices")
