"""`v1/packages/create` refuses bad input with a 400 naming the field, and writes nothing."""

from __future__ import annotations

import copy
import json
from decimal import Decimal

import pytest

from config.core.jsonutil import dumps
from packages_app.models import AliasAssignment, AliasName, Package, PackageTerm
from tests.builders.catalog import every_field, offset
from tests.factories import user_with_token

pytestmark = pytest.mark.django_db

URL = "/v1/packages/create"


@pytest.fixture
def token():
    return user_with_token("packages_app.add_package")[1]


def post(client, token, body, url=URL):
    return client.post(
        url,
        data=json.dumps(body) if not isinstance(body, str) else body,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def commit(product_id, **fields):
    body = {
        "type": "PREPAID",
        "product_id": product_id,
        "access_schedule": {
            "schedule_items": [
                {"amount": 100, "starting_at_offset": offset(), "duration": offset("MONTHS", 1)}
            ]
        },
    }
    body.update(fields)
    return body


def override(product_id, **fields):
    body = {
        "starting_at_offset": offset(),
        "override_specifiers": [{"product_id": product_id}],
        "type": "MULTIPLIER",
        "multiplier": 0.5,
    }
    body.update(fields)
    return body


def assert_nothing_written():
    assert not Package.objects.exists()
    assert not PackageTerm.objects.exists()
    assert not AliasAssignment.objects.exists()


def assert_400(response, field):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["field"] == field, body
    assert body["message"]
    assert_nothing_written()


# --- shape: types, enums, required nested fields, unknown keys -------------------------------

SHAPE_CASES = {
    "missing name": ({}, "name"),
    "name not a string": ({"name": 5}, "name"),
    "lower-case unit": ({"duration": {"unit": "days", "value": 1}}, "duration.unit"),
    "value as string": ({"duration": {"unit": "DAYS", "value": "1"}}, "duration.value"),
    "value not whole": ({"duration": {"unit": "DAYS", "value": 1.5}}, "duration.value"),
    "zero-length duration": ({"duration": {"unit": "DAYS", "value": 0}}, "duration.value"),
    "duration past any date": ({"duration": {"unit": "YEARS", "value": 9000}}, "duration.value"),
    "unknown billing provider": ({"billing_provider": "paypal"}, "billing_provider"),
    "unknown top-level key": ({"colour": "red"}, "colour"),
    "net terms not a number": ({"net_payment_terms_days": "30"}, "net_payment_terms_days"),
    "usage schedule without frequency": (
        {"usage_statement_schedule": {"day": "FIRST_OF_MONTH"}},
        "usage_statement_schedule.frequency",
    ),
    "alias without name": ({"aliases": [{"starting_at": "2025-01-01"}]}, "aliases[0].name"),
    "alias bad datetime": (
        {"aliases": [{"name": "a", "starting_at": "yesterday"}]},
        "aliases[0].starting_at",
    ),
    "alias ends before it starts": (
        {"aliases": [{"name": "a", "starting_at": "2025-02-01", "ending_before": "2025-01-01"}]},
        "aliases[0].ending_before",
    ),
    "spend tracker bad source": (
        {
            "spend_trackers": [
                {
                    "alias": "s",
                    "credit_type_id": "2714e483-4ff1-48e4-9e25-ac732e8f24f2",
                    "reset_frequency": "BILLING_PERIOD",
                    "applicable_spend_specifiers": [
                        {"sources": ["EMAIL"], "spend_type": "COMMIT_PURCHASE"}
                    ],
                }
            ]
        },
        "spend_trackers[0].applicable_spend_specifiers[0].sources[0]",
    ),
    "threshold without payment gate": (
        {
            "spend_threshold_configuration": {
                "commit": {"product_id": "x"},
                "is_enabled": True,
                "threshold_amount": 1,
            }
        },
        "spend_threshold_configuration.payment_gate_config",
    ),
}


@pytest.mark.parametrize("body, field", SHAPE_CASES.values(), ids=SHAPE_CASES.keys())
def test_shape_errors_name_the_field(client, token, body, field):
    payload = body if "name" in body or not body else {"name": "P", **body}
    assert_400(post(client, token, payload), field)


def test_nested_term_errors_name_the_dotted_path(client, token, catalog):
    product_id = str(catalog.commit_product.id)
    cases = [
        (
            {"commits": [{"type": "PREPAID", "product_id": product_id}]},
            "commits[0].access_schedule",
        ),
        (
            {"commits": [commit(product_id, access_schedule={"credit_type_id": "x"})]},
            "commits[0].access_schedule.schedule_items",
        ),
        ({"commits": [commit(product_id, type="prepaid")]}, "commits[0].type"),
        (
            {"commits": [commit(product_id), commit(product_id, rollover_fraction=2)]},
            "commits[1].rollover_fraction",
        ),
        (
            {
                "commits": [
                    commit(
                        product_id,
                        invoice_schedule={
                            "do_not_invoice": "yes",
                            "schedule_items": [
                                {"date_offset": offset(), "quantity": 1, "unit_price": 100}
                            ],
                        },
                    )
                ]
            },
            "commits[0].invoice_schedule.do_not_invoice",
        ),
        (
            {"overrides": [override(product_id, starting_at_offset={"unit": "HOURS", "value": 1})]},
            "overrides[0].starting_at_offset.unit",
        ),
        (
            {"overrides": [override(product_id, type="OVERWRITE", multiplier=None)]},
            "overrides[0].multiplier",
        ),
        (
            {
                "overrides": [
                    {
                        "starting_at_offset": offset(),
                        "type": "OVERWRITE",
                        "override_specifiers": [{"product_id": product_id}],
                    }
                ]
            },
            "overrides[0].overwrite_rate",
        ),
        (
            {
                "subscriptions": [
                    {
                        "collection_schedule": "ADVANCE",
                        "proration": {},
                        "subscription_rate": {"billing_frequency": "MONTHLY"},
                        "initial_quantity": 1,
                    }
                ]
            },
            "subscriptions[0].subscription_rate.product_id",
        ),
        (
            {
                "recurring_commits": [
                    {
                        "product_id": product_id,
                        "priority": 1,
                        "starting_at_offset": offset(),
                        "commit_duration": {"value": 1},
                        "access_amount": {"unit_price": 1},
                    }
                ]
            },
            "recurring_commits[0].access_amount.quantity",
        ),
    ]
    for body, field in cases:
        assert_400(post(client, token, {"name": "P", **body}), field)


def test_malformed_json_and_non_object_bodies_are_400(client, token):
    assert post(client, token, "{not json").status_code == 400
    assert_400(post(client, token, "[1, 2]"), "body")


# --- references ---------------------------------------------------------------------------------


def test_unknown_or_malformed_references_are_400(client, token, catalog):
    product_id = str(catalog.commit_product.id)
    missing = "0b8f3ba2-4a57-4d55-a1d8-9d1f3a4e7c11"
    cases = [
        ({"rate_card_id": missing}, "rate_card_id"),
        ({"rate_card_id": "not-a-uuid"}, "rate_card_id"),
        ({"commits": [commit(product_id), commit(missing)]}, "commits[1].product_id"),
        ({"commits": [commit("banana")]}, "commits[0].product_id"),
        (
            {"commits": [commit(product_id, applicable_product_ids=[product_id, missing])]},
            "commits[0].applicable_product_ids[1]",
        ),
        (
            {
                "commits": [
                    commit(
                        product_id,
                        access_schedule={
                            "credit_type_id": missing,
                            "schedule_items": [
                                {
                                    "amount": 1,
                                    "starting_at_offset": offset(),
                                    "duration": offset("DAYS", 1),
                                }
                            ],
                        },
                    )
                ]
            },
            "commits[0].access_schedule.credit_type_id",
        ),
        (
            {"overrides": [override(missing)]},
            "overrides[0].override_specifiers[0].product_id",
        ),
        ({"rate_card_alias": "nobody-uses-this"}, "rate_card_alias"),
    ]
    for body, field in cases:
        assert_400(post(client, token, {"name": "P", **body}), field)


def test_rate_card_id_and_alias_together_are_400(client, token, catalog):
    AliasName.objects.create(kind=AliasName.Kind.RATE_CARD, name="standard")
    body = {"name": "P", "rate_card_id": str(catalog.rate_card.id), "rate_card_alias": "standard"}
    assert_400(post(client, token, body), "rate_card_alias")


def test_archived_product_is_refused(client, token, catalog):
    from django.utils import timezone

    catalog.commit_product.archived_at = timezone.now()
    catalog.commit_product.save()
    body = {"name": "P", "commits": [commit(str(catalog.commit_product.id))]}
    assert_400(post(client, token, body), "commits[0].product_id")


# --- cross-field rules ----------------------------------------------------------------------


def test_postpaid_commit_needs_a_matching_invoice_schedule(client, token, catalog):
    product_id = str(catalog.commit_product.id)
    access = {
        "schedule_items": [
            {"amount": 1000, "starting_at_offset": offset(), "duration": offset("YEARS", 1)}
        ]
    }

    def invoice(quantity, unit_price):
        return {
            "schedule_items": [
                {"date_offset": offset("YEARS", 1), "quantity": quantity, "unit_price": unit_price}
            ]
        }

    # given / when / then: missing, then a total that differs
    without = commit(product_id, type="POSTPAID", access_schedule=access)
    assert_400(
        post(client, token, {"name": "P", "commits": [without]}), "commits[0].invoice_schedule"
    )
    mismatch = commit(
        product_id, type="POSTPAID", access_schedule=access, invoice_schedule=invoice(3, 300)
    )
    assert_400(
        post(client, token, {"name": "P", "commits": [mismatch]}), "commits[0].invoice_schedule"
    )

    # a total that matches exactly (decimal arithmetic, no float drift) is accepted
    exact = commit(
        product_id, type="POSTPAID", access_schedule=access, invoice_schedule=invoice(3, 333.33)
    )
    exact["access_schedule"]["schedule_items"][0]["amount"] = 999.99
    response = post(client, token, {"name": "P", "commits": [exact]})
    assert response.status_code == 200, response.content


@pytest.mark.parametrize(
    ("access_amount", "quantity", "unit_price", "status"),
    [
        # 30 significant digits: the default 28-digit context rounded this sum to 1.
        ("1.00000000000000000000000000001", "1", "1", 400),
        ("1.00000000000000000000000000001", "1", "1.00000000000000000000000000001", 200),
        # A product whose exact value needs 60 digits.
        ("1.00000000000000000000000000002", "1.00000000000000000000000000001", "1", 400),
        ("1e100", "1e50", "1e50", 200),
        ("1e100", "1e50", "1.000000000000000000000000000000000000001e50", 400),
    ],
)
def test_postpaid_totals_are_compared_with_every_digit(
    client, token, catalog, access_amount, quantity, unit_price, status
):
    # given
    postpaid = commit(
        str(catalog.commit_product.id),
        type="POSTPAID",
        invoice_schedule={
            "schedule_items": [
                {
                    "date_offset": offset("YEARS", 1),
                    "quantity": Decimal(quantity),
                    "unit_price": Decimal(unit_price),
                }
            ]
        },
    )
    postpaid["access_schedule"]["schedule_items"][0]["amount"] = Decimal(access_amount)

    # when
    response = post(client, token, dumps({"name": "P", "commits": [postpaid]}))

    # then
    if status == 400:
        assert_400(response, "commits[0].invoice_schedule")
    else:
        assert response.status_code == 200, response.content


def test_explicit_prioritization_needs_priorities(client, token, catalog):
    product_id = str(catalog.usage_product.id)
    body = {
        "name": "P",
        "multiplier_override_prioritization": "EXPLICIT",
        "overrides": [override(product_id, priority=1), override(product_id)],
    }
    assert_400(post(client, token, body), "overrides[1].priority")


def test_tiered_overrides_need_explicit_prioritization(client, token, catalog):
    tiered = override(
        str(catalog.usage_product.id),
        type="TIERED",
        multiplier=None,
        tiers=[{"multiplier": 0.9, "size": 10}, {"multiplier": 0.8}],
        priority=1,
    )
    del tiered["multiplier"]
    assert_400(post(client, token, {"name": "P", "overrides": [tiered]}), "overrides[0].tiers")
    body = {"name": "P", "overrides": [tiered], "multiplier_override_prioritization": "EXPLICIT"}
    assert post(client, token, body).status_code == 200


def test_override_specifiers_must_name_temporary_ids_of_this_package(client, token, catalog):
    product_id = str(catalog.commit_product.id)
    commits = [commit(product_id, temporary_id="c1")]
    cases = [
        ({"commit_ids": ["c1", "c2"]}, "overrides[0].override_specifiers[0].commit_ids[1]"),
        ({"recurring_commit_ids": ["c1"]}, "overrides[0].override_specifiers[0].recurring_commit_ids[0]"),
        ({"any_commit_or_credit_ids": ["zz"]}, "overrides[0].override_specifiers[0].any_commit_or_credit_ids[0]"),
    ]  # fmt: skip
    for specifier, field in cases:
        spec = {"product_id": product_id, **specifier}
        body = {
            "name": "P",
            "commits": commits,
            "overrides": [
                override(product_id, is_commit_specific=True, override_specifiers=[spec])
            ],
        }
        assert_400(post(client, token, body), field)


def test_duplicate_temporary_ids_are_400(client, token, catalog):
    product_id = str(catalog.commit_product.id)
    body = {
        "name": "P",
        "commits": [commit(product_id, temporary_id="t"), commit(product_id, temporary_id="t")],
    }
    assert_400(post(client, token, body), "commits[1].temporary_id")


def test_subscription_config_must_name_a_subscription_of_this_package(client, token, catalog):
    payload = every_field(catalog)
    payload["recurring_commits"][0]["subscription_config"]["subscription_id"] = "unknown"
    del payload["aliases"]
    assert_400(
        post(client, token, payload), "recurring_commits[0].subscription_config.subscription_id"
    )


def test_specifiers_and_applicable_products_do_not_mix(client, token, catalog):
    product_id = str(catalog.commit_product.id)
    bad = commit(product_id, specifiers=[{"product_tags": ["a"]}], applicable_product_tags=["b"])
    assert_400(post(client, token, {"name": "P", "commits": [bad]}), "commits[0].specifiers")


def test_a_late_error_leaves_no_trace_of_earlier_valid_parts(client, token, catalog):
    # given: everything valid except the last override's reference
    payload = copy.deepcopy(every_field(catalog))
    payload["overrides"][-1]["override_specifiers"] = [
        {"product_id": "0b8f3ba2-4a57-4d55-a1d8-9d1f3a4e7c11"}
    ]

    # when / then
    assert_400(post(client, token, payload), "overrides[2].override_specifiers[0].product_id")
    assert not AliasName.objects.filter(kind="package").exists()


# --- get / list / archive inputs -----------------------------------------------------------------


@pytest.fixture
def reader_token():
    return user_with_token("packages_app.view_package")[1]


def test_list_accepts_an_empty_or_missing_body(client, reader_token):
    auth = {"HTTP_AUTHORIZATION": f"Bearer {reader_token}"}
    no_body = client.generic("POST", "/v1/packages/list", **auth)  # Content-Length: 0
    empty_json = client.post("/v1/packages/list", data="", content_type="application/json", **auth)
    assert no_body.status_code == empty_json.status_code == 200
    assert no_body.json() == {"data": [], "next_page": None}


@pytest.mark.parametrize(
    "query, body, field",
    [
        ("", {"archive_filter": "archived"}, "archive_filter"),
        ("?limit=0", {}, "limit"),
        ("?limit=ten", {}, "limit"),
        ("?next_page=%25%25%25", {}, "next_page"),
    ],
)
def test_list_refuses_bad_filters_and_paging(client, reader_token, query, body, field):
    response = post(client, reader_token, body, url=f"/v1/packages/list{query}")
    assert response.status_code == 400
    assert response.json()["field"] == field


def test_get_and_archive_need_a_package_id(client):
    _, token = user_with_token("packages_app.view_package", "packages_app.change_package")
    for url in ("/v1/packages/get", "/v1/packages/archive"):
        response = post(client, token, {}, url=url)
        assert response.status_code == 400
        assert response.json()["field"] == "package_id"


def test_no_token_is_401(client):
    response = client.post("/v1/packages/create", data="{}", content_type="application/json")
    assert response.status_code == 401
    assert response.json()["message"]
