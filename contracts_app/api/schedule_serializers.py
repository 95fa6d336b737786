"""Input serializers for Solvimon-style pricing-plan subscriptions and schedules (seed 004).

Fields we cannot act on yet (entitlements, discounts, coupons, ...) are checked by type here,
then stored and echoed unchanged (DESIGN.md §6). Unknown keys are refused with a 400 naming
them rather than silently dropped. Primitive fields are strict: a string is not a number, a
number is not a boolean, and nested instants are normalised to RFC 3339 `Z` strings so the
stored JSON holds exactly what is echoed.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.serializers import StrictSerializer
from config.core.instants import format_instant

# Solvimon's AmountCurrency / PricingPlanSchedulePricingCurrency enum (ISO 4217 as published).
_CURRENCY_CODES = (
    "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP "
    "BYN BZD CAD CDF CHF CLF CLP CNY COP CRC CUC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD "
    "FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY "
    "KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRO "
    "MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR "
    "RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND "
    "TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UZS VEF VES VND VUV WST XAF XAG XAU XBA XBB XBC "
    "XBD XCD XDR XOF XPD XPF XPT XSU XTS XUA XXX YER ZAR ZMW ZWL"
)
CURRENCIES = tuple(_CURRENCY_CODES.split())

SCHEDULE_TYPES = ("TRIAL", "DEFAULT")
SELECTOR_TYPES = ("LATEST", "VERSION")
PERIOD_TYPES = ("DAY", "WEEK", "MONTH", "YEAR")


# --- strict primitives -------------------------------------------------------------------------


class StrictStringField(serializers.CharField):
    """A JSON string, never a number or boolean coerced to one."""

    default_error_messages = {"invalid": "Must be a string."}

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class _JsonTypeField(serializers.Field):
    """A JSON value of one type (`json_type`), taken and answered as it is, never converted."""

    json_type: type

    def to_internal_value(self, data):
        if not isinstance(data, self.json_type):
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


@extend_schema_field(OpenApiTypes.BOOL)
class StrictBooleanField(_JsonTypeField):
    json_type = bool
    default_error_messages = {"invalid": "Must be true or false."}


@extend_schema_field(OpenApiTypes.INT)
class StrictIntegerField(_JsonTypeField):
    default_error_messages = {"invalid": "Must be an integer."}

    def __init__(self, *, min_value: int | None = None, **kwargs):
        self.min_value = min_value
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        if isinstance(data, Decimal) and data == data.to_integral_value():
            data = int(data)
        if not isinstance(data, int):
            self.fail("invalid")
        if self.min_value is not None and data < self.min_value:
            raise serializers.ValidationError(f"Must be at least {self.min_value}.")
        return data


class DecimalStringField(StrictStringField):
    """Solvimon sends quantities as strings ("12.50"); the text must be a finite decimal."""

    def __init__(self, **kwargs):
        kwargs.setdefault("allow_blank", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        text = super().to_internal_value(data)
        try:
            if not Decimal(text).is_finite():
                raise InvalidOperation
        except InvalidOperation:
            raise serializers.ValidationError("Must be a decimal number as a string.") from None
        return text


class InstantStringField(serializers.DateTimeField):
    """An instant inside a stored object: validated as a datetime, kept as RFC 3339 `Z` text."""

    def to_internal_value(self, value):
        if not isinstance(value, str):
            self.fail("invalid", format="RFC 3339")
        return format_instant(super().to_internal_value(value))


@extend_schema_field(OpenApiTypes.OBJECT)
class ObjectField(_JsonTypeField):
    """A JSON object kept as sent (for deep Solvimon types we only store and echo)."""

    json_type = dict
    default_error_messages = {"invalid": "Must be an object."}


def optional(field_class, **kwargs) -> serializers.Field:
    """Absent or null is fine (kwargs, not attributes: DRF re-instantiates fields per serializer)."""
    return field_class(required=False, allow_null=True, **kwargs)


def _string(**kwargs) -> serializers.Field:
    return optional(StrictStringField, **kwargs)


def _strings() -> serializers.Field:
    return serializers.ListField(child=StrictStringField(), required=False, allow_null=True)


def _instant() -> serializers.Field:
    return optional(InstantStringField)


def _decimal() -> serializers.Field:
    return optional(DecimalStringField)


def _boolean() -> serializers.Field:
    return optional(StrictBooleanField)


def _integer(**kwargs) -> serializers.Field:
    return optional(StrictIntegerField, **kwargs)


def _choice(choices) -> serializers.Field:
    return serializers.ChoiceField(choices=choices, required=False, allow_null=True)


def _many(serializer_class) -> serializers.Field:
    return serializers.ListField(
        child=serializer_class(), required=False, allow_null=True, allow_empty=True
    )


# --- Solvimon schedule types ----------------------------------------------------------------------


class PeriodInput(StrictSerializer):
    type = serializers.ChoiceField(choices=PERIOD_TYPES)
    value = _integer(min_value=1)


class AmountInput(StrictSerializer):
    quantity = DecimalStringField()
    currency = serializers.ChoiceField(choices=CURRENCIES)


class PromotionCodeDetailsInput(StrictSerializer):
    promotion_code_id = _string()
    code = _string()


class EntitlementInput(StrictSerializer):
    feature_id = _string()
    feature = optional(ObjectField)
    feature_reference = _string()
    override = _boolean()
    overwrite = _boolean()
    number = _decimal()
    switch = _boolean()
    amount = optional(AmountInput)
    enum = _string()
    string = _string()


class DiscountEntryInput(StrictSerializer):
    """TotalDiscount: the common part of every discount level."""

    start_at = _instant()
    end_at = _instant()
    amount = optional(AmountInput)
    percentage = _decimal()
    condition = optional(ObjectField)
    coupon_id = _string()
    promotion_code_details = optional(PromotionCodeDetailsInput)


class IdsDiscountEntryInput(DiscountEntryInput):
    ids = serializers.ListField(child=StrictStringField())


class PricingLevelDiscountInput(IdsDiscountEntryInput):
    """Pricing, pricing item and pricing item config discounts carry no coupon fields."""

    coupon_id = None
    promotion_code_details = None


class DiscountInput(StrictSerializer):
    pricing_item_configs = _many(PricingLevelDiscountInput)
    pricing_items = _many(PricingLevelDiscountInput)
    pricings = _many(PricingLevelDiscountInput)
    totals = _many(DiscountEntryInput)
    products = _many(IdsDiscountEntryInput)
    product_items = _many(IdsDiscountEntryInput)
    product_categories = _many(IdsDiscountEntryInput)


class MarkupEntryInput(StrictSerializer):
    ids = serializers.ListField(child=StrictStringField())
    start_at = _instant()
    end_at = _instant()
    amount = optional(AmountInput)
    percentage = _decimal()


class MarkupInput(StrictSerializer):
    pricing_item_configs = _many(MarkupEntryInput)


class MeterValueCalculationCommitmentInput(StrictSerializer):
    number = _decimal()
    amount = optional(AmountInput)


class InvoiceCommitmentInput(StrictSerializer):
    start_at = _instant()
    end_at = _instant()
    amount = optional(AmountInput)


class IdsCommitmentInput(InvoiceCommitmentInput):
    ids = serializers.ListField(child=StrictStringField())


class PricingItemConfigCommitmentInput(IdsCommitmentInput):
    meter_value_calculation = optional(MeterValueCalculationCommitmentInput)


class CommitmentInput(StrictSerializer):
    pricing_item_configs = _many(PricingItemConfigCommitmentInput)
    pricing_items = _many(IdsCommitmentInput)
    pricings = _many(IdsCommitmentInput)
    totals = _many(InvoiceCommitmentInput)


class AppliedCouponInput(StrictSerializer):
    id = StrictStringField(allow_blank=False)
    coupon_name = _string()
    promotion_code_resource_id = _string()
    promotion_code = _string()
    discount = optional(DiscountInput)


# A number (or amount) for one pricing item config, from `start_at`: what seat values and
# included volumes have in common. (A comment, not a docstring: the subclasses, which have
# none, would show it as their description in the OpenAPI schema.)
class PricingItemValueInput(StrictSerializer):
    pricing_item_config_id = StrictStringField(allow_blank=False)
    number = _decimal()
    amount = optional(AmountInput)
    start_at = _instant()


class ConfiguredMeterValueInput(PricingItemValueInput):
    set_start_at_to_now = _boolean()
    end_at = _instant()


class IncludedVolumeInput(PricingItemValueInput):
    end_at = _instant()
    reset_type = _string()


class EnabledPricingInput(StrictSerializer):
    pricing_id = StrictStringField(allow_blank=False)
    start_at = _instant()
    end_at = _instant()


class KeptWholeInput(serializers.Serializer):
    """An object typed at its top level and kept whole: the fields check the top, the
    validated value is the object as given (its deeper levels are not modelled)."""

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            raise serializers.ValidationError("Must be an object.")
        super().to_internal_value(data)
        return data


class PricingInput(KeptWholeInput):
    """A Pricing is a deep tree: its top-level scalars are typed, the whole object is kept."""

    id = _string()
    name = _string()
    override = _choice(("ALL", "SPECIFIC"))
    product_type = _choice(("DEFAULT", "ADDON"))
    product_ids = _strings()
    display_order = _integer()


class PricingCategoryInput(KeptWholeInput):
    """Ad-hoc pricing on the schedule: typed at the top, stored whole."""

    product_category_id = _string()
    pricings = _many(PricingInput)
    display_order = _integer()


class VersionSelectorInput(StrictSerializer):
    pricing_plan_id = _string()
    pricing_plan_reference = _string()
    type = _choice(SELECTOR_TYPES)
    version = _integer(min_value=1)

    def validate(self, attrs):
        if not attrs.get("pricing_plan_id") and not attrs.get("pricing_plan_reference"):
            raise serializers.ValidationError(
                {"pricing_plan_reference": ["Give pricing_plan_id or pricing_plan_reference."]}
            )
        if (attrs.get("type") or "LATEST") == "VERSION" and attrs.get("version") is None:
            raise serializers.ValidationError({"version": ["Required when type is VERSION."]})
        return attrs


# Every schedule field we store and echo without acting on it (yet).
SCHEDULE_EXTRA_FIELDS = (
    "pricing_currency",
    "billing_period",
    "entitlements",
    "discount",
    "markup",
    "commitment",
    "promotion_codes",
    "coupon_ids",
    "coupon_discount",
    "coupons",
    "seats_values",
    "included_volumes",
    "enabled_pricings",
    "override_pricings",
    "pricing_categories",
    "combined_pricing_plan_version",
    "realign_invoice_date_to_pricing_plan_schedule_start_at",
)


class ScheduleTermsInput(StrictSerializer):
    """The per-customer terms of one schedule (shared by create and migrate)."""

    # Read-only on Solvimon's side; a client echoing a schedule back may send them.
    ignored_fields = ("object_type", "id", "created_at")

    pricing_plan_id = _string()
    pricing_plan_version_id = _string()
    pricing_plan_version_selector = optional(VersionSelectorInput)
    start_at = serializers.DateTimeField()
    end_at = optional(serializers.DateTimeField)

    pricing_currency = _choice(CURRENCIES)
    billing_period = optional(PeriodInput)
    entitlements = _many(EntitlementInput)
    discount = optional(DiscountInput)
    markup = optional(MarkupInput)
    commitment = optional(CommitmentInput)
    promotion_codes = _strings()
    coupon_ids = _strings()
    coupon_discount = optional(DiscountInput)
    coupons = _many(AppliedCouponInput)
    seats_values = _many(ConfiguredMeterValueInput)
    included_volumes = _many(IncludedVolumeInput)
    enabled_pricings = _many(EnabledPricingInput)
    override_pricings = _many(PricingInput)
    pricing_categories = _many(PricingCategoryInput)
    combined_pricing_plan_version = optional(ObjectField)
    realign_invoice_date_to_pricing_plan_schedule_start_at = _boolean()

    def validate(self, attrs):
        end_at: dt.datetime | None = attrs.get("end_at")
        if end_at is not None and end_at <= attrs["start_at"]:
            raise serializers.ValidationError({"end_at": ["Must be after start_at."]})
        return attrs


class ScheduleCreateInput(ScheduleTermsInput):
    pricing_plan_subscription_id = serializers.UUIDField()
    type = _choice(SCHEDULE_TYPES)


class ScheduleMigrateInput(ScheduleTermsInput):
    """`start_at` is where the new version starts and the original schedule ends."""

    ignored_fields = ("object_type", "id", "created_at", "pricing_plan_subscription_id")


class SubscriptionCreateInput(StrictSerializer):
    customer_id = serializers.UUIDField()
    reference = _string()
    name = _string()
    description = _string()
    billing_period = optional(PeriodInput)
    billing_currency = _choice(CURRENCIES)
    custom_fields = serializers.ListField(child=ObjectField(), required=False, allow_null=True)


SUBSCRIPTION_DETAIL_FIELDS = (
    "reference",
    "name",
    "description",
    "billing_period",
    "billing_currency",
    "custom_fields",
)


class ScheduleFlagsInput(serializers.Serializer):
    """Query flags of the create call (booleans as `true`/`false` in the query string)."""

    set_previous_end_at = serializers.BooleanField(required=False, default=False)
    set_next_start_at = serializers.BooleanField(required=False, default=False)

    def validate(self, attrs):
        if attrs["set_previous_end_at"] and attrs["set_next_start_at"]:
            raise serializers.ValidationError(
                {"set_next_start_at": ["set_previous_end_at and set_next_start_at are exclusive."]}
            )
        return attrs
