"""`/v1/contract-pricing/rate-cards/...`: rate cards, their rates and their aliases."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from django.utils import timezone
from rest_framework import serializers
from rest_framework.response import Response

from config.api.schema import ID_DATA, PAGE_PARAMETERS, data_of, page_of
from config.api.views_base import (
    ServicePostApi,
    data_answer,
    page_body,
    query_page,
)
from config.core.instants import format_instant
from config.core.pagination import parse_limit
from packages_app.api.package_serializers import (
    AliasInput,
    Flag,
    Number,
    Text,
    choice,
    string_list,
    string_map,
)
from packages_app.api.response_serializers import (
    RateCardOutput,
    RateOutput,
    RateScheduleItemOutput,
)
from packages_app.models import Rate, RateCard
from packages_app.selectors.catalog import (
    credit_type_names,
    product_state_at,
    rate_card_get,
    rate_card_list,
)
from packages_app.selectors.rate_schedule import rate_schedule, rate_schedule_page
from packages_app.services.rate_cards import (
    rate_add,
    rate_card_archive,
    rate_card_create,
    rate_card_update,
    rates_add,
)

RATE_TYPES = tuple(Rate.RateType.values)
BILLING_FREQUENCIES = ("MONTHLY", "QUARTERLY", "ANNUAL", "WEEKLY")
ARCHIVE_FILTERS = ("ARCHIVED", "NOT_ARCHIVED", "ALL")
ADD_RATES_MAX = 1000


class UuidText(Text):
    """A JSON string holding a UUID, answered in its canonical form."""

    default_error_messages = {"invalid_uuid": "Must be a valid UUID."}

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        try:
            return str(uuid.UUID(text))
        except ValueError:
            self.fail("invalid_uuid")


class CreditTypeConversionInput(serializers.Serializer):
    custom_credit_type_id = Text()
    fiat_per_custom_credit = Number()


class RateCardCreateInput(serializers.Serializer):
    name = Text(max_length=400)
    description = Text(required=False, allow_blank=True)
    fiat_credit_type_id = Text(required=False)
    credit_type_conversions = CreditTypeConversionInput(many=True, required=False)
    custom_fields = string_map(required=False)
    aliases = AliasInput(many=True, required=False)


class RateCardUpdateInput(serializers.Serializer):
    rate_card_id = Text()
    name = Text(max_length=400, required=False)
    description = Text(required=False, allow_blank=True)
    add_credit_type_conversions = CreditTypeConversionInput(many=True, required=False)
    aliases = AliasInput(many=True, required=False)


class IdInput(serializers.Serializer):
    id = Text()


class RateCardListInput(serializers.Serializer):
    # Not in Metronome's schema (the SDK's `body` is free-form); accepted for symmetry with products.
    archive_filter = choice(*ARCHIVE_FILTERS, default="NOT_ARCHIVED")


class TierInput(serializers.Serializer):
    price = Number()
    size = Number(required=False)


class CommitRateInput(serializers.Serializer):
    rate_type = choice(*RATE_TYPES)
    price = Number(required=False)
    tiers = TierInput(many=True, required=False)


class RateInput(serializers.Serializer):
    entitled = Flag()
    product_id = Text()
    rate_type = choice(*RATE_TYPES)
    starting_at = serializers.DateTimeField()
    ending_before = serializers.DateTimeField(required=False)
    billing_frequency = choice(*BILLING_FREQUENCIES, required=False)
    commit_rate = CommitRateInput(required=False)
    credit_type_id = Text(required=False)
    custom_rate = serializers.DictField(required=False)
    is_prorated = Flag(required=False)
    # The column's precision: more digits would be rounded silently by the database.
    price = Number(max_whole_digits=20, max_decimal_places=20, required=False)
    pricing_group_values = string_map(required=False)
    quantity = Number(required=False)
    tiers = TierInput(many=True, required=False)


class RateAddInput(RateInput):
    rate_card_id = Text()


class RatesAddInput(serializers.Serializer):
    rate_card_id = Text()
    rates = RateInput(many=True, allow_empty=False, max_length=ADD_RATES_MAX)


class SelectorInput(serializers.Serializer):
    billing_frequency = choice(*BILLING_FREQUENCIES, required=False)
    partial_pricing_group_values = string_map(required=False)
    pricing_group_values = string_map(required=False)
    product_id = UuidText(required=False)
    product_tags = string_list(required=False)


class RatesGetInput(serializers.Serializer):
    rate_card_id = Text()
    at = serializers.DateTimeField()
    selectors = SelectorInput(many=True, required=False)


class RateScheduleInput(serializers.Serializer):
    rate_card_id = Text()
    starting_at = serializers.DateTimeField()
    ending_before = serializers.DateTimeField(required=False)
    selectors = SelectorInput(many=True, required=False)


# Output ---------------------------------------------------------------------------------------


def exact(value: Decimal | None) -> Decimal | None:
    """The stored decimal without the column's trailing zeros (0.00000123400000 → 0.000001234)."""
    if value is None:
        return None
    # By hand: normalize() and quantize() would round to the context's 28 digits.
    sign, digits, exponent = value.as_tuple()
    if not any(digits):
        return Decimal(0)
    while exponent < 0 and len(digits) > 1 and digits[-1] == 0:
        digits, exponent = digits[:-1], exponent + 1
    return Decimal((sign, digits, exponent))


def rate_card_data(rate_card: RateCard, names: dict[str, str]) -> dict[str, Any]:
    """`names`: custom credit type names from `credit_type_names` (one query per page)."""
    data = {
        "id": str(rate_card.id),
        "name": rate_card.name,
        "description": rate_card.description,
        "created_at": format_instant(rate_card.created_at),
        "created_by": rate_card.created_by,
        "fiat_credit_type": {
            "id": str(rate_card.fiat_credit_type_id),
            "name": rate_card.fiat_credit_type.name,
        },
        "credit_type_conversions": [
            {
                "custom_credit_type": {
                    "id": conversion["custom_credit_type_id"],
                    "name": names.get(conversion["custom_credit_type_id"], ""),
                },
                # A string on Metronome's wire, unlike every other amount.
                "fiat_per_custom_credit": str(conversion["fiat_per_custom_credit"]),
            }
            for conversion in rate_card.details.get("credit_type_conversions", [])
        ],
        "aliases": [
            {
                "name": assignment.alias_name.name,
                "starting_at": format_instant(assignment.starting_at),
                **(
                    {"ending_before": format_instant(assignment.ending_before)}
                    if assignment.ending_before
                    else {}
                ),
            }
            for assignment in rate_card.aliases_in_force
        ],
        "custom_fields": rate_card.details.get("custom_fields", {}),
    }
    if rate_card.archived_at is not None:
        data["archived_at"] = format_instant(rate_card.archived_at)
    return data


def rate_data(rate: Rate) -> dict[str, Any]:
    """The shared `Rate` object: what is charged, without product or dates."""
    details = rate.details
    data: dict[str, Any] = {"rate_type": rate.rate_type}
    if rate.rate_type not in (Rate.RateType.PERCENTAGE, Rate.RateType.TIERED_PERCENTAGE):
        # Percentage rates take the credit type of the rates they apply to.
        data["credit_type"] = {"id": str(rate.credit_type_id), "name": rate.credit_type.name}
    if rate.price is not None:
        data["price"] = exact(rate.price)
    if rate.pricing_group_values:
        data["pricing_group_values"] = rate.pricing_group_values
    for key in ("tiers", "quantity", "is_prorated", "custom_rate", "commit_rate"):
        if key in details:
            data[key] = details[key]
    return data


def rate_schedule_item(rate: Rate, *, at) -> dict[str, Any]:
    product_state = product_state_at(rate.product, at)
    data = {
        "entitled": rate.entitled,
        "product_id": str(rate.product_id),
        "product_name": product_state["name"],
        "product_tags": product_state.get("tags") or [],
        "product_custom_fields": rate.product.details.get("custom_fields", {}),
        "rate": rate_data(rate),
        "starting_at": format_instant(rate.starting_at),
    }
    if rate.ending_before is not None:
        data["ending_before"] = format_instant(rate.ending_before)
    if rate.pricing_group_values:
        data["pricing_group_values"] = rate.pricing_group_values
    if "billing_frequency" in rate.details:
        data["billing_frequency"] = rate.details["billing_frequency"]
    if "commit_rate" in rate.details:
        data["commit_rate"] = rate.details["commit_rate"]
    return data


def _segment_page(request, segments: list[Rate]):
    limit = parse_limit(request.query_params.get("limit"))
    return rate_schedule_page(segments, limit=limit, cursor=request.query_params.get("next_page"))


# Views ----------------------------------------------------------------------------------------


class RateCardCreateApi(ServicePostApi):
    required_permission = "packages_app.add_ratecard"
    operation_id, input, responses = "rate_cards_create", RateCardCreateInput, ID_DATA

    def perform(self, data):
        return rate_card_create(created_by=self.request.user.get_username(), **data)


class RateCardGetApi(ServicePostApi):
    required_permission = "packages_app.view_ratecard"
    operation_id, input, responses = "rate_cards_get", IdInput, data_of(RateCardOutput)

    def perform(self, data):
        return rate_card_get(rate_card_id=data["id"])

    def answer(self, rate_card):
        return data_answer(rate_card_data(rate_card, credit_type_names([rate_card])))


class RateCardListApi(ServicePostApi):
    # The SDK sends no body at all unless the caller passes one.
    required_permission = "packages_app.view_ratecard"
    operation_id, input, responses = "rate_cards_list", RateCardListInput, page_of(RateCardOutput)
    parameters = PAGE_PARAMETERS

    def perform(self, data):
        return query_page(self.request, rate_card_list(archive_filter=data["archive_filter"]))

    def answer(self, page):
        names = credit_type_names(page.items)
        return Response(page_body(page, [rate_card_data(card, names) for card in page.items]))


class RateCardUpdateApi(ServicePostApi):
    required_permission = "packages_app.change_ratecard"
    operation_id, input, responses = "rate_cards_update", RateCardUpdateInput, ID_DATA

    def perform(self, data):
        return rate_card_update(**data)


class RateCardArchiveApi(ServicePostApi):
    required_permission = "packages_app.change_ratecard"
    operation_id, input, responses = "rate_cards_archive", IdInput, ID_DATA

    def perform(self, data):
        return rate_card_archive(rate_card_id=data["id"])


class RateAddApi(ServicePostApi):
    required_permission = "packages_app.add_rate"
    operation_id, input, responses = "rate_cards_add_rate", RateAddInput, data_of(RateOutput)

    def perform(self, data):
        return rate_add(rate_card_id=data.pop("rate_card_id"), rate=data)

    def answer(self, rate):
        return data_answer(rate_data(rate))


class RatesAddApi(ServicePostApi):
    required_permission = "packages_app.add_rate"
    operation_id, input, responses = "rate_cards_add_rates", RatesAddInput, ID_DATA

    def perform(self, data):
        rates_add(rate_card_id=data["rate_card_id"], rates=data["rates"])
        return data["rate_card_id"]

    def answer(self, rate_card_id):
        return data_answer({"id": rate_card_id})


class _RateScheduleApi(ServicePostApi):
    # getRates and getRateSchedule: one page of the schedule of the body's rate card in force
    # at `at` or over `starting_at` / `ending_before` (`window`), each segment with its
    # product as of `at`, or of now.
    required_permission = "packages_app.view_ratecard"
    responses, parameters = page_of(RateScheduleItemOutput), PAGE_PARAMETERS

    def window(self, data: dict) -> dict[str, Any]:
        raise NotImplementedError

    def perform(self, data):
        rate_card = rate_card_get(rate_card_id=data["rate_card_id"], field="rate_card_id")
        window = self.window(data)
        segments = rate_schedule(rate_card=rate_card, selectors=data.get("selectors"), **window)
        return _segment_page(self.request, segments), window.get("at") or timezone.now()

    def answer(self, paged):
        page, at = paged
        return Response(page_body(page, [rate_schedule_item(rate, at=at) for rate in page.items]))


class RatesGetApi(_RateScheduleApi):
    operation_id, input = "rate_cards_get_rates", RatesGetInput

    def window(self, data):
        return {"at": data["at"]}


class RateScheduleGetApi(_RateScheduleApi):
    operation_id, input = "rate_cards_get_rate_schedule", RateScheduleInput

    def window(self, data):
        return {"starting_at": data["starting_at"], "ending_before": data.get("ending_before")}
