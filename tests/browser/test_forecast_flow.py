"""The money of a change in the browser (issue 21): the forecast on the package page (with an
expected usage typed in, re-rendered by htmx), on the new-version builder, and the money before
and after on the migration wizard's preview. Screenshots at 1400 and 800 px go to
$SCREENSHOT_DIR, else var/screens/forecast_flow/ (git-ignored)."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from contracts_app.models import CohortMigration
from contracts_app.services.provisioning import contract_provision
from tests.builders.pricing import (
    flat,
    monthly_fee,
    one_charge,
    package,
    product,
    rate_card,
    subscription,
)
from tests.contracts_app.contract_builders import make_customer
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
SHOTS = Path(
    os.environ.get("SCREENSHOT_DIR")
    or Path(__file__).parents[2] / "var" / "screens" / "forecast_flow"
)
START = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)  # 12-month contracts, running now
YEAR = {"unit": "MONTHS", "value": 12}


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for width in (1400, 800):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1400, "height": 900})


@pytest.fixture
def plans():
    """v1: a 1000 monthly fee in advance, 12 months; input tokens at 0.0003 on the card.
    v2: a 1500 monthly fee and a 25000 onboarding charge. Three customers on v1 since
    2026-06-01."""
    fee, pro, onboarding = (
        product("Starter fee", "SUBSCRIPTION"),
        product("Pro fee", "SUBSCRIPTION"),
        product("Onboarding"),
    )
    tokens = product("Input tokens", "USAGE")
    card = rate_card([monthly_fee(fee, 1000), monthly_fee(pro, 1500), flat(tokens, "0.0003")])
    v1 = package(card, name="Starter Plan v1", duration=YEAR, subscriptions=[subscription(fee)])
    v2 = package(
        card,
        name="Starter Plan v2",
        duration=YEAR,
        subscriptions=[subscription(pro)],
        scheduled_charges=[one_charge(onboarding, 25000)],
    )
    for i in range(3):
        contract_provision(customer=make_customer(f"Customer {i}"), starting_at=START, package=v1)
    return v1, v2, tokens


def test_forecast_on_the_package_page_and_builder_and_money_on_the_wizard(live_server, page, plans):
    v1, v2, tokens = plans
    UserFactory(username="priya", is_superuser=True)
    base = live_server.url
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{base}/login/")
    page.fill("#id_username", "priya")
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")

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
    card = rate_card([monthly_fee(product("Unused fee", "SUBSCRIPTION"), 1000)], name="Fees")
    bare = package(card, name="Bare Plan", duration=YEAR)
    UserFactory(username="priya", is_superuser=True)
    base = live_server.url
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{base}/login/")
    page.fill("#id_username", "priya")
    page.fill("#id_password", "correct horse battery staple")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/packages/{bare.id}/?start=2027-03-01")
    empty = page.locator("[data-testid=forecast-unpriced]")
    empty.wait_for()
    assert "This package has no prices" in empty.inner_text()
    assert page.locator("#forecast svg").count() == 0
    assert "$0.00" not in page.inner_text("#forecast")
    empty.scroll_into_view_if_needed()
    shot(page, "4-package-without-prices")
