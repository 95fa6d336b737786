"""The cohort pages: /packages/<id>/cohort/ and /aliases/<id>/cohort/ (filters in the URL, the
same contracts as listContractsOnPackage, keyset "Load more", constant queries, permissions)."""

from __future__ import annotations

import datetime as dt
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from contracts_app.models import Contract
from packages_app.services.aliases import alias_assign
from tests.contracts_app.cohort_page_builders import BASE, api_cohort, random_cohort
from tests.contracts_app.contract_builders import make_package
from tests.factories import UserFactory, user_with_token

pytestmark = pytest.mark.django_db
UTC = dt.UTC


@pytest.fixture
def cohort():
    package = make_package(name="Starter Plan v1")
    random_cohort(package, 180, seed=3)
    return package


def contract_ids(html: str) -> list[str]:
    return re.findall(r'href="/contracts/([0-9a-f-]{36})/"', html)


def more_href(html: str) -> str | None:
    match = re.search(r'<tr id="cohort-more">.*?href="([^"]+)"', html, re.S)
    return unescape(match.group(1)) if match else None


def walk(client, url: str) -> tuple[list[str], str]:
    """Every contract the page lists, following "Load more" (its plain href) to the end."""
    first = client.get(url).content.decode()
    seen, html = contract_ids(first), first
    while (href := more_href(html)) is not None:
        html = client.get(url.split("?")[0] + href).content.decode()
        seen += contract_ids(html)
    return seen, first


@pytest.mark.parametrize(
    "query, body",
    [
        ("", None),  # now
        ("?at=2026-05-01", {"covering_date": "2026-05-01T00:00:00Z"}),
        ("?at=2026-05-01T07:00Z&archived=1", {"covering_date": "2026-05-01T07:00:00Z"}),
        ("?starting_at=2026-08-01", {"starting_at": "2026-08-01T00:00:00Z"}),
        ("?starting_at=2026-08-01&archived=1", {"starting_at": "2026-08-01T00:00:00Z"}),
    ],
)
def test_the_page_lists_what_list_contracts_on_package_lists_with_the_same_filters(
    pricing_client, client, cohort, query, body
):
    # given
    _, token = user_with_token(superuser=True)
    if body is None:
        body = {"covering_date": dt.datetime.now(UTC).isoformat()}
    body["include_archived"] = "archived=1" in query
    # when
    seen, first = walk(pricing_client, f"/packages/{cohort.id}/cohort/{query}")
    # then
    expected = [item["contract_id"] for item in api_cohort(client, token, cohort, **body)]
    assert seen == expected
    assert re.search(r'data-count="cohort">(\d+)<', first).group(1) == str(len(expected))


def test_filters_round_trip_through_the_url_and_stay_selected(pricing_client, cohort):
    url = f"/packages/{cohort.id}/cohort/?at=2026-06-01&archived=1&q=Customer"
    html = pricing_client.get(url).content.decode()
    # the form shows what was chosen
    assert 'name="at" value="2026-06-01"' in html
    assert re.search(r'name="archived"[^>]*checked', html)
    assert 'name="q" value="Customer"' in html
    # load more and the CSV link carry the same filters
    more = parse_qs(urlsplit(more_href(html)).query)
    assert more["at"] == ["2026-06-01"] and more["archived"] == ["1"] and more["q"] == ["Customer"]
    assert "after" in more
    csv = re.search(r'href="(/packages/[^"]+/cohort\.csv[^"]*)"', html).group(1)
    assert parse_qs(urlsplit(unescape(csv)).query) == {
        "at": ["2026-06-01"],
        "archived": ["1"],
        "q": ["Customer"],
    }


def test_customer_search_by_name_or_external_id(pricing_client, cohort):
    contract = Contract.objects.filter(package=cohort).select_related("customer").first()
    customer = contract.customer
    at = contract.starting_at.strftime("%Y-%m-%dT%H:%M")
    by_id = pricing_client.get(
        f"/packages/{cohort.id}/cohort/?at={at}&archived=1&q={customer.external_id}"
    ).content.decode()
    assert contract_ids(by_id) == [str(contract.id)]
    assert customer.name in by_id and customer.external_id in by_id
    nobody = pricing_client.get(f"/packages/{cohort.id}/cohort/?q=zzz-nobody").content.decode()
    assert contract_ids(nobody) == [] and "No contracts match these filters." in nobody


@pytest.mark.parametrize(
    "query, field",
    [
        ("?at=yesterday", "at"),
        ("?at=2026-02-30", "at"),
        ("?at=2026-05-01&starting_at=2026-04-01", "starting_at"),
    ],
)
def test_bad_filters_are_errors_beside_their_field_not_a_500(pricing_client, cohort, query, field):
    response = pricing_client.get(f"/packages/{cohort.id}/cohort/{query}")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="id_{field}_error"' in html
    csv = pricing_client.get(f"/packages/{cohort.id}/cohort.csv{query}")
    assert csv.status_code == 400 and field in csv.content.decode()


def test_a_forged_cursor_starts_again_from_the_first_page(pricing_client, cohort):
    first = pricing_client.get(f"/packages/{cohort.id}/cohort/?at=2026-05-01").content.decode()
    forged = pricing_client.get(
        f"/packages/{cohort.id}/cohort/?at=2026-05-01&after=bm90LWEtY3Vyc29y"
    ).content.decode()
    assert contract_ids(forged) == contract_ids(first)


def test_htmx_renders_the_region_or_only_the_next_rows(pricing_client, cohort):
    url = f"/packages/{cohort.id}/cohort/?starting_at=2026-01-01"
    region = pricing_client.get(url, HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in region and 'id="cohort"' in region and "<form" in region
    rows = pricing_client.get(
        url.split("?")[0] + more_href(region), HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<form" not in rows and "<tr" in rows and 'id="cohort"' not in rows


@pytest.mark.parametrize("query", ["", "?at=2026-05-01", "?starting_at=2026-03-01&q=Customer"])
def test_the_cohort_page_costs_the_same_queries_whatever_its_size(
    pricing_client, cohort, query, django_assert_max_num_queries
):
    # session + user, package, page (covering: up to 3 bounded scans), customers, count
    with django_assert_max_num_queries(8):
        pricing_client.get(f"/packages/{cohort.id}/cohort/{query}")
    random_cohort(cohort, 300, seed=4, prefix="More")
    with django_assert_max_num_queries(8):
        pricing_client.get(f"/packages/{cohort.id}/cohort/{query}")


URLS = [
    "/packages/{package}/cohort/",
    "/packages/{package}/cohort.csv",
    "/aliases/{alias}/cohort/",
]


@pytest.mark.parametrize("url", URLS)
def test_cohort_pages_need_login_and_the_view_contract_permission(client, cohort, url):
    alias = alias_assign(kind="package", name="Starter", package=cohort, starting_at=BASE)
    path = url.format(package=cohort.id, alias=alias.alias_name_id)
    assert client.get(path).status_code == 302
    client.force_login(UserFactory(username="nobody"))
    assert client.get(path).status_code == 403
    viewer, _ = user_with_token("contracts_app.view_contract")
    client.force_login(viewer)
    assert client.get(path).status_code == 200


# --- the alias cohort -------------------------------------------------------------------------


@pytest.fixture
def alias_with_versions():
    v1 = make_package(name="Starter Plan v1")
    v2 = make_package(name="Starter Plan v2")
    v3 = make_package(name="Starter Plan v3 (never used)")
    random_cohort(v1, 70, seed=5, prefix="Early")
    random_cohort(v2, 45, seed=6, prefix="Late")
    alias_assign(kind="package", name="Starter", package=v1, starting_at=BASE)
    alias_assign(kind="package", name="Starter", package=v3, starting_at=BASE + dt.timedelta(60))
    row = alias_assign(
        kind="package", name="Starter", package=v2, starting_at=BASE + dt.timedelta(90)
    )
    return row.alias_name, (v1, v3, v2)


def test_the_alias_cohort_lists_every_version_grouped_in_alias_order(
    pricing_client, client, alias_with_versions, django_assert_max_num_queries
):
    # given
    alias_name, (v1, _v3, v2) = alias_with_versions
    _, token = user_with_token(superuser=True)
    url = f"/aliases/{alias_name.id}/cohort/?starting_at=2025-01-01&archived=1"
    # when
    seen, first = walk(pricing_client, url)
    # then: v1's contracts, then v2's (v3 has none), each once, as the API orders them
    expected = [
        item["contract_id"]
        for package in (v1, v2)
        for item in api_cohort(
            client, token, package, starting_at="2025-01-01T00:00:00Z", include_archived=True
        )
    ]
    assert seen == expected and len(seen) == 115
    assert first.index("Starter Plan v1") < first.index("Starter Plan v2")
    assert re.search(r'data-count="cohort">115<', first)
    assert "Starter Plan v3 (never used)" in first  # listed with its count, 0
    # session + user, alias, history, counts, a page and customers per package it shows
    with django_assert_max_num_queries(9):
        pricing_client.get(url)
    with django_assert_max_num_queries(9):
        pricing_client.get(f"/aliases/{alias_name.id}/cohort/?at=2026-04-15")


def test_load_more_on_the_alias_cohort_does_not_repeat_a_group_heading(
    pricing_client, alias_with_versions
):
    # given an alias cohort whose first version fills more than a page
    alias_name, _versions = alias_with_versions
    url = f"/aliases/{alias_name.id}/cohort/?starting_at=2025-01-01&archived=1"
    pages = [pricing_client.get(url).content.decode()]
    # when every "Load more" is followed
    while (href := more_href(pages[-1])) is not None:
        pages.append(pricing_client.get(url.split("?")[0] + href).content.decode())
    # then each version's heading is shown once, however many pages its contracts fill
    headings = [
        name for html in pages for name in re.findall(r'scope="rowgroup"><a [^>]*>([^<]+)<', html)
    ]
    assert len(pages) > 2
    assert headings == ["Starter Plan v1", "Starter Plan v2"]


def test_the_alias_cohort_filters_by_date_like_the_package_pages(
    pricing_client, client, alias_with_versions
):
    alias_name, (v1, _v3, v2) = alias_with_versions
    _, token = user_with_token(superuser=True)
    seen, _ = walk(pricing_client, f"/aliases/{alias_name.id}/cohort/?at=2026-04-15&q=a")
    on = "2026-04-15T00:00:00Z"
    expected = {
        item["contract_id"]
        for package in (v1, v2)
        for item in api_cohort(client, token, package, covering_date=on)
    }
    assert set(seen) == expected and len(seen) == len(expected)


def test_an_alias_that_never_pointed_at_a_package_has_an_empty_state(pricing_client):
    row = alias_assign(
        kind="package", name="Lonely", package=make_package(name="Lonely v1"), starting_at=BASE
    )
    html = pricing_client.get(f"/aliases/{row.alias_name_id}/cohort/").content.decode()
    assert "No contracts match these filters." in html
