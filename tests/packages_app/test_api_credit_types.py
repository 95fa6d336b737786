"""Pricing units (`client.v1.pricing_units`): archived, never deleted, and no longer usable."""

from __future__ import annotations

import datetime as dt

import metronome
import pytest
from django.urls import reverse

from packages_app.models import USD_CENTS_ID, CreditType, Rate
from tests.builders.catalog import ensure_usd_cents, make_catalog, offset
from tests.factories import UserFactory

JAN = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def _listed(sdk, **options) -> set[str]:
    return {unit.id for unit in sdk.v1.pricing_units.list(**options)}


def test_archive_hides_the_unit_from_the_list_and_is_idempotent(sdk):
    # given
    ensure_usd_cents()
    kept = sdk.v1.pricing_units.create(name="credits").data.id
    gone = sdk.v1.pricing_units.create(name="tokens").data.id

    # when
    archived = sdk.v1.pricing_units.archive(id=gone.upper())
    again = sdk.v1.pricing_units.archive(id=gone)

    # then
    assert archived.data.id == again.data.id == gone
    first_archived_at = CreditType.objects.get(pk=gone).archived_at
    assert first_archived_at is not None
    assert _listed(sdk) == {kept, str(USD_CENTS_ID)}
    assert _listed(sdk, extra_query={"include_archived": "true"}) == {
        kept,
        gone,
        str(USD_CENTS_ID),
    }
    sdk.v1.pricing_units.archive(id=gone)
    assert CreditType.objects.get(pk=gone).archived_at == first_archived_at


def test_archive_of_unknown_or_fiat_units_is_refused(sdk):
    ensure_usd_cents()
    with pytest.raises(metronome.NotFoundError) as missing:
        sdk.v1.pricing_units.archive(id="c5e2b7a0-0000-4000-8000-000000000000")
    assert missing.value.body["field"] == "id"
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.pricing_units.archive(id="not-a-uuid")
    with pytest.raises(metronome.BadRequestError) as fiat:
        sdk.v1.pricing_units.archive(id=str(USD_CENTS_ID))
    assert fiat.value.body["field"] == "id"
    assert CreditType.objects.get(pk=USD_CENTS_ID).archived_at is None


def test_archive_needs_the_change_permission(sdk_for):
    ensure_usd_cents()
    unit = CreditType.objects.create(name="credits")
    viewer = sdk_for("packages_app.view_credittype")
    with pytest.raises(metronome.PermissionDeniedError):
        viewer.v1.pricing_units.archive(id=str(unit.id))
    sdk_for("packages_app.change_credittype").v1.pricing_units.archive(id=str(unit.id))
    assert CreditType.objects.get(pk=unit.pk).archived_at is not None


def test_archived_unit_takes_no_new_rates_conversions_or_package_terms(sdk):
    # given: a card that converts tokens, then tokens archived
    catalog = make_catalog()
    tokens = str(catalog.tokens.id)
    cards = sdk.v1.contracts.rate_cards
    cards.update(
        rate_card_id=str(catalog.rate_card.id),
        add_credit_type_conversions=[
            {"custom_credit_type_id": tokens, "fiat_per_custom_credit": 2}
        ],
    )
    sdk.v1.pricing_units.archive(id=tokens)
    rate = {
        "rate_card_id": str(catalog.rate_card.id),
        "product_id": str(catalog.usage_product.id),
        "entitled": True,
        "rate_type": "FLAT",
        "price": 5,
        "starting_at": JAN,
        "credit_type_id": tokens,
    }

    # when / then: a rate in it
    with pytest.raises(metronome.BadRequestError) as caught:
        cards.rates.add(**rate)
    assert caught.value.body["field"] == "credit_type_id"
    assert not Rate.objects.exists()

    # when / then: a conversion for it on a new card
    with pytest.raises(metronome.BadRequestError) as caught:
        cards.create(
            name="other",
            credit_type_conversions=[
                {"custom_credit_type_id": tokens, "fiat_per_custom_credit": 1}
            ],
        )
    assert caught.value.body["field"] == "credit_type_conversions[0].custom_credit_type_id"

    # when / then: a package term in it
    credit = {
        "product_id": str(catalog.commit_product.id),
        "access_schedule": {
            "credit_type_id": tokens,
            "schedule_items": [
                {"amount": 10, "starting_at_offset": offset(), "duration": offset("MONTHS", 1)}
            ],
        },
    }
    with pytest.raises(metronome.BadRequestError) as caught:
        sdk.v1.packages.create(name="P", credits=[credit])
    assert caught.value.body["field"] == "credits[0].access_schedule.credit_type_id"


def test_package_keeps_showing_an_archived_units_name(sdk):
    # given
    catalog = make_catalog()
    credit = {
        "product_id": str(catalog.commit_product.id),
        "access_schedule": {
            "credit_type_id": str(catalog.tokens.id),
            "schedule_items": [
                {"amount": 10, "starting_at_offset": offset(), "duration": offset("MONTHS", 1)}
            ],
        },
    }
    package_id = sdk.v1.packages.create(name="P", credits=[credit]).data.id

    # when
    sdk.v1.pricing_units.archive(id=str(catalog.tokens.id))

    # then
    package = sdk.v1.packages.retrieve(package_id=package_id).data
    assert package.credits[0].access_schedule.credit_type.name == "Tokens"


@pytest.mark.django_db
def test_admin_archives_credit_types_and_never_deletes_them(client):
    # given
    client.force_login(UserFactory(is_superuser=True, is_staff=True))
    usd = ensure_usd_cents()
    tokens = CreditType.objects.create(name="tokens")
    changelist = reverse("admin:packages_app_credittype_changelist")

    # when: the archive action on both (the fiat unit is skipped)
    response = client.post(
        changelist,
        {"action": "archive_selected", "_selected_action": [str(tokens.pk), str(usd.pk)]},
        follow=True,
    )

    # then
    assert response.status_code == 200
    assert CreditType.objects.get(pk=tokens.pk).archived_at is not None
    assert CreditType.objects.get(pk=usd.pk).archived_at is None
    assert b"delete_selected" not in client.get(changelist).content
    for unit in (tokens, usd):
        delete_url = reverse("admin:packages_app_credittype_delete", args=[unit.pk])
        assert client.post(delete_url, {"post": "yes"}).status_code == 403
    assert CreditType.objects.filter(pk__in=[tokens.pk, usd.pk]).count() == 2
