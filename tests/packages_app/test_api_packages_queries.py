"""Query counts of the package endpoints are fixed: they do not grow with terms or packages."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.builders.catalog import eight_terms_on, every_field
from tests.builders.package_queries import GET_QUERIES, LIST_PAGE_QUERIES
from tests.factories import api_post

pytestmark = pytest.mark.django_db

# token, savepoint, rate card, products, credit types, savepoint/insert/release, terms, audit
# entry, webhook event (the outbox row, config.webhooks), release
CREATE_QUERIES = 12


def post(client, token, url, body, query=""):
    response = api_post(client, token, f"{url}{query}", body)
    assert response.status_code == 200, response.content
    return response.json()


def terms_payload(catalog, copies: int) -> dict:
    """`copies` times the eight-term shape (so 8 * copies terms)."""
    one = eight_terms_on(catalog)
    payload: dict = {"rate_card_id": one.pop("rate_card_id")}
    for key, terms in one.items():
        payload[key] = [
            {k: v for k, v in term.items() if k != "temporary_id"}
            for _ in range(copies)
            for term in terms
        ]
    return payload


def create_queries(client, token, body) -> int:
    with CaptureQueriesContext(connection) as queries:
        post(client, token, "/v1/packages/create", body)
    return len(queries)


def test_create_queries_do_not_grow_with_terms(client, token, catalog):
    # given
    one_term = {
        "rate_card_id": str(catalog.rate_card.id),
        "credits": terms_payload(catalog, 1)["credits"],
    }

    # when
    counts = [
        create_queries(client, token, {"name": "one", **one_term}),
        create_queries(client, token, {"name": "eight", **terms_payload(catalog, 1)}),
        create_queries(client, token, {"name": "thirty-two", **terms_payload(catalog, 4)}),
    ]

    # then
    assert counts[0] == counts[1] == counts[2] <= CREATE_QUERIES


def test_create_with_every_field_stays_within_the_pin(
    client, token, catalog, django_assert_max_num_queries
):
    payload = every_field(catalog)
    del payload["aliases"]  # aliases cost a few queries each; pinned in test_aliases_packages
    with django_assert_max_num_queries(CREATE_QUERIES):
        post(client, token, "/v1/packages/create", payload)


def test_get_queries_do_not_grow_with_terms(client, token, catalog, django_assert_max_num_queries):
    # given
    small = post(client, token, "/v1/packages/create", {"name": "small"})["data"]["id"]
    payload = {"name": "big", **terms_payload(catalog, 4), "aliases": [{"name": "big"}]}
    big = post(client, token, "/v1/packages/create", payload)["data"]["id"]

    # when / then
    for package_id in (small, big):
        with django_assert_max_num_queries(GET_QUERIES):
            post(client, token, "/v1/packages/get", {"package_id": package_id})


def test_list_page_queries_do_not_grow_with_packages_or_terms(
    client, token, catalog, django_assert_max_num_queries
):
    # given: one bare package, then ten with 32 terms and an alias each
    post(client, token, "/v1/packages/create", {"name": "bare"})
    with django_assert_max_num_queries(LIST_PAGE_QUERIES):
        single = post(client, token, "/v1/packages/list", {})
    for index in range(10):
        body = {
            "name": f"p{index}",
            **terms_payload(catalog, 4),
            "aliases": [{"name": f"a{index}"}],
        }
        post(client, token, "/v1/packages/create", body)

    # when / then
    with django_assert_max_num_queries(LIST_PAGE_QUERIES):
        full = post(client, token, "/v1/packages/list", {}, query="?limit=11")
    assert len(single["data"]) == 1 and len(full["data"]) == 11
    assert full["next_page"] is None
    assert sum(len(p["commits"]) for p in full["data"]) == 80
