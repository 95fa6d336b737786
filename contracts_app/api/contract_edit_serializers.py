"""Contract edits on the wire: the SDK 4.12.0 shapes of v2 contracts/edit, commits/edit,
credits/edit, getEditHistory, v2 get/list, and v1 contracts/amend, typed all the way down
(StrictSerializer: an unknown key is a 400 naming it, never dropped). Add shapes are the
contract-create ones (contract_serializers), which the SDK's Add* types equal."""

from __future__ import annotations

from rest_framework import serializers

from config.api.serializers import StrictSerializer, require_exactly_one
from contracts_app.api import contract_serializers as create_shapes
from contracts_app.api.contract_serializers import (
    NumberField,
    choice,
    optional,
    strings,
    typed_list,
)
from packages_app.api import package_serializers as package_shapes

RATE_TYPES = ("LIST_RATE", "COMMIT_RATE")


class AddCommitPaymentGateStripeInput(StrictSerializer):
    payment_type = choice("INVOICE", "PAYMENT_INTENT")
    invoice_metadata = create_shapes.string_map()
    on_session_payment = optional(serializers.BooleanField)


class AddCommitPaymentGateInput(StrictSerializer):
    payment_gate_type = choice("NONE", "STRIPE", "EXTERNAL")
    precalculated_tax_config = optional(package_shapes.PrecalculatedTaxConfig)
    stripe_config = optional(AddCommitPaymentGateStripeInput)
    tax_type = optional(choice, "NONE", "STRIPE", "ANROK", "PRECALCULATED")


class AddCommitInput(create_shapes.CommitInput):
    payment_gate_config = optional(AddCommitPaymentGateInput)


class AddResellerRoyaltyInput(StrictSerializer):
    reseller_type = choice("AWS", "AWS_PRO_SERVICE", "GCP", "GCP_PRO_SERVICE")
    applicable_product_ids = strings()
    applicable_product_tags = strings()
    aws_options = optional(create_shapes.AwsOptionsInput)
    ending_before = optional(serializers.DateTimeField)
    fraction = optional(NumberField, min_value=0, max_value=1)
    gcp_options = optional(create_shapes.GcpOptionsInput)
    netsuite_reseller_id = optional(serializers.CharField)
    reseller_contract_value = optional(NumberField)
    starting_at = optional(serializers.DateTimeField)


class ConfigurationScheduleInput(StrictSerializer):
    effective_at = choice("START_OF_CURRENT_PERIOD", "START_OF_NEXT_PERIOD")


class BillingProviderConfigurationRefInput(StrictSerializer):
    billing_provider = optional(choice, *create_shapes.BILLING_PROVIDERS)
    billing_provider_configuration_id = optional(serializers.CharField)
    delivery_method = optional(choice, "direct_to_billing_provider", "aws_sqs", "tackle", "aws_sns")


class BillingProviderConfigurationUpdateInput(StrictSerializer):
    billing_provider_configuration = BillingProviderConfigurationRefInput()
    schedule = ConfigurationScheduleInput()


class RevenueSystemConfigurationRefInput(StrictSerializer):
    delivery_method = optional(choice, "direct_to_billing_provider", "aws_sqs", "tackle", "aws_sns")
    provider = optional(choice, "netsuite")
    revenue_system_configuration_id = optional(serializers.CharField)


class RevenueSystemConfigurationUpdateInput(StrictSerializer):
    revenue_system_configuration = RevenueSystemConfigurationRefInput()
    schedule = ConfigurationScheduleInput()


class IdInput(StrictSerializer):
    id = serializers.CharField()


# --- update_* shapes ----------------------------------------------------------------------------


class AccessItemAddInput(create_shapes.AccessItemInput):
    pass


class AccessItemUpdateInput(StrictSerializer):
    id = serializers.CharField()
    amount = optional(NumberField)
    ending_before = optional(serializers.DateTimeField)
    starting_at = optional(serializers.DateTimeField)


class AccessScheduleUpdateInput(StrictSerializer):
    add_schedule_items = typed_list(AccessItemAddInput())
    remove_schedule_items = typed_list(IdInput())
    update_schedule_items = typed_list(AccessItemUpdateInput())


class PointItemAddInput(create_shapes.PointItemInput):
    pass  # a point added by an edit is a create-time point (named apart in the OpenAPI schema)


class PointItemUpdateInput(StrictSerializer):
    id = serializers.CharField()
    amount = optional(NumberField)
    quantity = optional(NumberField)
    timestamp = optional(serializers.DateTimeField)
    unit_price = optional(NumberField)


class PointScheduleUpdateInput(StrictSerializer):
    add_schedule_items = typed_list(PointItemAddInput())
    remove_schedule_items = typed_list(IdInput())
    update_schedule_items = typed_list(PointItemUpdateInput())


class _CommitChangeFields(StrictSerializer):
    access_schedule = optional(AccessScheduleUpdateInput)
    applicable_product_ids = optional(
        serializers.ListField, child=serializers.CharField(), allow_null=True
    )
    applicable_product_tags = optional(
        serializers.ListField, child=serializers.CharField(), allow_null=True
    )
    description = optional(serializers.CharField, allow_blank=True)
    hierarchy_configuration = optional(create_shapes.CommitHierarchyInput)
    name = optional(serializers.CharField, allow_blank=True)
    priority = optional(NumberField, allow_null=True)
    product_id = optional(serializers.CharField)
    rate_type = optional(choice, *RATE_TYPES)


class UpdateCreditInput(_CommitChangeFields):
    credit_id = serializers.CharField()
    netsuite_sales_order_id = optional(serializers.CharField, allow_blank=True)
    rollover_fraction = optional(NumberField, min_value=0, max_value=1)


class UpdateCommitInput(UpdateCreditInput):
    credit_id = None
    commit_id = serializers.CharField()
    invoice_schedule = optional(PointScheduleUpdateInput)


class CommitEditInput(_CommitChangeFields):
    """v2 contracts/commits/edit."""

    commit_id = serializers.CharField()
    customer_id = serializers.CharField()
    applicable_contract_ids = optional(
        serializers.ListField, child=serializers.CharField(), allow_null=True
    )
    invoice_contract_id = optional(serializers.CharField)
    invoice_schedule = optional(PointScheduleUpdateInput)
    specifiers = optional(
        serializers.ListSerializer,
        child=package_shapes.CommitSpecifierInput(),
        allow_null=True,
    )


class CreditEditInput(_CommitChangeFields):
    """v2 contracts/credits/edit."""

    credit_id = serializers.CharField()
    customer_id = serializers.CharField()
    applicable_contract_ids = optional(
        serializers.ListField, child=serializers.CharField(), allow_null=True
    )
    specifiers = optional(
        serializers.ListSerializer,
        child=package_shapes.CommitSpecifierInput(),
        allow_null=True,
    )


class AmountChangeInput(StrictSerializer):
    quantity = optional(NumberField)
    unit_price = optional(NumberField)


class UpdateRecurringCreditInput(StrictSerializer):
    recurring_credit_id = serializers.CharField()
    access_amount = optional(AmountChangeInput)
    ending_before = optional(serializers.DateTimeField)
    proration_rounding = optional(package_shapes.AccessRounding)
    rate_type = optional(choice, *RATE_TYPES)


class UpdateRecurringCommitInput(UpdateRecurringCreditInput):
    recurring_credit_id = None
    recurring_commit_id = serializers.CharField()
    invoice_amount = optional(AmountChangeInput)
    proration_rounding = optional(package_shapes.AccessAndInvoiceRounding)


class UpdateScheduledChargeInput(StrictSerializer):
    scheduled_charge_id = serializers.CharField()
    invoice_schedule = optional(PointScheduleUpdateInput)
    netsuite_sales_order_id = optional(serializers.CharField, allow_blank=True)


class QuantityUpdateInput(StrictSerializer):
    starting_at = serializers.DateTimeField()
    quantity = optional(NumberField)
    quantity_delta = optional(NumberField)

    def validate(self, attrs):
        require_exactly_one(attrs, "quantity", "quantity_delta")
        return attrs


class SeatIdsChangeInput(StrictSerializer):
    seat_ids = serializers.ListField(child=serializers.CharField())
    starting_at = serializers.DateTimeField()


class SeatCountChangeInput(StrictSerializer):
    quantity = NumberField()
    starting_at = serializers.DateTimeField()


class SeatUpdatesInput(StrictSerializer):
    add_seat_ids = typed_list(SeatIdsChangeInput())
    add_unassigned_seats = typed_list(SeatCountChangeInput())
    remove_seat_ids = typed_list(SeatIdsChangeInput())
    remove_unassigned_seats = typed_list(SeatCountChangeInput())


class SeatGroupInput(StrictSerializer):
    seat_group_key = serializers.CharField()


class QuantityModeUpdateInput(StrictSerializer):
    quantity_management_mode = choice("SEAT_BASED")
    seat_config = SeatGroupInput()


class UpdateSubscriptionInput(StrictSerializer):
    subscription_id = serializers.CharField()
    ending_before = optional(serializers.DateTimeField)
    name = optional(serializers.CharField, allow_blank=True)
    proration_rounding = optional(package_shapes.Rounding)
    quantity_management_mode_update = optional(QuantityModeUpdateInput)
    quantity_updates = typed_list(QuantityUpdateInput())
    seat_updates = optional(SeatUpdatesInput)


class UpdateThresholdCommitInput(StrictSerializer):
    description = optional(serializers.CharField, allow_blank=True)
    name = optional(serializers.CharField, allow_blank=True)
    priority = optional(NumberField, allow_null=True)
    product_id = optional(serializers.CharField)


class UpdatePrepaidThresholdCommitInput(UpdateThresholdCommitInput):
    applicable_product_ids = optional(
        serializers.ListField, child=serializers.CharField(), allow_null=True
    )
    applicable_product_tags = optional(
        serializers.ListField, child=serializers.CharField(), allow_null=True
    )
    duration = optional(package_shapes.Length)
    rate_type = optional(choice, "COMMIT_RATE", "LIST_RATE")
    rollover_fraction = optional(NumberField, min_value=0, max_value=1)
    specifiers = typed_list(package_shapes.CommitSpecifierInput())


class UpdateDiscountConfigurationInput(StrictSerializer):
    cap = optional(package_shapes.DiscountCap, allow_null=True)
    payment_fraction = optional(NumberField, min_value=0, max_value=1, allow_null=True)


class UpdateSpendThresholdInput(StrictSerializer):
    commit = optional(UpdateThresholdCommitInput)
    discount_configuration = optional(UpdateDiscountConfigurationInput, allow_null=True)
    is_enabled = optional(serializers.BooleanField)
    payment_gate_config = optional(package_shapes.PaymentGateConfig)
    threshold_amount = optional(NumberField)


class UpdatePrepaidThresholdInput(UpdateSpendThresholdInput):
    commit = optional(UpdatePrepaidThresholdCommitInput)
    custom_credit_type_id = optional(serializers.CharField, allow_null=True)
    recharge_to_amount = optional(NumberField)
    threshold_balance_specifiers = typed_list(package_shapes.BalanceSpecifier(), allow_null=True)


# --- the requests -------------------------------------------------------------------------------


class ContractEditInput(StrictSerializer):
    """v2 contracts/edit: absolute dates; ids of the contract's own terms."""

    contract_id = serializers.CharField()
    customer_id = serializers.CharField()
    add_billing_provider_configuration_update = optional(BillingProviderConfigurationUpdateInput)
    add_commits = optional(AddCommitInput, many=True)
    add_credits = optional(create_shapes.CreditInput, many=True)
    add_discounts = optional(create_shapes.DiscountInput, many=True)
    add_overrides = optional(create_shapes.OverrideInput, many=True)
    add_prepaid_balance_threshold_configuration = optional(
        package_shapes.PrepaidBalanceThresholdConfiguration
    )
    add_professional_services = optional(create_shapes.ProfessionalServiceInput, many=True)
    add_recurring_commits = optional(create_shapes.RecurringCommitInput, many=True)
    add_recurring_credits = optional(create_shapes.RecurringCreditInput, many=True)
    add_reseller_royalties = optional(AddResellerRoyaltyInput, many=True)
    add_revenue_system_configuration_update = optional(RevenueSystemConfigurationUpdateInput)
    add_scheduled_charges = optional(create_shapes.ScheduledChargeInput, many=True)
    add_spend_threshold_configuration = optional(package_shapes.SpendThresholdConfiguration)
    add_spend_trackers = typed_list(package_shapes.SpendTrackerInput())
    add_subscriptions = optional(create_shapes.SubscriptionInput, many=True)
    allow_contract_ending_before_finalized_invoice = optional(serializers.BooleanField)
    archive_commits = typed_list(IdInput())
    archive_credits = typed_list(IdInput())
    archive_scheduled_charges = typed_list(IdInput())
    archive_spend_trackers = strings()
    remove_overrides = typed_list(IdInput())
    uniqueness_key = optional(serializers.CharField, max_length=128)
    update_commits = typed_list(UpdateCommitInput())
    # null: open-ended (the SDK's type allows None; v1 updateEndDate clears the same way).
    update_contract_end_date = optional(serializers.DateTimeField, allow_null=True)
    update_contract_name = optional(serializers.CharField, max_length=400, allow_blank=True)
    update_credits = typed_list(UpdateCreditInput())
    update_net_payment_terms_days = optional(NumberField, min_value=0)
    update_prepaid_balance_threshold_configuration = optional(UpdatePrepaidThresholdInput)
    update_recurring_commits = typed_list(UpdateRecurringCommitInput())
    update_recurring_credits = typed_list(UpdateRecurringCreditInput())
    update_scheduled_charges = typed_list(UpdateScheduledChargeInput())
    update_spend_threshold_configuration = optional(UpdateSpendThresholdInput)
    update_subscriptions = typed_list(UpdateSubscriptionInput())


class AmendInput(StrictSerializer):
    """v1 contracts/amend: terms added from `starting_at`."""

    contract_id = serializers.CharField()
    customer_id = serializers.CharField()
    starting_at = serializers.DateTimeField()
    commits = optional(create_shapes.CommitInput, many=True)
    credits = optional(create_shapes.CreditInput, many=True)
    custom_fields = create_shapes.string_map()
    discounts = optional(create_shapes.DiscountInput, many=True)
    netsuite_sales_order_id = optional(serializers.CharField, allow_blank=True)
    overrides = optional(create_shapes.OverrideInput, many=True)
    professional_services = optional(create_shapes.ProfessionalServiceInput, many=True)
    reseller_royalties = optional(create_shapes.ResellerRoyaltyInput, many=True)
    salesforce_opportunity_id = optional(serializers.CharField, allow_blank=True)
    scheduled_charges = optional(create_shapes.ScheduledChargeInput, many=True)
    total_contract_value = optional(NumberField)
    timestamp = optional(serializers.DateTimeField)


class ContractV2RefInput(StrictSerializer):
    customer_id = serializers.CharField()
    contract_id = serializers.CharField()
    as_of_date = optional(serializers.DateTimeField)
    include_balance = optional(serializers.BooleanField)
    include_ledgers = optional(serializers.BooleanField)


class EditHistoryInput(StrictSerializer):
    customer_id = serializers.CharField()
    contract_id = serializers.CharField()


class IdData(serializers.Serializer):
    id = serializers.CharField()


class IdResponse(serializers.Serializer):
    data = IdData()


class EditResponseData(serializers.Serializer):
    id = serializers.CharField()
    edit = serializers.DictField(help_text="The edit as recorded (see getEditHistory).")


class EditResponse(serializers.Serializer):
    data = EditResponseData()


class EditHistoryEntry(serializers.Serializer):
    id = serializers.CharField()
    timestamp = serializers.DateTimeField()
    created_by = serializers.CharField()
    uniqueness_key = serializers.CharField(required=False)
    add_commits = serializers.ListField(child=serializers.DictField(), required=False)
    add_credits = serializers.ListField(child=serializers.DictField(), required=False)
    update_commits = serializers.ListField(child=serializers.DictField(), required=False)
    update_credits = serializers.ListField(child=serializers.DictField(), required=False)
    archive_commits = serializers.ListField(child=serializers.DictField(), required=False)
    remove_overrides = serializers.ListField(child=serializers.DictField(), required=False)


class EditHistoryResponse(serializers.Serializer):
    data = EditHistoryEntry(many=True)


class ContractV2Response(serializers.Serializer):
    data = serializers.DictField(help_text="The SDK's ContractV2.")


class ContractV2ListResponse(serializers.Serializer):
    data = serializers.ListField(child=serializers.DictField())
    cursor = serializers.CharField(allow_null=True)
