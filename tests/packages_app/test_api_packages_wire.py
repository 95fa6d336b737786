"""The stored response object (`Package.wire`) and the JSON text PostgreSQL builds from it.

get and list send that text as it is, so these tests pin what the SDK round trips elsewhere do
not: that it equals a fresh rendering of the stored terms, keeps every digit of an amount, and
follows what may change after create (archive, aliases, product and credit type names).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from config.core.instants import format_instant
from config.core.jsonutil import dumps
from packages_app.models import USD_CENTS_ID, CreditType, Package, Product
from packages_app.package_wire import Output
from packages_app.selectors.packages import _rfc3339_sql
from packages_app.services.products import product_update
from tests.builders.catalog import every_field
from tests.builders.package_queries import GET_QUERIES, LIST_PAGE_QUERIES
from tests.factories import UserFactory, api_post_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def call(client, token):
    def post(url: str, body: dict, query: str = ""):
        response = client.post(
            f"{url}{query}",
            data=dumps(body),  # Decimals as exact JSON numbers
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert response.status_code == 200, response.content
        assert response["Content-Type"] == "application/json"
        return response

    return post


def decoded(response) -> dict:
    return json.loads(response.content, parse_float=Decimal)


def create(call, body: dict) -> str:
    return decoded(call("/v1/packages/create", body))["data"]["id"]


def get(call, package_id: str) -> dict:
    return decoded(call("/v1/packages/get", {"package_id": package_id}))["data"]


def rendered_now(package_id: str) -> dict:
    """The response object rendered from the stored rows, as the create path renders it."""
    package = Package.objects.get(id=package_id)
    terms = list(package.terms.all())
    output = Output(
        {str(pk): name for pk, name in CreditType.objects.values_list("id", "name")},
        {str(pk): name for pk, name in Product.objects.values_list("id", "name")},
    )
    answer = json.loads(dumps(output.wire(package, terms)), parse_float=Decimal)
    aliases = package.alias_assignments.in_force().select_related("alias_name")
    answer.update(
        created_at=format_instant(package.created_at),
        archived_at=format_instant(package.archived_at),
        aliases=[
            {
                "name": assignment.alias_name.name,
                "starting_at": format_instant(assignment.starting_at),
                "ending_before": format_instant(assignment.ending_before),
            }
            for assignment in aliases.order_by("starting_at", "id")
        ],
    )
    return answer


@pytest.mark.parametrize(
    "instant",
    [
        dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
        dt.datetime(2025, 6, 30, 23, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(2025, 3, 1, 12, 0, 0, 500, tzinfo=dt.UTC),
        dt.datetime(2025, 3, 1, 12, 0, 0, 123456, tzinfo=dt.timezone(dt.timedelta(hours=-7))),
        dt.datetime(1999, 12, 31, 23, 0, 0, 1000, tzinfo=dt.UTC),
    ],
    ids=["whole-second", "last-microsecond", "sub-millisecond", "offset", "one-millisecond"],
)
def test_timestamps_in_sql_are_written_as_rfc3339_writes_them(instant):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_rfc3339_sql('v.t')} FROM (SELECT %s::timestamptz AS t) v", [instant]
        )
        (written,) = cursor.fetchone()
    assert written == format_instant(instant)


def test_answer_is_the_stored_rendering_plus_archive_and_aliases(call, catalog):
    # given: every field, an alias, archived afterwards
    package_id = create(call, every_field(catalog))
    call("/v1/packages/archive", {"package_id": package_id})

    # when
    got = get(call, package_id)
    listed = decoded(call("/v1/packages/list", {"archive_filter": "ARCHIVED"}))["data"]

    # then
    assert got == rendered_now(package_id)
    assert listed == [got]
    assert got["archived_at"].endswith("Z")
    assert got["aliases"] == [
        {"name": "enterprise", "starting_at": "2025-01-01T00:00:00Z", "ending_before": None}
    ]


def test_amounts_keep_every_digit(call, catalog):
    # given
    amounts = ["0.000001234", "1234567890123456789012345678901234567890.5", "3000.125"]
    items = [
        {
            "amount": Decimal(amount),
            "starting_at_offset": {"unit": "DAYS", "value": 0},
            "duration": {"unit": "DAYS", "value": 1},
        }
        for amount in amounts
    ]
    body = {
        "name": "digits",
        "credits": [
            {
                "product_id": str(catalog.commit_product.id),
                "access_schedule": {"schedule_items": items},
            }
        ],
    }

    # when
    package_id = create(call, body)
    raw = call("/v1/packages/get", {"package_id": package_id}).content.decode()

    # then: the digits are in the text as sent, and decode to the same Decimals
    for amount in amounts:
        assert f'"amount":{amount},' in raw, amount
    items_back = json.loads(raw, parse_float=Decimal)["data"]["credits"][0]["access_schedule"]
    assert [item["amount"] for item in items_back["schedule_items"]] == [
        Decimal(a) for a in amounts
    ]


def test_package_without_a_stored_rendering_is_rendered_at_its_first_read(
    call, catalog, django_assert_max_num_queries
):
    # given: packages whose rendering is missing (stored before the column, or made by hand)
    first = create(call, every_field(catalog))
    second = create(call, {"name": "bare"})
    expected = get(call, first)
    Package.objects.update(wire=None)
    hand_made = Package.objects.create(name="hand made", created_by="admin")

    # when
    again = get(call, first)
    page = decoded(call("/v1/packages/list", {}))["data"]

    # then: the same answer, and stored now, so reads are back to their pinned cost
    assert again == expected
    assert [p["id"] for p in page] == [first, second, str(hand_made.id)]
    assert page[2]["name"] == "hand made" and page[2]["commits"] == []
    assert not Package.objects.filter(wire__isnull=True).exists()
    with django_assert_max_num_queries(GET_QUERIES):
        get(call, first)
    with django_assert_max_num_queries(LIST_PAGE_QUERIES):
        call("/v1/packages/list", {})


def test_product_rename_shows_in_the_packages_that_use_it(call, catalog):
    # given
    package_id = create(call, every_field(catalog))
    other_id = create(call, {"name": "no terms"})
    this_hour = timezone.now().replace(minute=0, second=0, microsecond=0)

    # when
    product_update(
        product_id=catalog.commit_product.id,
        starting_at=this_hour,
        changes={"name": "Prepaid commit (renamed)"},
    )

    # then: only the package showing the product renders again, with the new name
    assert Package.objects.get(id=package_id).wire is None
    assert Package.objects.get(id=other_id).wire is not None
    got = get(call, package_id)
    assert got["commits"][0]["product"]["name"] == "Prepaid commit (renamed)"
    assert got == rendered_now(package_id)


def test_scheduled_product_rename_shows_once_it_takes_effect(
    call, catalog, monkeypatch, django_assert_max_num_queries
):
    # given: a package, then a rename of its product scheduled for the next hour
    before = create(call, every_field(catalog))
    next_hour = timezone.now().replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    product_update(
        product_id=catalog.commit_product.id,
        starting_at=next_hour,
        changes={"name": "Prepaid commit (renamed)"},
    )
    second = {**every_field(catalog), "uniqueness_key": "second", "aliases": []}
    after = create(call, second)

    # when / then: until then, the current name, from the stored wire
    for package_id in (before, after):
        assert get(call, package_id)["commits"][0]["product"]["name"] == "Prepaid commit"
        assert Package.objects.get(id=package_id).wire_expires_at == next_hour

    # when: the hour has come
    monkeypatch.setattr(timezone, "now", lambda: next_hour + dt.timedelta(minutes=1))

    # then: both render again with the new name, and reads are back to their pinned cost
    listed = decoded(call("/v1/packages/list", {}))["data"]
    assert [p["commits"][0]["product"]["name"] for p in listed] == ["Prepaid commit (renamed)"] * 2
    assert not Package.objects.filter(wire_expires_at__isnull=False).exists()
    with django_assert_max_num_queries(GET_QUERIES):
        got = get(call, before)
    assert got["commits"][0]["product"]["name"] == "Prepaid commit (renamed)"


def test_ids_sent_in_any_spelling_are_stored_and_answered_canonically(call, catalog):
    # given: every id in the payload upper-case, the tokens id also without hyphens
    payload = every_field(catalog)
    text = dumps(payload)
    ids = {
        str(key)
        for key in (
            catalog.rate_card.id, catalog.commit_product.id, catalog.usage_product.id,
            catalog.subscription_product.id, catalog.tokens.id, USD_CENTS_ID,
        )
    }  # fmt: skip
    for key in ids:
        text = text.replace(f'"{key}"', f'"{key.upper()}"')
    text = text.replace(f'"{str(catalog.tokens.id).upper()}"', f'"{catalog.tokens.id.hex.upper()}"')
    assert all(key not in text for key in ids)

    # when
    package_id = create(call, json.loads(text, parse_float=Decimal))
    got = get(call, package_id)

    # then: canonical ids everywhere, and names found by them
    answer = dumps(got)
    assert all(key.upper() not in answer and key.replace("-", "") not in answer for key in ids)
    assert got["credits"][0]["access_schedule"]["credit_type"] == {
        "id": str(catalog.tokens.id),
        "name": "Tokens",
    }
    assert got["commits"][0]["specifiers"][0]["product_id"] == str(catalog.usage_product.id)
    assert got["credits"][0]["applicable_product_ids"] == [str(catalog.usage_product.id)]
    assert got == rendered_now(package_id)
    stored = dumps([term.body for term in Package.objects.get(id=package_id).terms.all()])
    assert all(key.upper() not in stored for key in ids)


def test_credit_type_renamed_in_the_admin_shows_in_packages(client, call, catalog):
    # given
    package_id = create(call, every_field(catalog))
    client.force_login(UserFactory(is_superuser=True, is_staff=True))

    # when
    response = client.post(
        f"/admin/packages_app/credittype/{catalog.tokens.id}/change/",
        {"name": "Tokens (renamed)", "is_currency": ""},
    )

    # then
    assert response.status_code == 302
    got = get(call, package_id)
    assert got["credits"][0]["access_schedule"]["credit_type"]["name"] == "Tokens (renamed)"
    assert got["commits"][0]["access_schedule"]["credit_type"]["id"] == str(USD_CENTS_ID)


def test_a_forged_cursor_is_400_not_a_database_error(client, token):
    # given: well-formed base64 JSON, but not a (created_at, id) pair
    forged = base64.urlsafe_b64encode(json.dumps(["yesterday", "nope"]).encode()).decode()

    # when
    response = api_post_text(client, token, f"/v1/packages/list?next_page={forged}", "{}")

    # then
    assert response.status_code == 400
    assert response.json()["field"] == "next_page"
