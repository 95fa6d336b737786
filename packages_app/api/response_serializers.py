"""What the catalog and package endpoints answer, for the OpenAPI document.

The answers are built by plain functions (`*_data`, `Output.wire`) or by PostgreSQL, because that
is cheaper than a DRF serializer per object; these serializers describe the same shapes, key for
key, and tests/config/test_fuzz_api.py checks real answers against them. A key that is only
sometimes present is `required=False`; one that may be JSON null is `allow_null=True`. Term
objects name the keys every term carries; the rest of a term is what its create request sent.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api.schema import NamedRefOutput
from packages_app.api.package_serializers import Length, UsageStatementSchedule


@extend_schema_field(OpenApiTypes.NUMBER)
class NumberOutput(serializers.Field):
    """An exact decimal, written as a JSON number."""


def strings(**kwargs) -> serializers.ListField:
    return serializers.ListField(child=serializers.CharField(allow_blank=True), **kwargs)


def string_map(**kwargs) -> serializers.DictField:
    return serializers.DictField(child=serializers.CharField(allow_blank=True), **kwargs)


def instant(**kwargs) -> serializers.DateTimeField:
    """An RFC 3339 UTC instant, `2024-01-01T00:00:00Z`."""
    return serializers.DateTimeField(**kwargs)


# --- credit types and billable metrics ---------------------------------------------------------


class CreditTypeOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    is_currency = serializers.BooleanField()


class BillableMetricOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    aggregation_type = serializers.ChoiceField(
        choices=["COUNT", "LATEST", "MAX", "SUM", "UNIQUE"], required=False
    )
    aggregation_key = serializers.CharField(required=False)
    event_type_filter = serializers.DictField(required=False)
    property_filters = serializers.ListField(child=serializers.DictField(), required=False)
    group_keys = serializers.ListField(child=strings(), required=False)
    sql = serializers.CharField(required=False)
    custom_fields = string_map()
    archived_at = instant(required=False)


# --- products ---------------------------------------------------------------------------------


class ProductStateOutput(serializers.Serializer):
    name = serializers.CharField()
    created_at = instant()
    created_by = serializers.CharField(allow_blank=True)
    starting_at = instant(required=False)
    billable_metric_id = serializers.CharField(required=False)
    composite_product_ids = strings(required=False)
    composite_tags = strings(required=False)
    exclude_free_usage = serializers.BooleanField(required=False)
    include_composite_spend = serializers.BooleanField(required=False)
    is_refundable = serializers.BooleanField(required=False)
    netsuite_internal_item_id = serializers.CharField(required=False, allow_blank=True)
    netsuite_overage_item_id = serializers.CharField(required=False, allow_blank=True)
    presentation_group_key = strings(required=False)
    pricing_group_key = strings(required=False)
    quantity_conversion = serializers.DictField(required=False)
    quantity_rounding = serializers.DictField(required=False)
    tags = strings(required=False)


class ProductOutput(serializers.Serializer):
    id = serializers.UUIDField()
    type = serializers.ChoiceField(
        choices=["FIXED", "USAGE", "COMPOSITE", "SUBSCRIPTION", "PRO_SERVICE"]
    )
    initial = ProductStateOutput()
    current = ProductStateOutput()
    updates = ProductStateOutput(many=True)
    custom_fields = string_map()
    archived_at = instant(required=False)


# --- rate cards and rates -----------------------------------------------------------------------


class CreditTypeConversionOutput(serializers.Serializer):
    custom_credit_type = NamedRefOutput()
    fiat_per_custom_credit = serializers.CharField(help_text="A decimal, as a string")


class AliasOutput(serializers.Serializer):
    name = serializers.CharField()
    starting_at = instant()
    ending_before = instant(required=False)


class RateCardOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    created_at = instant()
    created_by = serializers.CharField(allow_blank=True)
    fiat_credit_type = NamedRefOutput()
    credit_type_conversions = CreditTypeConversionOutput(many=True)
    aliases = AliasOutput(many=True)
    custom_fields = string_map()
    archived_at = instant(required=False)


class TierOutput(serializers.Serializer):
    price = NumberOutput()
    size = NumberOutput(required=False)


class RateOutput(serializers.Serializer):
    """What is charged, without product or dates (the SDK's shared `Rate`)."""

    rate_type = serializers.ChoiceField(
        choices=["FLAT", "PERCENTAGE", "SUBSCRIPTION", "TIERED", "TIERED_PERCENTAGE", "CUSTOM"]
    )
    credit_type = NamedRefOutput(required=False)
    price = NumberOutput(required=False)
    pricing_group_values = string_map(required=False)
    tiers = TierOutput(many=True, required=False)
    quantity = NumberOutput(required=False)
    is_prorated = serializers.BooleanField(required=False)
    custom_rate = serializers.DictField(required=False)
    commit_rate = serializers.DictField(required=False)


class RateScheduleItemOutput(serializers.Serializer):
    entitled = serializers.BooleanField()
    product_id = serializers.UUIDField()
    product_name = serializers.CharField()
    product_tags = strings()
    product_custom_fields = string_map()
    rate = RateOutput()
    starting_at = instant()
    ending_before = instant(required=False)
    pricing_group_values = string_map(required=False)
    billing_frequency = serializers.ChoiceField(
        choices=["MONTHLY", "QUARTERLY", "ANNUAL", "WEEKLY"], required=False
    )
    commit_rate = serializers.DictField(required=False)


# --- packages ---------------------------------------------------------------------------------


class PackageTermOutput(serializers.Serializer):
    """A commit, credit, override, scheduled charge, recurring commit/credit or subscription
    template: its server id, plus what the create request sent, with `product_id` →
    `product {id, name}` and `credit_type_id` → `credit_type {id, name}`."""

    id = serializers.CharField()


class PackageProductTermOutput(PackageTermOutput):
    product = NamedRefOutput()


class PackageSubscriptionOutput(PackageTermOutput):
    collection_schedule = serializers.CharField()
    proration = serializers.DictField()
    subscription_rate = serializers.DictField()


class PackageAliasOutput(serializers.Serializer):
    name = serializers.CharField()
    starting_at = instant(allow_null=True)
    ending_before = instant(allow_null=True)


class PackageOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    created_at = instant()
    created_by = serializers.CharField(allow_blank=True)
    archived_at = instant(allow_null=True)
    aliases = PackageAliasOutput(many=True)
    usage_statement_schedule = UsageStatementSchedule()
    commits = PackageProductTermOutput(many=True)
    credits = PackageProductTermOutput(many=True)
    overrides = PackageTermOutput(many=True)
    scheduled_charges = PackageProductTermOutput(many=True)
    recurring_commits = PackageProductTermOutput(many=True)
    recurring_credits = PackageProductTermOutput(many=True)
    subscriptions = PackageSubscriptionOutput(many=True)
    spend_trackers = serializers.ListField(child=serializers.DictField())
    contract_name = serializers.CharField(required=False)
    rate_card_id = serializers.UUIDField(required=False)
    rate_card_alias = serializers.CharField(required=False)
    billing_provider = serializers.CharField(required=False)
    delivery_method = serializers.CharField(required=False)
    multiplier_override_prioritization = serializers.CharField(required=False)
    scheduled_charges_on_usage_invoices = serializers.CharField(required=False)
    uniqueness_key = serializers.CharField(required=False)
    net_payment_terms_days = NumberOutput(required=False)
    duration = Length(required=False)
    spend_threshold_configuration = serializers.DictField(required=False)
    prepaid_balance_threshold_configuration = serializers.DictField(required=False)
