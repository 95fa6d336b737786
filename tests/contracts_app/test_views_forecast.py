"""The forecast fragment of the package page (`package_forecast_panel` in
contracts_app/views_packages.py): the table and the chart from the forecast service, expected
usage typed in, bad input said on the page (never a 500), the permission, and its queries
pinned; opened without htmx, a page of the site."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission

from tests.builders.pricing import flat, monthly_fee, package, product, rate_card, subscription
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
YEAR = {"unit": "MONTHS", "value": 12}


@pytest.fixture
def plan():
    """A 1000 monthly fee in advance (12 months); input tokens at 0.0003 on the card."""
    fee, tokens = product("Starter fee", "SUBSCRIPTION"), product("Input tokens", "USAGE")
    card = rate_card([monthly_fee(fee, 1000), flat(tokens, "0.0003")])
    return package(card, name="Starter", duration=YEAR, subscriptions=[subscription(fee)]), tokens


@pytest.fixture
def viewer(client):
    user = UserFactory(username="viewer")
    user.user_permissions.add(Permission.objects.get(codename="view_package"))
    client.force_login(user)
    return client


def url(plan, **query):
    package, _ = plan
    query = {"start": "2027-03-01", **query}
    return f"/packages/{package.id}/forecast/?" + "&".join(f"{k}={v}" for k, v in query.items())


def test_the_fragment_shows_periods_totals_and_the_chart(
    viewer, plan, django_assert_max_num_queries
):
    """12 x 1000 cents = $120.00; with 1,000,000 tokens a month, 12 x (1000 + 300) = $156.00.
    Queries: 4 for the session, user and permissions, 6 for the forecast (package, terms, rates,
    credit types; rates and products for the usage inputs)."""
    _, tokens = plan
    with django_assert_max_num_queries(10):
        html = viewer.get(url(plan), HTTP_HX_REQUEST="true").content.decode()
    assert "<main" not in html  # the fragment alone
    assert html.count('class="tl-bar tl-term"') == 12
    assert "2027-03-01 → 2027-04-01" in html and "<strong>$120.00</strong>" in html
    assert "Charges (USD)" in html and f'id="forecast-usage-{tokens.id}"' in html
    html = viewer.get(url(plan, **{f"forecast_usage-{tokens.id}": "1000000"})).content.decode()
    assert "<strong>$156.00</strong>" in html and 'value="1000000"' in html


def test_opened_without_htmx_it_is_a_page_in_the_layout(viewer, plan):
    """The package page's link (without JavaScript) opens a page: the site's header, crumbs
    back to the package, an h1, the forecast under an h2 with its start date to choose, and a
    plain form (no htmx attributes)."""
    package, _ = plan
    html = viewer.get(url(plan)).content.decode()
    assert '<main id="main"' in html and 'class="mainnav"' in html
    assert f'<a href="/packages/{package.id}/">Starter</a> \u203a Forecast' in html
    assert "<h1>Forecast of Starter</h1>" in html and '<h2 id="forecast-title">' in html
    assert 'id="forecast-start" name="start" value="2027-03-01"' in html
    assert "hx-get" not in html.split('id="forecast"')[1]
    assert "<strong>$120.00</strong>" in html


@pytest.mark.parametrize("value", ["-5", "lots"])
def test_bad_usage_is_said_on_the_page_not_a_500(viewer, plan, value):
    _, tokens = plan
    response = viewer.get(url(plan, **{f"forecast_usage-{tokens.id}": value}))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'role="alert"' in html and "Expected usage must be" in html
    assert f'value="{value}"' in html


def test_needs_login_and_the_package_read_permission(client, plan):
    response = client.get(url(plan))
    assert response.status_code == 302 and "/login/" in response["Location"]
    client.force_login(UserFactory(username="nobody"))
    assert client.get(url(plan)).status_code == 403


def test_an_unknown_package_is_a_404(viewer):
    assert viewer.get("/packages/00000000-0000-0000-0000-000000000001/forecast/").status_code == 404


def test_a_package_without_prices_says_so_instead_of_a_chart_of_zeros(viewer):
    """A package with no terms on a card that prices no usage (a fee nobody subscribes to): an
    empty state in words, no table of "$0.00" and no chart."""
    card = rate_card([monthly_fee(product("Unused fee", "SUBSCRIPTION"), 1000)], name="Fees")
    bare = package(card, name="Bare", duration=YEAR)
    html = viewer.get(
        f"/packages/{bare.id}/forecast/?start=2027-03-01", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "This package has no prices" in html
    assert "$0.00" not in html and "tl-bar" not in html and "forecast-table" not in html
