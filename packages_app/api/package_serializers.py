"""Wire shapes of `v1/packages/*` (metronome-sdk 4.12.0): input serializers and the output mapping.

Input: one serializer per SDK TypedDict, fields listed literally. They check shape only (types,
exact enums, required nested keys, ranges); rules that span fields or need the database live in
services/packages.py. Unknown keys are refused rather than dropped, because every field sent must
come back.

Output: `Output.wire` turns a package (request form in `PackageTerm.body`) into the SDK's
Package object (§2.4 of reference/metronome-api.md): `product_id` → `product {id, name}`,
`credit_type_id` → `credit_type {id, name}`, override `tiers` → `override_tiers`, commit ids in
override specifiers → `*_template_ids`, `temporary_id` dropped. Packages are immutable, so this
runs once, at create, and the result is stored in `Package.wire` (services/packages.py); reads
send that stored JSON as it is (selectors/packages.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.serializers import StrictSerializer
from config.core.money import exact_context
from packages_app.models import USD_CENTS_ID, Package, PackageTerm
from packages_app.time_offsets import UNITS

# --- strict scalar fields -------------------------------------------------------------------


class Text(serializers.CharField):
    """A JSON string, nothing else (DRF's CharField would turn 5 into "5")."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class Integer(serializers.IntegerField):
    default_error_messages = {"invalid": "A whole number is required."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | Decimal):
            self.fail("invalid")
        if isinstance(data, Decimal) and (not data.is_finite() or data != data.to_integral()):
            self.fail("invalid")
        return super().to_internal_value(int(data))


@extend_schema_field(OpenApiTypes.NUMBER)
class Number(serializers.Field):
    """A JSON number kept exact as Decimal (the parser never produces floats for numbers)."""

    default_error_messages = {
        "invalid": "A number is required.",
        "min_value": "Ensure this value is greater than or equal to {limit}.",
        "above_zero": "Ensure this value is greater than 0.",
        "max_value": "Ensure this value is less than or equal to {limit}.",
        "max_decimal_places": "Ensure there are no more than {limit} decimal places.",
        "max_whole_digits": "Ensure there are no more than {limit} digits before the decimal point.",
    }

    def __init__(
        self,
        *,
        min_value: Decimal | int | None = None,
        max_value: Decimal | int | None = None,
        above_zero: bool = False,
        max_decimal_places: int | None = None,
        max_whole_digits: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.min_value, self.max_value, self.above_zero = min_value, max_value, above_zero
        self.max_decimal_places = max_decimal_places
        self.max_whole_digits = max_whole_digits

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int | Decimal):
            self.fail("invalid")
        value = Decimal(data)
        if not value.is_finite():
            self.fail("invalid")
        if self.min_value is not None and value < self.min_value:
            self.fail("min_value", limit=self.min_value)
        if self.above_zero and value <= 0:
            self.fail("above_zero")
        if self.max_value is not None and value > self.max_value:
            self.fail("max_value", limit=self.max_value)
        if self.max_decimal_places is not None and -value.as_tuple().exponent > max(
            self.max_decimal_places, 0
        ):
            self.fail("max_decimal_places", limit=self.max_decimal_places)
        if self.max_whole_digits is not None and value.adjusted() >= self.max_whole_digits:
            self.fail("max_whole_digits", limit=self.max_whole_digits)
        return value

    def to_representation(self, value):
        return value


class Flag(serializers.BooleanField):
    """A JSON boolean only (DRF's BooleanField would accept "yes" or 1)."""

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


def choice(*values: str, **kwargs) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=list(values), **kwargs)


def string_map(**kwargs) -> serializers.DictField:
    return serializers.DictField(child=Text(allow_blank=True), **kwargs)


def string_list(**kwargs) -> serializers.ListField:
    return serializers.ListField(child=Text(), **kwargs)


def items(serializer: serializers.Serializer, **kwargs) -> serializers.ListSerializer:
    return serializers.ListSerializer(child=serializer, **kwargs)


RATE_TYPES = ("COMMIT_RATE", "LIST_RATE")
FREQUENCIES = ("MONTHLY", "QUARTERLY", "ANNUAL", "WEEKLY")
ROUNDING_METHODS = ("HALF_UP", "FLOOR", "CEILING")


# A century in each unit: offsets become real dates at provisioning, which must stay in range.
MAX_OFFSET = {"DAYS": 36_600, "WEEKS": 5_220, "MONTHS": 1_200, "YEARS": 100}


class _Offset(StrictSerializer):
    unit = choice(*UNITS)

    def validate(self, attrs):
        if attrs["value"] > MAX_OFFSET[attrs["unit"]]:
            raise serializers.ValidationError(
                {"value": [f"At most {MAX_OFFSET[attrs['unit']]} {attrs['unit']}."]}
            )
        return attrs


class StartOffset(_Offset):
    """A point relative to the contract start: zero or later."""

    value = Integer(min_value=0)


class Length(_Offset):
    """A duration: at least one unit long."""

    value = Integer(min_value=1)


# --- shared pieces ----------------------------------------------------------------------------


class CommitSpecifierInput(StrictSerializer):
    presentation_group_values = string_map(required=False)
    pricing_group_values = string_map(required=False)
    product_id = Text(required=False)
    product_tags = string_list(required=False)


class AccessScheduleItem(StrictSerializer):
    amount = Number()
    duration = Length()
    starting_at_offset = StartOffset()


class AccessSchedule(StrictSerializer):
    schedule_items = items(AccessScheduleItem(), allow_empty=False)
    access_type = choice("SPEND", "QUANTITY", required=False)
    credit_type_id = Text(required=False)


class DatedChargeItem(StrictSerializer):
    date_offset = StartOffset()
    quantity = Number()
    unit_price = Number()


class InvoiceSchedule(StrictSerializer):
    schedule_items = items(DatedChargeItem(), allow_empty=False)
    credit_type_id = Text(required=False)
    do_not_invoice = Flag(required=False)


class Rounding(StrictSerializer):
    decimal_places = Number()
    rounding_method = choice(*ROUNDING_METHODS)


# --- terms ------------------------------------------------------------------------------------


class _Drawdown(StrictSerializer):
    """What commits and credits share."""

    access_schedule = AccessSchedule()
    product_id = Text()
    applicable_product_ids = string_list(required=False)
    applicable_product_tags = string_list(required=False)
    custom_fields = string_map(required=False)
    description = Text(required=False, allow_blank=True)
    name = Text(required=False, allow_blank=True)
    priority = Number(required=False)
    rate_type = choice(*RATE_TYPES, required=False)
    specifiers = items(CommitSpecifierInput(), required=False)


class CommitInput(_Drawdown):
    type = choice("PREPAID", "POSTPAID")
    invoice_schedule = InvoiceSchedule(required=False)
    rollover_fraction = Number(required=False, min_value=0, max_value=1)
    temporary_id = Text(required=False)


class CreditInput(_Drawdown):
    pass


class OverrideSpecifierInput(StrictSerializer):
    any_commit_or_credit_ids = string_list(required=False)
    billing_frequency = choice(*FREQUENCIES, required=False)
    commit_ids = string_list(required=False)
    presentation_group_values = string_map(required=False)
    pricing_group_values = string_map(required=False)
    product_id = Text(required=False)
    product_tags = string_list(required=False)
    recurring_commit_ids = string_list(required=False)


class RateTier(StrictSerializer):
    price = Number()
    size = Number(required=False, min_value=0)


class OverwriteRateInput(StrictSerializer):
    rate_type = choice(
        "FLAT", "PERCENTAGE", "SUBSCRIPTION", "TIERED", "TIERED_PERCENTAGE", "CUSTOM"
    )
    credit_type_id = Text(required=False)
    custom_rate = serializers.DictField(required=False)
    is_prorated = Flag(required=False)
    price = Number(required=False)
    quantity = Number(required=False)
    tiers = items(RateTier(), required=False)


class OverrideTierInput(StrictSerializer):
    multiplier = Number(min_value=0)
    size = Number(required=False, min_value=0)


class OverrideInput(StrictSerializer):
    override_specifiers = items(OverrideSpecifierInput(), allow_empty=False)
    starting_at_offset = StartOffset()
    duration = Length(required=False)
    entitled = Flag(required=False)
    is_commit_specific = Flag(required=False)
    multiplier = Number(required=False, min_value=0)
    overwrite_rate = OverwriteRateInput(required=False)
    priority = Number(required=False, above_zero=True)
    target = choice(*RATE_TYPES, required=False)
    tiers = items(OverrideTierInput(), required=False, allow_empty=False)
    type = choice("OVERWRITE", "MULTIPLIER", "TIERED", required=False)

    def validate(self, attrs):
        kind = attrs.get("type")
        if kind == "OVERWRITE" and "overwrite_rate" not in attrs:
            raise serializers.ValidationError({"overwrite_rate": ["Required for OVERWRITE."]})
        if kind == "MULTIPLIER" and "multiplier" not in attrs:
            raise serializers.ValidationError({"multiplier": ["Required for MULTIPLIER."]})
        if kind == "TIERED" and "tiers" not in attrs:
            raise serializers.ValidationError({"tiers": ["Required for TIERED."]})
        return attrs


class AccessAmount(StrictSerializer):
    unit_price = Number()
    access_type = choice("SPEND", "QUANTITY", required=False)
    credit_type_id = Text(required=False)
    quantity = Number(required=False)


class CommitDuration(StrictSerializer):
    value = Number(above_zero=True)
    unit = choice("PERIODS", required=False)


class InvoiceAmount(StrictSerializer):
    credit_type_id = Text()
    quantity = Number()
    unit_price = Number()


class SeatIncrease(StrictSerializer):
    is_prorated = Flag()


class SubscriptionConfig(StrictSerializer):
    apply_seat_increase_config = SeatIncrease()
    subscription_id = Text()
    allocation = choice("INDIVIDUAL", "POOLED", required=False)


class AccessRounding(StrictSerializer):
    access = Rounding(required=False)


class AccessAndInvoiceRounding(AccessRounding):
    invoice = Rounding(required=False)


class _Recurring(StrictSerializer):
    access_amount = AccessAmount()
    commit_duration = CommitDuration()
    priority = Number()
    product_id = Text()
    starting_at_offset = StartOffset()
    applicable_product_ids = string_list(required=False)
    applicable_product_tags = string_list(required=False)
    description = Text(required=False, allow_blank=True)
    duration = Length(required=False)
    name = Text(required=False, allow_blank=True)
    proration = choice("NONE", "FIRST", "LAST", "FIRST_AND_LAST", required=False)
    rate_type = choice(*RATE_TYPES, required=False)
    recurrence_frequency = choice(*FREQUENCIES, "DAILY", required=False)
    rollover_fraction = Number(required=False, min_value=0, max_value=1)
    specifiers = items(CommitSpecifierInput(), required=False)
    subscription_config = SubscriptionConfig(required=False)
    temporary_id = Text(required=False)

    def validate(self, attrs):
        if "quantity" not in attrs["access_amount"] and "subscription_config" not in attrs:
            raise serializers.ValidationError(
                {"access_amount": {"quantity": ["Required unless subscription_config is set."]}}
            )
        return attrs


class RecurringCommitInput(_Recurring):
    invoice_amount = InvoiceAmount(required=False)
    proration_rounding = AccessAndInvoiceRounding(required=False)


class RecurringCreditInput(_Recurring):
    proration_rounding = AccessRounding(required=False)


class ScheduledChargeSchedule(StrictSerializer):
    schedule_items = items(DatedChargeItem(), allow_empty=False)
    credit_type_id = Text(required=False)


class ScheduledChargeInput(StrictSerializer):
    product_id = Text()
    schedule = ScheduledChargeSchedule()
    custom_fields = string_map(required=False)
    name = Text(required=False, allow_blank=True)


class SpendSpecifier(StrictSerializer):
    sources = serializers.ListField(child=choice("THRESHOLD_RECHARGE", "MANUAL"))
    spend_type = choice("COMMIT_PURCHASE")
    discounted = choice("ANY", "DISCOUNTED_ONLY", "UNDISCOUNTED_ONLY", required=False)


class SpendTrackerInput(StrictSerializer):
    alias = Text()
    applicable_spend_specifiers = items(SpendSpecifier())
    credit_type_id = Text()
    reset_frequency = choice("BILLING_PERIOD")


class SubscriptionProration(StrictSerializer):
    invoice_behavior = choice("BILL_IMMEDIATELY", "BILL_ON_NEXT_COLLECTION_DATE", required=False)
    is_prorated = Flag(required=False)
    rounding = Rounding(required=False)


class SubscriptionRate(StrictSerializer):
    billing_frequency = choice(*FREQUENCIES)
    product_id = Text()


class BillingCycleConfig(StrictSerializer):
    invoice_placement = choice("ON_SCHEDULED_INVOICE", "ON_USAGE_INVOICE", required=False)


class SeatConfig(StrictSerializer):
    seat_group_key = Text()
    initial_unassigned_seats = Number(required=False, min_value=0)


class SubscriptionInput(StrictSerializer):
    collection_schedule = choice("ADVANCE", "ARREARS")
    proration = SubscriptionProration()
    subscription_rate = SubscriptionRate()
    billing_cycle_config = BillingCycleConfig(required=False)
    custom_fields = string_map(required=False)
    description = Text(required=False, allow_blank=True)
    duration = Length(required=False)
    initial_quantity = Number(required=False, min_value=0)
    name = Text(required=False, allow_blank=True)
    quantity_management_mode = choice("SEAT_BASED", "QUANTITY_ONLY", required=False)
    seat_config = SeatConfig(required=False)
    starting_at_offset = StartOffset(required=False)
    temporary_id = Text(required=False)

    def validate(self, attrs):
        mode = attrs.get("quantity_management_mode", "QUANTITY_ONLY")
        if mode == "SEAT_BASED" and "seat_config" not in attrs:
            raise serializers.ValidationError({"seat_config": ["Required for SEAT_BASED."]})
        if mode == "QUANTITY_ONLY" and "initial_quantity" not in attrs:
            raise serializers.ValidationError(
                {"initial_quantity": ["Required for QUANTITY_ONLY (the default mode)."]}
            )
        return attrs


# --- package-level configuration --------------------------------------------------------------


class UsageStatementSchedule(StrictSerializer):
    frequency = choice(*FREQUENCIES)
    day = choice("FIRST_OF_MONTH", "CONTRACT_START", "CUSTOM_DATE", required=False)
    invoice_generation_starting_at_offset = StartOffset(required=False)


class PrecalculatedTaxConfig(StrictSerializer):
    tax_amount = Number()
    tax_name = Text(required=False, allow_blank=True)


class StripeConfig(StrictSerializer):
    payment_type = choice("INVOICE", "PAYMENT_INTENT")
    invoice_metadata = string_map(required=False)


class PaymentGateConfig(StrictSerializer):
    payment_gate_type = choice("NONE", "STRIPE", "EXTERNAL")
    precalculated_tax_config = PrecalculatedTaxConfig(required=False)
    stripe_config = StripeConfig(required=False)
    tax_type = choice("NONE", "STRIPE", "ANROK", "PRECALCULATED", required=False)


class DiscountCap(StrictSerializer):
    amount = Number()
    spend_tracker_alias = Text()


class DiscountConfiguration(StrictSerializer):
    payment_fraction = Number(min_value=0, max_value=1)
    cap = DiscountCap(required=False)


class ThresholdCommit(StrictSerializer):
    product_id = Text()
    description = Text(required=False, allow_blank=True)
    name = Text(required=False, allow_blank=True)
    priority = Number(required=False)


class PrepaidThresholdCommit(ThresholdCommit):
    applicable_product_ids = string_list(required=False)
    applicable_product_tags = string_list(required=False)
    duration = Length(required=False)
    rate_type = choice(*RATE_TYPES, required=False)
    rollover_fraction = Number(required=False, min_value=0, max_value=1)
    specifiers = items(CommitSpecifierInput(), required=False)


class SpendThresholdConfiguration(StrictSerializer):
    commit = ThresholdCommit()
    is_enabled = Flag()
    payment_gate_config = PaymentGateConfig()
    threshold_amount = Number()
    discount_configuration = DiscountConfiguration(required=False)


class CustomFieldFilter(StrictSerializer):
    entity = choice("Commit", "ContractCredit", "ContractCreditOrCommit")
    key = Text()
    value = Text(allow_blank=True)


class BalanceExclude(StrictSerializer):
    custom_field_filters = items(CustomFieldFilter())


class BalanceSpecifier(StrictSerializer):
    exclude = items(BalanceExclude())


class PrepaidBalanceThresholdConfiguration(StrictSerializer):
    commit = PrepaidThresholdCommit()
    is_enabled = Flag()
    payment_gate_config = PaymentGateConfig()
    recharge_to_amount = Number()
    threshold_amount = Number()
    custom_credit_type_id = Text(required=False)
    discount_configuration = DiscountConfiguration(required=False)
    threshold_balance_specifiers = items(BalanceSpecifier(), required=False)


class AliasInput(StrictSerializer):
    name = Text(max_length=400)
    starting_at = serializers.DateTimeField(required=False)
    ending_before = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        start, end = attrs.get("starting_at"), attrs.get("ending_before")
        if start and end and end <= start:
            raise serializers.ValidationError({"ending_before": ["Must be after starting_at."]})
        return attrs


class PackageCreateInput(StrictSerializer):
    name = Text(max_length=400)
    aliases = items(AliasInput(), required=False)
    billing_provider = choice(
        "aws_marketplace", "azure_marketplace", "gcp_marketplace", "stripe", "netsuite",
        required=False,
    )  # fmt: skip
    commits = items(CommitInput(), required=False)
    contract_name = Text(max_length=400, required=False)
    credits = items(CreditInput(), required=False)
    delivery_method = choice(
        "direct_to_billing_provider", "aws_sqs", "tackle", "aws_sns", required=False
    )
    duration = Length(required=False)
    multiplier_override_prioritization = choice("LOWEST_MULTIPLIER", "EXPLICIT", required=False)
    net_payment_terms_days = Number(
        required=False, min_value=0, max_value=Decimal("99999999"), max_decimal_places=4
    )
    overrides = items(OverrideInput(), required=False)
    prepaid_balance_threshold_configuration = PrepaidBalanceThresholdConfiguration(required=False)
    rate_card_alias = Text(max_length=400, required=False)
    rate_card_id = Text(required=False)
    recurring_commits = items(RecurringCommitInput(), required=False)
    recurring_credits = items(RecurringCreditInput(), required=False)
    scheduled_charges = items(ScheduledChargeInput(), required=False)
    scheduled_charges_on_usage_invoices = choice("ALL", required=False)
    spend_threshold_configuration = SpendThresholdConfiguration(required=False)
    spend_trackers = items(SpendTrackerInput(), required=False)
    subscriptions = items(SubscriptionInput(), required=False)
    uniqueness_key = Text(max_length=128, min_length=1, required=False)
    usage_statement_schedule = UsageStatementSchedule(required=False)


class PackageIdInput(StrictSerializer):
    package_id = Text(allow_blank=True)  # any unknown id, even "", is a 404 like Metronome's


class PackageListInput(StrictSerializer):
    archive_filter = choice("NOT_ARCHIVED", "ARCHIVED", "ALL", required=False)


# --- output -----------------------------------------------------------------------------------

# Quantity-based recurring access amounts have no pricing unit; Metronome answers the nil UUID.
NIL_CREDIT_TYPE_ID = "00000000-0000-0000-0000-000000000000"


def plain_number(value: Decimal | None) -> Decimal | int | None:
    """A DecimalField's Decimal('30.0000') back to the 30 that was sent."""
    if value is None:
        return None
    with exact_context():  # normalize() would round to the default context's 28 digits
        return int(value) if value == value.to_integral_value() else value.normalize()


class Output:
    """Maps one package's stored request form onto the SDK's response shapes.

    Names come from mappings of id (str) → name so the same code renders a package being
    created (nothing saved yet) and stored ones; an unknown id renders with an empty name.
    """

    def __init__(self, credit_type_names: Mapping[str, str], product_names: Mapping[str, str]):
        self.credit_type_names = credit_type_names
        self.product_names = product_names

    def credit_type(self, credit_type_id: str | None) -> dict:
        key = credit_type_id or str(USD_CENTS_ID)
        return {"id": key, "name": self.credit_type_names.get(key, "")}

    def product(self, term: PackageTerm) -> dict:
        key = str(term.product_id)
        return {"id": key, "name": self.product_names.get(key, "")}

    @staticmethod
    def copy(body: Mapping[str, Any], *keys: str) -> dict:
        return {key: body[key] for key in keys if key in body}

    def access_schedule(self, schedule: Mapping[str, Any]) -> dict:
        out = {
            "credit_type": self.credit_type(schedule.get("credit_type_id")),
            "schedule_items": [
                self.copy(item, "id", "amount", "duration", "starting_at_offset")
                for item in schedule["schedule_items"]
            ],
        }
        out.update(self.copy(schedule, "access_type"))
        return out

    def dated_schedule(self, schedule: Mapping[str, Any]) -> dict:
        return {
            "credit_type": self.credit_type(schedule.get("credit_type_id")),
            "schedule_items": [
                self.copy(item, "id", "date_offset", "quantity", "unit_price")
                for item in schedule["schedule_items"]
            ],
        }

    _DRAWDOWN_KEYS = (
        "applicable_product_ids",
        "applicable_product_tags",
        "custom_fields",
        "description",
        "name",
        "priority",
        "rate_type",
        "specifiers",
    )

    def commit(self, term: PackageTerm) -> dict:
        body = term.body
        out = {"id": body["id"], "product": self.product(term), "type": body["type"]}
        out["access_schedule"] = self.access_schedule(body["access_schedule"])
        if "invoice_schedule" in body:
            invoice = body["invoice_schedule"]
            out["invoice_schedule"] = {
                **self.dated_schedule(invoice),
                "do_not_invoice": invoice.get("do_not_invoice", False),
            }
        out.update(self.copy(body, *self._DRAWDOWN_KEYS, "rollover_fraction"))
        return out

    def credit(self, term: PackageTerm) -> dict:
        body = term.body
        out = {"id": body["id"], "product": self.product(term)}
        out["access_schedule"] = self.access_schedule(body["access_schedule"])
        out.update(self.copy(body, *self._DRAWDOWN_KEYS))
        return out

    _SPECIFIER_RENAMES = {
        "commit_ids": "commit_template_ids",
        "recurring_commit_ids": "recurring_commit_template_ids",
        "any_commit_or_credit_ids": "any_commit_or_credit_template_ids",
    }

    def override(self, term: PackageTerm) -> dict:
        body = term.body
        out = {
            "id": body["id"],
            "override_specifiers": [
                {self._SPECIFIER_RENAMES.get(key, key): value for key, value in spec.items()}
                for spec in body["override_specifiers"]
            ],
            "starting_at_offset": body["starting_at_offset"],
        }
        out.update(
            self.copy(
                body,
                "duration",
                "entitled",
                "is_commit_specific",
                "multiplier",
                "priority",
                "target",
                "type",
            )
        )
        if "tiers" in body:
            out["override_tiers"] = body["tiers"]
        if "overwrite_rate" in body:
            rate = dict(body["overwrite_rate"])
            if "credit_type_id" in rate:
                rate["credit_type"] = self.credit_type(rate.pop("credit_type_id"))
            out["overwrite_rate"] = rate
        return out

    def scheduled_charge(self, term: PackageTerm) -> dict:
        body = term.body
        out = {
            "id": body["id"],
            "product": self.product(term),
            "schedule": self.dated_schedule(body["schedule"]),
        }
        out.update(self.copy(body, "custom_fields", "name", "description"))
        return out

    def recurring(self, term: PackageTerm) -> dict:
        body = term.body
        amount = dict(body["access_amount"])
        if "credit_type_id" not in amount:
            quantity_based = amount.get("access_type") == "QUANTITY"
            amount["credit_type_id"] = NIL_CREDIT_TYPE_ID if quantity_based else str(USD_CENTS_ID)
        out = {
            "id": body["id"],
            "access_amount": amount,
            "commit_duration": body["commit_duration"],
            "priority": body["priority"],
            "product": self.product(term),
            "rate_type": body.get("rate_type", "COMMIT_RATE"),
            "starting_at_offset": body["starting_at_offset"],
        }
        out.update(
            self.copy(
                body,
                "applicable_product_ids",
                "applicable_product_tags",
                "description",
                "duration",
                "invoice_amount",
                "name",
                "proration",
                "proration_rounding",
                "recurrence_frequency",
                "rollover_fraction",
                "specifiers",
            )
        )
        if "subscription_config" in body:
            config = body["subscription_config"]
            out["subscription_config"] = {
                "allocation": config.get("allocation", "POOLED"),
                "apply_seat_increase_config": config["apply_seat_increase_config"],
                "subscription_template_id": config["subscription_id"],
            }
        return out

    def subscription(self, term: PackageTerm) -> dict:
        body = term.body
        proration = body["proration"]
        out = {
            "id": body["id"],
            "collection_schedule": body["collection_schedule"],
            "proration": {
                "invoice_behavior": proration.get("invoice_behavior", "BILL_IMMEDIATELY"),
                "is_prorated": proration.get("is_prorated", True),
                **self.copy(proration, "rounding"),
            },
            "subscription_rate": {
                "billing_frequency": body["subscription_rate"]["billing_frequency"],
                "product": self.product(term),
            },
        }
        out.update(
            self.copy(
                body,
                "billing_cycle_config",
                "custom_fields",
                "description",
                "duration",
                "initial_quantity",
                "name",
                "quantity_management_mode",
                "seat_config",
                "starting_at_offset",
            )
        )
        return out

    @staticmethod
    def spend_tracker(term: PackageTerm) -> dict:
        return {key: value for key, value in term.body.items() if key != "id"}

    def wire(self, package: Package, terms: Iterable[PackageTerm]) -> dict:
        """The package's response object, less what changes after create: `created_at`,
        `archived_at` and `aliases` (added by the read query, selectors/packages.py)."""
        grouped: dict[str, list[PackageTerm]] = {kind: [] for kind in PackageTerm.Kind.values}
        for term in terms:
            grouped[term.kind].append(term)
        for group in grouped.values():
            group.sort(key=lambda term: term.ordinal)
        kind = PackageTerm.Kind
        settings = package.settings or {}
        data: dict[str, Any] = {
            "id": str(package.id),
            "name": package.name,
            "created_by": package.created_by,
            "usage_statement_schedule": settings.get(
                "usage_statement_schedule", {"frequency": "MONTHLY", "day": "FIRST_OF_MONTH"}
            ),
            "commits": [self.commit(t) for t in grouped[kind.COMMIT]],
            "credits": [self.credit(t) for t in grouped[kind.CREDIT]],
            "overrides": [self.override(t) for t in grouped[kind.OVERRIDE]],
            "scheduled_charges": [self.scheduled_charge(t) for t in grouped[kind.SCHEDULED_CHARGE]],
            "recurring_commits": [self.recurring(t) for t in grouped[kind.RECURRING_COMMIT]],
            "recurring_credits": [self.recurring(t) for t in grouped[kind.RECURRING_CREDIT]],
            "subscriptions": [self.subscription(t) for t in grouped[kind.SUBSCRIPTION]],
            "spend_trackers": [self.spend_tracker(t) for t in grouped[kind.SPEND_TRACKER]],
        }
        optional = {
            "contract_name": package.contract_name,
            "rate_card_id": str(package.rate_card_id) if package.rate_card_id else None,
            # Not in the SDK's Package model; an extra key strict mode accepts, and sent back
            # because every field sent is returned.
            "rate_card_alias": package.rate_card_alias,
            "billing_provider": package.billing_provider,
            "delivery_method": package.delivery_method,
            "multiplier_override_prioritization": package.multiplier_override_prioritization,
            "scheduled_charges_on_usage_invoices": package.scheduled_charges_on_usage_invoices,
            "uniqueness_key": package.uniqueness_key,
            "net_payment_terms_days": plain_number(package.net_payment_terms_days),
        }
        if package.duration_unit:
            optional["duration"] = {"unit": package.duration_unit, "value": package.duration_value}
        for key in ("spend_threshold_configuration", "prepaid_balance_threshold_configuration"):
            optional[key] = settings.get(key)
        data.update({key: value for key, value in optional.items() if value not in (None, "")})
        return data


def term_credit_type_ids(body: Mapping[str, Any]) -> Iterator[str]:
    """Credit types whose names a term's response shows (the others appear as ids only)."""
    for key in ("access_schedule", "invoice_schedule", "schedule", "overwrite_rate"):
        part = body.get(key)
        if part and part.get("credit_type_id"):
            yield part["credit_type_id"]
