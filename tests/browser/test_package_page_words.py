"""In the browser, the package pages' leftovers of issues 20 and 21: the package diff says per
line how many customers it touches on the migration wizard's preview (and nothing of the kind on
the new-version page, which has no cohort); the forecast's link opened without JavaScript is a
page in the site's layout with a start date to choose; the rate-card page names its currency as
the credit type's name, not "Fiat credit type". Screenshots at 1400 and 800 px go to
$SCREENSHOT_DIR, else var/screens/package_page_words/ (git-ignored)."""

from __future__ import annotations

import pytest

from tests.builders.browser import WIDE, Screenshots, login, screenshot_dir

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
shot = Screenshots(screenshot_dir("var/screens/package_page_words"), widths=(WIDE, 800))


def test_the_wizards_diff_counts_customers_per_line_and_the_new_version_page_does_not(
    live_server, page, starter_upgrade
):
    _card, v1, v2, _tokens = starter_upgrade
    base = live_server.url
    login(page, base, width=WIDE)
    # the wizard: every line of the diff reaches the 3 contracts that move
    page.goto(f"{base}/migrations/new/?source_package={v1.id}")
    page.select_option("#id_target_package", str(v2.id))
    page.check("input[name=timing][value=AT]")
    page.fill("#id_effective_at", "2027-03-01")
    page.click("button[value=preview]")
    page.wait_for_selector(".diff .difflist li")
    lines = page.locator(".diff .difflist > li")
    assert lines.count() >= 2
    for index in range(lines.count()):
        line = lines.nth(index)
        assert line.locator(".diff-customers").inner_text() == "· 3 customers", line.inner_text()
    page.locator(".diff").scroll_into_view_if_needed()
    shot(page, "1-wizard-diff-customers")

    # the new-version page: the same diff, with no cohort to count
    page.goto(f"{base}/packages/{v1.id}/new-version/")
    page.fill("#id_name", "Starter Plan v1, two years")
    page.fill("#id_duration_value", "24")
    page.press("#id_duration_value", "Tab")
    page.wait_for_selector("#preview .diff table")
    assert "Length" in page.inner_text("#preview .diff table")
    assert page.locator("#preview .diff-customers").count() == 0
    assert page.locator("#preview .diff th:text-is('Customers')").count() == 0
    shot(page, "2-new-version-diff")


def test_the_forecast_without_javascript_is_a_page_of_the_site(
    live_server, browser, starter_upgrade
):
    _card, v1, _v2, _tokens = starter_upgrade
    base = live_server.url
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        login(page, base, width=WIDE)
        page.goto(f"{base}/packages/{v1.id}/?start=2027-03-01")
        page.click("#forecast a")  # "open it on a page of its own"
        page.wait_for_url(f"{base}/packages/{v1.id}/forecast/?start=2027-03-01")
        # the site's layout: the header, the crumbs back to the package, one h1
        assert page.locator("header .mainnav").count() == 1
        assert page.inner_text("h1") == "Forecast of Starter Plan v1"
        assert page.locator(f"main .crumbs a[href='/packages/{v1.id}/']").count() == 1
        assert "2027-03-01" in page.inner_text("#forecast-title")
        assert page.inner_text("[data-testid=forecast-total] >> nth=0") == "$120.00"
        shot(page, "3-forecast-page")
        # a plain form: another start date, expected usage, the button
        page.fill("#forecast-start", "2027-04-01")
        page.fill("#forecast [name^='forecast_usage-']", "1000000")
        page.click("#forecast button[type=submit]")
        page.wait_for_url("**start=2027-04-01**")
        assert "2027-04-01" in page.inner_text("#forecast-title")
        assert page.inner_text("[data-testid=forecast-total] >> nth=0") == "$156.00"
        assert page.inner_text("h1") == "Forecast of Starter Plan v1"
    finally:
        context.close()


def test_the_rate_card_page_names_its_currency(live_server, page, starter_upgrade):
    card, _v1, _v2, _tokens = starter_upgrade
    login(page, live_server.url, width=WIDE)
    page.goto(f"{live_server.url}/rate-cards/{card.id}/")
    facts = page.inner_text("main dl.facts")
    assert "Fiat" not in facts and "credit type" not in facts.lower()
    assert page.inner_text("dt:has(+ [data-testid=prices-in])") == "Prices in"
    assert page.inner_text("[data-testid=prices-in]") == "USD (cents)"
    shot(page, "4-rate-card-currency")
