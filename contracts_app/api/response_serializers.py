"""What the customer, contract and pricing-plan endpoints answer, for the OpenAPI document.

The answers are built by plain functions (`customer_data`, `contract_data`, `schedule_data`, ...);
these serializers describe the same shapes key for key, and tests/config/test_fuzz_api.py checks
real answers against them. `required=False`: a key only sometimes present; `allow_null=True`: a
key that may be JSON null. Term objects name the keys every term carries.
"""

from __future__ import annotations

from rest_framework import serializers

from config.api.schema import NamedRefOutput
from packages_app.api.response_serializers import NumberOutput, instant, string_map, strings

# --- customers ---------------------------------------------------------------------------------


class CustomerOutput(serializers.Serializer):
    id = serializers.UUIDField()
    external_id = serializers.CharField()
    ingest_aliases = strings()
    name = serializers.CharField(allow_blank=True, trim_whitespace=False)
    custom_fields = string_map()


class CustomerConfigOutput(serializers.Serializer):
    salesforce_account_id = serializers.CharField(allow_null=True)


class CustomerDetailOutput(CustomerOutput):
    created_at = instant()
    updated_at = instant()
    archived_at = instant(allow_null=True)
    customer_config = CustomerConfigOutput()


class BillingConfigurationSetOutput(serializers.Serializer):
    id = serializers.UUIDField()
    billing_provider = serializers.CharField()
    configuration = serializers.DictField()
    customer_id = serializers.UUIDField()
    delivery_method_id = serializers.CharField()
    tax_provider = serializers.CharField(required=False)


class BillingConfigurationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    archived_at = instant(allow_null=True)
    billing_provider = serializers.CharField()
    configuration = serializers.DictField()
    customer_id = serializers.UUIDField()
    delivery_method = serializers.CharField()
    delivery_method_configuration = serializers.DictField()
    delivery_method_id = serializers.CharField()


class BillingConfigurationsArchivedOutput(serializers.Serializer):
    customer_billing_provider_configuration_ids = serializers.ListField(
        child=serializers.UUIDField()
    )
    customer_id = serializers.UUIDField()


# --- contracts ---------------------------------------------------------------------------------


class ContractRefOutput(serializers.Serializer):
    id = serializers.UUIDField()


class ContractTermOutput(serializers.Serializer):
    """A materialised term: its id, plus the fields of the package term or request it came
    from, with absolute dates."""

    id = serializers.CharField()


class ContractCommitOutput(ContractTermOutput):
    type = serializers.ChoiceField(choices=["PREPAID", "POSTPAID", "CREDIT"])
    product = NamedRefOutput()
    created_at = instant()
    contract = ContractRefOutput()


class ContractOverrideOutput(ContractTermOutput):
    created_at = instant()
    starting_at = instant()
    ending_before = instant(required=False)


class ContractScheduledChargeOutput(ContractTermOutput):
    product = NamedRefOutput()
    schedule = serializers.DictField()


class ContractRecurringOutput(ContractTermOutput):
    access_amount = serializers.DictField()
    anchor_date = instant()
    commit_duration = serializers.DictField()
    priority = NumberOutput()
    product = NamedRefOutput()
    rate_type = serializers.CharField()
    starting_at = instant()
    ending_before = instant(required=False)
    contract = ContractRefOutput()


class ContractSubscriptionOutput(ContractTermOutput):
    billing_periods = serializers.DictField()
    collection_schedule = serializers.CharField(allow_null=True)
    created_at = instant()
    proration = serializers.DictField()
    quantity_management_mode = serializers.CharField()
    quantity_schedule = serializers.ListField(child=serializers.DictField())
    starting_at = instant()
    ending_before = instant(required=False)
    subscription_rate = serializers.DictField()
    fiat_credit_type_id = serializers.UUIDField()


class UsageStatementScheduleOutput(serializers.Serializer):
    billing_anchor_date = instant()
    frequency = serializers.CharField()


class ContractBodyOutput(serializers.Serializer):
    """A contract's terms as of creation (`initial`) or now (`current`)."""

    commits = ContractCommitOutput(many=True)
    credits = ContractCommitOutput(many=True)
    overrides = ContractOverrideOutput(many=True)
    scheduled_charges = ContractScheduledChargeOutput(many=True)
    recurring_commits = ContractRecurringOutput(many=True)
    recurring_credits = ContractRecurringOutput(many=True)
    spend_trackers = serializers.ListField(child=serializers.DictField())
    created_at = instant()
    created_by = serializers.CharField(allow_blank=True)
    starting_at = instant()
    ending_before = instant(required=False)
    transitions = serializers.ListField(child=serializers.DictField())
    usage_statement_schedule = UsageStatementScheduleOutput()
    name = serializers.CharField(allow_null=True)
    rate_card_id = serializers.UUIDField(allow_null=True)
    net_payment_terms_days = NumberOutput(allow_null=True)
    scheduled_charges_on_usage_invoices = serializers.CharField(allow_null=True)
    spend_threshold_configuration = serializers.DictField(required=False)
    prepaid_balance_threshold_configuration = serializers.DictField(required=False)
    netsuite_sales_order_id = serializers.CharField(required=False)
    salesforce_opportunity_id = serializers.CharField(required=False)
    total_contract_value = NumberOutput(required=False)
    discounts = serializers.ListField(child=serializers.DictField(), required=False)
    professional_services = serializers.ListField(child=serializers.DictField(), required=False)
    reseller_royalties = serializers.ListField(child=serializers.DictField(), required=False)
    hierarchy_configuration = serializers.DictField(required=False)
    usage_filter = serializers.DictField(required=False)


class ContractBillingConfigurationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    billing_provider = serializers.CharField()
    configuration = serializers.DictField()
    customer_id = serializers.UUIDField()
    delivery_method = serializers.CharField()
    delivery_method_configuration = serializers.DictField()
    delivery_method_id = serializers.CharField()
    archived_at = instant(required=False)


class ContractOutput(serializers.Serializer):
    id = serializers.UUIDField()
    customer_id = serializers.UUIDField()
    amendments = serializers.ListField(child=serializers.DictField())
    initial = ContractBodyOutput()
    current = ContractBodyOutput()
    archived_at = instant(allow_null=True)
    custom_fields = string_map()
    package_id = serializers.UUIDField(allow_null=True)
    uniqueness_key = serializers.CharField(allow_null=True)
    subscriptions = ContractSubscriptionOutput(many=True)
    spend_trackers = serializers.ListField(child=serializers.DictField())
    scheduled_charges_on_usage_invoices = serializers.CharField(allow_null=True)
    spend_threshold_configuration = serializers.DictField(required=False)
    prepaid_balance_threshold_configuration = serializers.DictField(required=False)
    customer_billing_provider_configuration = ContractBillingConfigurationOutput(required=False)


class CohortContractOutput(serializers.Serializer):
    contract_id = serializers.UUIDField()
    customer_id = serializers.UUIDField()
    starting_at = instant()
    ending_before = instant(allow_null=True)
    archived_at = instant(allow_null=True)


# --- pricing-plan subscriptions and schedules (Solvimon's shapes: no `data` envelope) ----------


class PricingPlanScheduleOutput(serializers.Serializer):
    """Also every term field the create or migrate request sent (`pricing_currency`,
    `entitlements`, `discount`, ...), as it was sent."""

    object_type = serializers.ChoiceField(choices=["PRICING_PLAN_SCHEDULE"])
    id = serializers.UUIDField()
    type = serializers.ChoiceField(choices=["TRIAL", "DEFAULT"])
    pricing_plan_subscription_id = serializers.UUIDField()
    pricing_plan_id = serializers.CharField(allow_null=True)
    pricing_plan_version_id = serializers.UUIDField(allow_null=True)
    pricing_plan_version_selector = serializers.DictField(required=False)
    start_at = instant()
    end_at = instant(allow_null=True)
    created_at = instant()


class PricingPlanSubscriptionOutput(serializers.Serializer):
    object_type = serializers.ChoiceField(choices=["PRICING_PLAN_SUBSCRIPTION"])
    id = serializers.UUIDField()
    customer_id = serializers.UUIDField()
    platform_id = serializers.CharField(allow_null=True)
    reference = serializers.CharField(required=False, allow_null=True)
    name = serializers.CharField(required=False, allow_null=True)
    description = serializers.CharField(required=False, allow_null=True)
    billing_period = serializers.DictField(required=False, allow_null=True)
    billing_currency = serializers.CharField(required=False, allow_null=True)
    custom_fields = serializers.ListField(
        child=serializers.DictField(), required=False, allow_null=True
    )
    created_at = instant()
    pricing_plan_schedules = PricingPlanScheduleOutput(many=True, required=False)
