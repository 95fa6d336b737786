"""Catalog admin: fixed-cost changelists, archive instead of delete."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from packages_app.models import (
    USD_CENTS_ID,
    AliasName,
    BillableMetric,
    CreditType,
    Product,
    Rate,
    RateCard,
)
from packages_app.services.aliases import alias_assign

pytestmark = pytest.mark.django_db
JAN = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def _add_rows(model, count: int) -> None:
    """`count` more rows of `model`, each with what its changelist shows (metric, rates)."""
    for _ in range(count):
        metric = BillableMetric.objects.create(name="m", aggregation_type="COUNT")
        if model is Product:
            Product.objects.create(name="p", type="USAGE", billable_metric=metric)
        elif model is RateCard:
            card = RateCard.objects.create(name="c")
            product = Product.objects.create(name="p", type="FIXED")
            Rate.objects.create(
                rate_card=card, product=product, starting_at=JAN, rate_type="FLAT", price=1
            )
        elif model is CreditType:
            CreditType.objects.create(name=f"unit {CreditType.objects.count()}")


def _changelist_queries(client, model) -> int:
    url = reverse(f"admin:packages_app_{model._meta.model_name}_changelist")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("model", [BillableMetric, Product, RateCard, CreditType])
def test_changelist_costs_the_same_queries_for_3_and_30_rows(admin_client, model):
    # given
    _add_rows(model, 3)
    few = _changelist_queries(admin_client, model)

    # when
    _add_rows(model, 27)
    many = _changelist_queries(admin_client, model)

    # then
    assert model.objects.count() >= 30
    assert many == few


@pytest.mark.parametrize("model", [BillableMetric, Product, RateCard])
def test_archive_action_archives_and_delete_is_not_offered(admin_client, model):
    # given
    _add_rows(model, 2)
    rows = list(model.objects.all())
    url = reverse(f"admin:packages_app_{model._meta.model_name}_changelist")

    # when
    response = admin_client.post(
        url, {"action": "archive_selected", "_selected_action": [str(rows[0].pk)]}, follow=True
    )

    # then
    assert response.status_code == 200
    assert model.objects.get(pk=rows[0].pk).archived_at is not None
    assert model.objects.get(pk=rows[1].pk).archived_at is None
    assert b"delete_selected" not in admin_client.get(url).content
    delete_url = reverse(f"admin:packages_app_{model._meta.model_name}_delete", args=[rows[1].pk])
    assert admin_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=rows[1].pk).exists()


def test_changelist_filters_by_archived_and_type(admin_client):
    BillableMetric.objects.create(name="m", aggregation_type="COUNT")
    Product.objects.create(name="kept fixed", type="FIXED")
    Product.objects.create(name="gone fixed", type="FIXED", archived_at=JAN)
    Product.objects.create(name="kept service", type="PROFESSIONAL_SERVICE")
    url = reverse("admin:packages_app_product_changelist")

    content = admin_client.get(url, {"archived": "no", "type__exact": "FIXED"}).content.decode()

    assert "kept fixed" in content
    assert "gone fixed" not in content and "kept service" not in content


def test_rate_card_change_page_shows_rates_and_alias_schedule(admin_client):
    card = RateCard.objects.create(name="Standard")
    product = Product.objects.create(name="Seats", type="FIXED")
    Rate.objects.create(rate_card=card, product=product, starting_at=JAN, rate_type="FLAT", price=7)
    alias_assign(
        kind=AliasName.Kind.RATE_CARD, name="standard-alias", rate_card=card, starting_at=JAN
    )

    response = admin_client.get(reverse("admin:packages_app_ratecard_change", args=[card.pk]))

    content = response.content.decode()
    assert response.status_code == 200
    assert "standard-alias" in content and "alias schedule" in content.lower()
    assert 'name="rates-0-price"' in content
    assert 'name="alias_assignments-0-starting_at"' not in content  # read-only


def _rate_card_change_page_queries(client, card: RateCard) -> tuple[int, str]:
    url = reverse("admin:packages_app_ratecard_change", args=[card.pk])
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_rate_card_change_page_costs_the_same_queries_for_1_and_20_rates(admin_client):
    # given: one card with a rate, one with 20 rates over 20 products and 2 credit types
    tokens = CreditType.objects.create(name="tokens")
    small, big = RateCard.objects.create(name="small"), RateCard.objects.create(name="big")
    for index in range(20):
        product = Product.objects.create(name=f"product {index}", type="FIXED")
        for card in (big, small) if index == 0 else (big,):
            Rate.objects.create(
                rate_card=card,
                product=product,
                starting_at=JAN,
                rate_type="FLAT",
                price=index,
                credit_type=tokens if index % 2 else CreditType.objects.get(pk=USD_CENTS_ID),
            )

    # when
    _rate_card_change_page_queries(admin_client, small)  # warms per-process caches (content types)
    few, _ = _rate_card_change_page_queries(admin_client, small)
    many, content = _rate_card_change_page_queries(admin_client, big)

    # then: the same count; references shown, not editable; no blank row to add a rate
    assert many == few
    assert "product 19 (FIXED)" in content and "tokens" in content
    assert 'name="rates-0-product"' not in content
    assert 'name="rates-0-price"' in content
    assert 'name="rates-__prefix__-price"' not in content


def test_default_credit_type_cannot_be_deleted(admin_client):
    url = reverse("admin:packages_app_credittype_delete", args=[USD_CENTS_ID])
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert CreditType.objects.filter(pk=USD_CENTS_ID).exists()


def test_product_name_is_set_at_add_and_changed_through_the_api_only(admin_client):
    # The name has a dated history in `details` (products/update); an admin edit would bypass it.
    product = Product.objects.create(name="Seats", type="FIXED")
    add = admin_client.get(reverse("admin:packages_app_product_add")).content.decode()
    change = admin_client.get(
        reverse("admin:packages_app_product_change", args=[product.pk])
    ).content.decode()
    assert 'name="name"' in add
    assert 'name="name"' not in change and "Seats" in change
