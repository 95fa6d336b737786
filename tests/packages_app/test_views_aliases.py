"""Alias pages: every alias with what it points at now and soon, its history drawn, and the
schedule form that previews how dates resolve before it changes anything. Rate-card pages."""

import datetime as dt

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from packages_app.models import AliasAssignment, AliasName, Rate
from packages_app.services.aliases import alias_assign
from tests.contracts_app.contract_builders import make_package, make_product, make_rate_card
from tests.factories import UserFactory, assert_page_needs_login_and

pytestmark = pytest.mark.django_db
JAN = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)
JUNE = dt.datetime(2027, 6, 1, tzinfo=dt.UTC)


def test_alias_list_shows_now_and_upcoming_in_constant_queries(
    pricing_client, django_assert_max_num_queries
):
    now = timezone.now()
    for i in range(6):
        v1, v2 = make_package(name=f"Plan {i} v1"), make_package(name=f"Plan {i} v2")
        alias_assign(
            kind="package", name=f"Plan {i}", package=v1, starting_at=now - dt.timedelta(days=30)
        )
        alias_assign(
            kind="package", name=f"Plan {i}", package=v2, starting_at=now + dt.timedelta(days=20)
        )
    # session, user, count, names, their intervals, packages for the form
    with django_assert_max_num_queries(6):
        response = pricing_client.get("/aliases/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.count('href="/packages/') >= 6
    soon = (now + dt.timedelta(days=20)).strftime("%Y-%m-%d")
    assert f"{soon}" in html and "→ Plan 5 v2" in html
    partial = pricing_client.get(
        "/aliases/?q=Plan 3", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="alias-table"
    ).content.decode()
    assert partial.lstrip().startswith('<div id="alias-table">')
    assert "Plan 3" in partial and "Plan 4" not in partial


def test_schedule_preview_shows_resolution_and_changes_nothing_then_confirm_once(pricing_client):
    v1, v2 = make_package(name="Starter v1"), make_package(name="Starter v2")
    alias_assign(kind="package", name="Starter", package=v1, starting_at=JAN)
    data = {
        "name": "Starter",
        "package": str(v2.id),
        "starting_at": "2027-06-01",
        "_action": "preview",
    }
    html = pricing_client.post("/aliases/schedule/", data).content.decode()
    assert AliasAssignment.objects.count() == 1
    assert "<td>2027-01-01</td><td>2027-06-01</td><td>Starter v1" in html
    assert "<td>2027-06-01</td><td>open-ended</td><td>Starter v2" in html
    data["_action"] = "confirm"
    first = pricing_client.post("/aliases/schedule/", data)
    second = pricing_client.post("/aliases/schedule/", data)
    name = AliasName.objects.get(name="Starter")
    assert first["Location"] == second["Location"] == f"/aliases/{name.id}/"
    schedule = list(
        AliasAssignment.objects.in_force()
        .order_by("starting_at")
        .values_list("package_id", "starting_at", "ending_before")
    )
    assert schedule == [(v1.id, JAN, JUNE), (v2.id, JUNE, None)]
    assert AliasAssignment.objects.count() == 2  # the repeat added no superseded copy


def test_schedule_errors_name_the_input(pricing_client):
    package = make_package(name="P")
    html = pricing_client.post(
        "/aliases/schedule/",
        {
            "name": "P",
            "package": str(package.id),
            "starting_at": "2027-06-01",
            "ending_before": "2027-01-01",
            "_action": "preview",
        },
    ).content.decode()
    assert "“Until” must be after “From”" in html and "Nothing was changed" in html  # page words
    assert AliasAssignment.objects.count() == 0


def test_alias_page_draws_history_including_superseded(
    pricing_client, django_assert_max_num_queries
):
    v1, v2 = make_package(name="Starter v1"), make_package(name="Starter v2")
    alias_assign(kind="package", name="Starter", package=v1, starting_at=JUNE)
    alias_assign(kind="package", name="Starter", package=v2, starting_at=JAN)  # supersedes v1
    name = AliasName.objects.get()
    with django_assert_max_num_queries(5):
        html = pricing_client.get(f"/aliases/{name.id}/").content.decode()
    assert "superseded" in html and "Starter v1" in html and "Starter v2" in html
    assert html.count('<svg role="group"') == 2  # timelines of links (templates/core/timeline.html)


def test_rate_card_page_shows_rates_at_a_date(pricing_client, django_assert_max_num_queries):
    card = make_rate_card("Standard")
    product = make_product("Input tokens", "USAGE")
    Rate.objects.create(
        rate_card=card,
        product=product,
        starting_at=JAN,
        ending_before=JUNE,
        rate_type="FLAT",
        price=3,
    )
    Rate.objects.create(
        rate_card=card, product=product, starting_at=JUNE, rate_type="FLAT", price=2
    )
    # session, user, card, rates at the date, every rate (count + page), aliases, products
    with django_assert_max_num_queries(8):
        html = pricing_client.get(f"/rate-cards/{card.id}/?at=2027-02-01").content.decode()
    assert "<td>3 USD (cents)</td>" in html and "Schedule (2)" in html
    partial = pricing_client.get(
        f"/rate-cards/{card.id}/?at=2027-07-01", HTTP_HX_REQUEST="true", HTTP_HX_TARGET="rates-at"
    ).content.decode()
    assert (
        partial.lstrip().startswith('<div id="rates-at">') and "<td>2 USD (cents)</td>" in partial
    )


@pytest.mark.parametrize(
    ("url", "permission"),
    [("/aliases/", "view_aliasassignment"), ("/rate-cards/{card}/", "view_ratecard")],
)
def test_pages_need_login_and_their_permission(client, url, permission):
    url = url.format(card=make_rate_card().id)
    assert_page_needs_login_and(client, url, permission)


def test_scheduling_needs_add_aliasassignment(client):
    user = UserFactory(username="viewer")
    user.user_permissions.add(Permission.objects.get(codename="view_aliasassignment"))
    client.force_login(user)
    assert client.post("/aliases/schedule/", {"name": "x"}).status_code == 403
