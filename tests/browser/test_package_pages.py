"""The catalog pages a pricing team reads to trust what is in force (issue 20 items 2, 3, 4, 8
and the rate-card "end or replace"): alias intervals say in force / scheduled / ended, the
rate card shows one price per product at a date with superseded rates marked and tiers spelt
out, a subscription without a price is warned about, the cohort CSV carries the date asked for.

Screenshots at 1400 and 800 px go to shots/ (git-ignored)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from packages_app.models import Rate
from packages_app.services.aliases import alias_assign
from packages_app.services.billable_metrics import billable_metric_create
from packages_app.services.products import product_create
from tests.builders.browser import login
from tests.builders.pages import (
    day,
    flat_rate,
    package,
    point_alias,
    product,
    rate_card,
    shot,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def midnight(instant: dt.datetime) -> dt.datetime:
    return instant.replace(hour=0, minute=0, second=0, microsecond=0)


def cells(page, selector: str) -> list[list[str]]:
    rows = page.locator(f"{selector} tbody tr")
    return [
        [c.strip() for c in rows.nth(i).locator("td").all_inner_texts()]
        for i in range(rows.count())
    ]


def test_alias_intervals_say_in_force_only_for_the_one_covering_now(live_server, page):
    now = midnight(timezone.now())
    past, current, later = (
        now - dt.timedelta(days=200),
        now - dt.timedelta(days=30),
        now + dt.timedelta(days=60),
    )
    card = rate_card()
    v1, v2, v3 = (package(f"Growth v{n}", card) for n in (1, 2, 3))
    point_alias("Growth", v1, past)
    point_alias("Growth", v2, current)
    assignment = point_alias("Growth", v3, later)
    login(page, live_server.url)

    page.goto(f"{live_server.url}/aliases/{assignment.alias_name_id}/")
    states = {row[0]: row[-1] for row in cells(page, "h2:has-text('Every interval') + table")}
    shot(page, "alias-detail")
    shot(page, "alias-detail", width=800)

    assert states == {
        "Growth v1": f"ended {current:%Y-%m-%d}",
        "Growth v2": "in force",
        "Growth v3": f"scheduled from {later:%Y-%m-%d}",
    }
    labels = page.locator("svg[aria-labelledby='alias-tl-title']").text_content()
    assert f"scheduled from {later:%Y-%m-%d}" in labels
    assert f"ended {current:%Y-%m-%d}" in labels

    page.goto(f"{live_server.url}/packages/{v3.pk}/")
    assert page.locator("tr[data-state]").first.locator("td").last.inner_text().strip() == (
        f"scheduled from {later:%Y-%m-%d}"
    )
    page.goto(f"{live_server.url}/packages/{v1.pk}/")
    assert page.locator("tr[data-state]").first.locator("td").last.inner_text().strip() == (
        f"ended {current:%Y-%m-%d}"
    )


def test_rates_in_force_show_one_price_per_product_and_tiers(live_server, page):
    card = rate_card("Standard")
    calls, seats, tokens = product("API calls"), product("Seats", "SUBSCRIPTION"), product("Tokens")
    flat_rate(card, calls, "0.25", day(2027, 1, 1))
    flat_rate(card, calls, "0.30", day(2027, 6, 1))
    flat_rate(card, seats, "10", day(2027, 1, 1))
    flat_rate(
        card,
        tokens,
        None,
        day(2027, 1, 1),
        rate_type="TIERED",
        tiers=[{"size": 1000, "price": 3}, {"price": 2}],
    )
    alias_assign(
        kind="rate_card", name="Default rates", rate_card=card, starting_at=day(2027, 1, 1)
    )
    login(page, live_server.url)

    page.goto(f"{live_server.url}/rate-cards/{card.pk}/?at=2027-07-01")
    in_force = cells(page, "[data-testid=rates-in-force]")
    shot(page, "rate-card")
    shot(page, "rate-card", width=800)

    prices = {row[0]: row[2] for row in in_force}
    assert prices == {
        "API calls": "0.3 USD (cents)",
        "Seats": "10 USD (cents)",
        "Tokens": "first 1000 at 3 · then at 2 USD (cents)",
    }
    superseded = cells(page, "[data-testid=rates-superseded]")
    assert [(row[0], row[1], row[3]) for row in superseded] == [
        ("API calls", "0.25 USD (cents)", "0.3 USD (cents) from 2027-06-01")
    ]
    assert "tiered" not in [row[2] for row in in_force]
    # the card's alias interval says it is not in force yet
    assert "(scheduled from 2027-01-01)" in page.locator("dl.facts").inner_text()


def test_end_and_replace_a_rate_from_the_rate_card_page(live_server, page):
    card = rate_card("Standard")
    calls, seats = product("API calls"), product("Seats", "SUBSCRIPTION")
    calls_rate = flat_rate(card, calls, "0.25", day(2027, 1, 1))
    flat_rate(card, calls, "0.30", day(2027, 6, 1))
    seats_rate = flat_rate(card, seats, "10", day(2027, 1, 1))
    login(page, live_server.url)
    page.goto(f"{live_server.url}/rate-cards/{card.pk}/?at=2027-07-01")

    # Replace the calls price from 2027-09-01 with 0.35.
    later = Rate.objects.get(product=calls, starting_at=day(2027, 6, 1))
    row = page.locator(f"tr:has(form[action*='/rates/{later.pk}/'])")
    row.locator("summary").click()
    row.locator("input[name=on]").fill("2027-09-01")
    row.locator("input[name=price]").fill("0.35")
    shot(page, "rate-card-replace-open")
    shot(page, "rate-card-replace-open", width=800)
    row.locator("button[value=replace]").click()
    page.wait_for_url("**/?at=2027-09-01#rates-at")
    prices = {r[0]: (r[2], r[4]) for r in cells(page, "[data-testid=rates-in-force]")}
    assert prices["API calls"] == ("0.35 USD (cents)", "2027-09-01")

    # End the seats price on 2027-10-01: nothing is in force for it afterwards.
    page.goto(f"{live_server.url}/rate-cards/{card.pk}/?at=2027-09-15")
    row = page.locator(f"tr:has(form[action*='/rates/{seats_rate.pk}/'])")
    row.locator("summary").click()
    row.locator("input[name=on]").fill("2027-10-01")
    row.locator("button[value=end]").click()
    page.wait_for_url("**/?at=2027-10-01#rates-at")
    products = [r[0] for r in cells(page, "[data-testid=rates-in-force]")]
    shot(page, "rate-card-after-end")
    assert products == ["API calls"]
    calls_rate.refresh_from_db()
    assert calls_rate.ending_before == day(2027, 9, 1)

    # A replacement without a price is refused beside the field, nothing written.
    row = page.locator("[data-testid=rates-in-force] tbody tr").first
    row.locator("summary").click()
    row.locator("button[value=replace]").click()
    assert "Give the new price" in row.locator(".error").inner_text()
    assert Rate.objects.filter(rate_card=card).count() == 4


def test_a_subscription_without_a_price_is_warned_about_on_save_and_on_the_page(live_server, page):
    card = rate_card("Standard")
    seats = product("Seats", "SUBSCRIPTION")
    support = product("Support seats", "SUBSCRIPTION")
    flat_rate(card, seats, "10", day(2027, 1, 1))
    priced = package("Priced", card, subscriptions=[seats])
    unpriced = package("Unpriced", card, subscriptions=[seats, support])
    login(page, live_server.url)

    page.goto(f"{live_server.url}/packages/{priced.pk}/")
    assert page.locator("[data-testid=unpriced]").count() == 0
    page.goto(f"{live_server.url}/packages/{unpriced.pk}/")
    warning = page.locator("[data-testid=unpriced]").inner_text()
    shot(page, "package-unpriced")
    shot(page, "package-unpriced", width=800)
    assert "“Support seats”" in warning and "“Seats”" not in warning

    # Saving a new version in the builder warns at once.
    page.goto(f"{live_server.url}/packages/{unpriced.pk}/new-version/")
    page.fill("#id_name", "Unpriced v2")
    page.locator("#id_name").dispatch_event("change")
    live = page.locator("#preview [data-testid=unpriced]")
    live.wait_for()
    assert "“Support seats”" in live.inner_text()  # before saving, in the live preview
    shot(page, "builder-unpriced")
    page.click("button[value=save]")
    page.wait_for_url("**/packages/*/")
    assert "“Support seats”" in page.locator(".messages").inner_text()


def test_the_cohort_csv_is_named_with_the_date_asked_for_and_names_the_package(live_server, page):
    card = rate_card("Standard")
    growth = package("Growth v1", card)
    login(page, live_server.url)
    page.goto(f"{live_server.url}/packages/{growth.pk}/cohort/?at=2027-03-01")
    with page.expect_download() as download_info:
        page.click("text=Download CSV")
    download = download_info.value
    assert download.suggested_filename == "cohort-growth-v1-2027-03-01.csv"
    header = Path(download.path()).read_text().splitlines()[0].split(",")
    assert "package_name" in header


def test_edit_and_archive_a_product_and_a_billable_metric(live_server, page):
    card = rate_card("Standard")
    metric = billable_metric_create(
        name="API requests", aggregation_type="COUNT", event_type_filter={"in_values": ["api"]}
    )
    calls = product_create(
        name="API calls",
        type="USAGE",
        created_by="test",
        attributes={"billable_metric_id": str(metric.pk)},
    )
    flat_rate(card, calls, "0.25", day(2027, 1, 1))
    login(page, live_server.url)

    # Products: from the list to the product, renamed from this hour.
    page.goto(f"{live_server.url}/products/")
    page.click("text=API calls")
    page.wait_for_url(f"**/products/{calls.pk}/")
    page.fill("#id_name", "API requests (calls)")
    page.fill("#id_tags", "usage, api")
    with page.expect_navigation():
        page.click("text=Save changes")
    assert page.locator("h1").inner_text().startswith("API requests (calls)")
    assert "Standard" in page.locator("[data-testid=usage]").inner_text()
    warning = page.locator("[data-testid=archive-warning]").inner_text()
    assert "1 rate card" in warning
    shot(page, "product-detail")
    shot(page, "product-detail", width=800)
    with page.expect_navigation():
        page.click("button:has-text('Archive')")
    calls.refresh_from_db()
    assert calls.name == "API requests (calls)" and calls.archived_at is not None
    assert "archived" in page.locator("h1").inner_text()

    # Billable metrics: the metric names the product counting with it; renamed, archived.
    page.goto(f"{live_server.url}/billable-metrics/")
    page.click("text=API requests >> nth=0")
    page.wait_for_url(f"**/billable-metrics/{metric.pk}/")
    page.fill("#id_name", "")
    page.click("button:has-text('Rename')")
    assert page.locator("#id_name_error").inner_text()  # beside the field, nothing written
    page.fill("#id_name", "API request count")
    with page.expect_navigation():
        page.click("button:has-text('Rename')")
    shot(page, "billable-metric-detail")
    with page.expect_navigation():
        page.click("button:has-text('Archive')")
    metric.refresh_from_db()
    assert metric.name == "API request count" and metric.archived_at is not None


def test_the_package_list_shows_versions_aliases_and_cohorts(live_server, page):
    now = midnight(timezone.now())
    card = rate_card("Standard")
    v1, v2 = package("Growth v1", card), package("Growth v2", card)
    point_alias("Growth", v1, now - dt.timedelta(days=100))
    point_alias("Growth", v2, now + dt.timedelta(days=30))
    package("Starter", card)
    login(page, live_server.url)

    page.goto(f"{live_server.url}/packages/")
    rows = {row[0]: row for row in cells(page, "[data-testid=package-list]")}
    shot(page, "package-list")
    shot(page, "package-list", width=800)

    assert rows["Growth v1"][2] == "Growth in force"
    assert rows["Growth v2"][2] == f"Growth scheduled from {now + dt.timedelta(days=30):%Y-%m-%d}"
    assert rows["Growth v1"][3] == rows["Growth v2"][3] == "Growth: v1 → v2"
    assert rows["Starter"][2:4] == ["—", "—"]
    assert rows["Growth v1"][4] == "0"
    page.locator("tr:has-text('Growth v1') [data-col=versions] a:text('v2')").click()
    page.wait_for_url(f"**/packages/{v2.pk}/")


def test_the_catalog_pages_repeat_no_element_id(live_server, page):
    card = rate_card("Standard")
    calls, seats = product("API calls"), product("Seats", "SUBSCRIPTION")
    flat_rate(card, calls, "0.25", day(2027, 1, 1))
    flat_rate(card, seats, "10", day(2027, 1, 1))
    growth = package("Growth", card, subscriptions=[seats])
    assignment = point_alias("Growth", growth, day(2027, 1, 1))
    login(page, live_server.url)
    repeated = {}
    for path in (
        f"/rate-cards/{card.pk}/?at=2027-07-01",
        f"/aliases/{assignment.alias_name_id}/",
        f"/packages/{growth.pk}/",
        "/packages/",
        f"/products/{calls.pk}/",
    ):
        page.goto(f"{live_server.url}{path}")
        ids = page.eval_on_selector_all("[id]", "nodes => nodes.map(n => n.id)")
        repeated[path] = sorted({i for i in ids if ids.count(i) > 1})
    assert repeated == {path: [] for path in repeated}
