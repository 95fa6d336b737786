"""Contracts on the wire: input serializers (shapes of the SDK's ContractCreateParams and
friends) and the output form of the SDK's v1 `Contract` (strict-mode valid).

Stored term bodies are the contract-create request form with absolute dates and server ids
(contracts_app.services.materialise); `contract_data` turns them into the response form
(`product_id` → `product {id, name}`, `credit_type_id` → `credit_type {id, name}`, ...).
"""

from __future__ import annotations

import functools
from decimal import Decimal
from typing import Any

from rest_framework import serializers
from rest_framework.fields import SkipField

from config.api.serializers import StrictSerializer
from config.core.instants import format_instant
from config.core.money import line_amount
from contracts_app.models import Contract, ContractTerm
from packages_app.api import package_serializers as package_shapes
from packages_app.models import USD_CENTS_ID

NULL_CREDIT_TYPE_ID = "00000000-0000-0000-0000-000000000000"
# Every billing provider the wire names, in the SDK's order (customers, contracts, edits).
BILLING_PROVIDERS = (
    "aws_marketplace",
    "stripe",
    "netsuite",
    "custom",
    "azure_marketplace",
    "quickbooks_online",
    "workday",
    "gcp_marketplace",
    "metronome",
)

# --- input ------------------------------------------------------------------------------------


class NumberField(package_shapes.Number):
    """A JSON number (the parser already made it a Decimal or int); never a float, never a bool.
    The catalog's exact Number, with this API's messages, answering the value as sent."""

    default_error_messages = {
        "min_value": "Must be at least {limit}.",
        "max_value": "Must be at most {limit}.",
    }

    def to_internal_value(self, data):
        super().to_internal_value(data)
        return data


def choice(*values: str, **kwargs) -> serializers.ChoiceField:
    return serializers.ChoiceField(choices=values, **kwargs)


def optional(field_class, *args, **kwargs):
    return field_class(*args, required=False, **kwargs)


def string_map() -> serializers.DictField:
    """An optional object<string, string> (custom_fields)."""
    return serializers.DictField(child=serializers.CharField(allow_blank=True), required=False)


# Nested objects are typed to the SDK's contract_create_params all the way down: whatever is
# stored is echoed by contracts/get and list, which strict clients validate. Shapes the package
# API already checks (the same SDK types) are reused from packages_app.


def typed_list(serializer: serializers.Serializer, **kwargs) -> serializers.ListSerializer:
    return serializers.ListSerializer(child=serializer, required=False, **kwargs)


def strings() -> serializers.ListField:
    return optional(serializers.ListField, child=serializers.CharField())


class FutureInvoiceBehaviorInput(StrictSerializer):
    trueup = optional(choice, "REMOVE", "AS_IS", allow_null=True)


class TransitionInput(StrictSerializer):
    from_contract_id = serializers.CharField()
    type = choice("RENEWAL")
    future_invoice_behavior = optional(FutureInvoiceBehaviorInput)


class ChildAccessInput(StrictSerializer):
    type = choice("ALL", "NONE", "CONTRACT_IDS")
    contract_ids = strings()

    def validate(self, attrs):
        if (attrs["type"] == "CONTRACT_IDS") != ("contract_ids" in attrs):
            raise serializers.ValidationError(
                {"contract_ids": ["Required for CONTRACT_IDS, and only for it."]}
            )
        return attrs


class CommitHierarchyInput(StrictSerializer):
    child_access = ChildAccessInput()


class SpendTrackerAttributesInput(StrictSerializer):
    counts_as_discounted = serializers.BooleanField()


class PackageContractCreateInput(StrictSerializer):
    """With package_id / package_alias only these fields are allowed (Metronome's rule)."""

    customer_id = serializers.CharField()
    starting_at = serializers.DateTimeField()
    package_id = optional(serializers.CharField)
    package_alias = optional(serializers.CharField)
    uniqueness_key = optional(serializers.CharField, max_length=128)
    transition = optional(TransitionInput)
    custom_fields = string_map()

    def validate(self, attrs):
        return _one_package_reference(attrs)


def _one_package_reference(attrs: dict) -> dict:
    if "package_id" in attrs and "package_alias" in attrs:
        raise serializers.ValidationError(
            {"package_alias": ["package_id and package_alias are mutually exclusive."]}
        )
    return attrs


@functools.cache
def _package_contract_fields():
    # Built once; DRF fields keep no state while validating, so requests can share them.
    return PackageContractCreateInput().fields


def package_contract_input(data: dict) -> dict:
    """PackageContractCreateInput's validated data: its own fields and rules, without a
    Serializer instance per request. Building one deep-copies the declared fields, which was
    most of the cost of checking this small body on the provisioning hot path."""
    fields = _package_contract_fields()
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
    attrs, errors = {}, {}
    for name, field in fields.items():
        try:
            attrs[name] = field.run_validation(field.get_value(data))
        except serializers.ValidationError as exc:
            errors[name] = exc.detail
        except SkipField:
            pass
    if errors:
        raise serializers.ValidationError(errors)
    return _one_package_reference(attrs)


class AccessItemInput(StrictSerializer):
    amount = NumberField()
    starting_at = serializers.DateTimeField()
    ending_before = serializers.DateTimeField()

    def validate(self, attrs):
        if attrs["ending_before"] <= attrs["starting_at"]:
            raise serializers.ValidationError({"ending_before": ["Must be after starting_at."]})
        return attrs


class AccessScheduleInput(StrictSerializer):
    schedule_items = AccessItemInput(many=True, allow_empty=False)
    access_type = optional(choice, "SPEND", "QUANTITY")
    credit_type_id = optional(serializers.CharField)


class PointItemInput(StrictSerializer):
    timestamp = serializers.DateTimeField()
    amount = optional(NumberField)
    quantity = optional(NumberField)
    unit_price = optional(NumberField)

    def validate(self, attrs):
        if "amount" not in attrs and "unit_price" not in attrs:
            raise serializers.ValidationError({"amount": ["Give amount or unit_price."]})
        return attrs


class RecurringScheduleInput(StrictSerializer):
    amount_distribution = choice("DIVIDED", "DIVIDED_ROUNDED", "EACH")
    ending_before = serializers.DateTimeField()
    frequency = choice("MONTHLY", "QUARTERLY", "SEMI_ANNUAL", "ANNUAL")
    starting_at = serializers.DateTimeField()
    amount = optional(NumberField)
    quantity = optional(NumberField)
    unit_price = optional(NumberField)

    def validate(self, attrs):
        if attrs["ending_before"] <= attrs["starting_at"]:
            raise serializers.ValidationError({"ending_before": ["Must be after starting_at."]})
        if "amount" in attrs:
            if "quantity" in attrs or "unit_price" in attrs:
                raise serializers.ValidationError(
                    {"amount": ["Give amount, or quantity and unit_price, not both."]}
                )
        elif "unit_price" not in attrs or "quantity" not in attrs:
            raise serializers.ValidationError(
                {"amount": ["Give amount, or quantity and unit_price."]}
            )
        return attrs


class PointScheduleInput(StrictSerializer):
    credit_type_id = optional(serializers.CharField)
    do_not_invoice = optional(serializers.BooleanField)
    recurring_schedule = optional(RecurringScheduleInput)
    schedule_items = optional(PointItemInput, many=True)


COMMON_COMMIT_FIELDS = (
    "applicable_product_ids",
    "applicable_product_tags",
    "custom_fields",
    "description",
    "hierarchy_configuration",
    "name",
    "netsuite_sales_order_id",
    "priority",
    "rate_type",
    "specifiers",
)


class CreditInput(StrictSerializer):
    product_id = serializers.CharField()
    access_schedule = AccessScheduleInput()
    applicable_product_ids = strings()
    applicable_product_tags = strings()
    custom_fields = string_map()
    description = optional(serializers.CharField, allow_blank=True)
    hierarchy_configuration = optional(CommitHierarchyInput)
    name = optional(serializers.CharField, allow_blank=True)
    netsuite_sales_order_id = optional(serializers.CharField, allow_blank=True)
    priority = optional(NumberField)
    rate_type = optional(choice, "COMMIT_RATE", "LIST_RATE")
    rollover_fraction = optional(NumberField, min_value=0, max_value=1)
    specifiers = typed_list(package_shapes.CommitSpecifierInput())


class CommitInput(CreditInput):
    type = choice("PREPAID", "POSTPAID")
    access_schedule = optional(AccessScheduleInput)
    amount = optional(NumberField)
    invoice_schedule = optional(PointScheduleInput)
    spend_tracker_attributes = optional(SpendTrackerAttributesInput)
    temporary_id = optional(serializers.CharField)

    def validate(self, attrs):
        if attrs["type"] == "POSTPAID" and not attrs.get("invoice_schedule"):
            raise serializers.ValidationError(
                {"invoice_schedule": ["A POSTPAID commit needs an invoice_schedule."]}
            )
        return attrs


class OverrideInput(StrictSerializer):
    starting_at = serializers.DateTimeField()
    ending_before = optional(serializers.DateTimeField)
    applicable_product_tags = strings()
    entitled = optional(serializers.BooleanField)
    is_commit_specific = optional(serializers.BooleanField)
    multiplier = optional(NumberField, min_value=0)
    override_specifiers = typed_list(package_shapes.OverrideSpecifierInput())
    overwrite_rate = optional(package_shapes.OverwriteRateInput)
    priority = optional(NumberField)
    product_id = optional(serializers.CharField)
    target = optional(choice, "COMMIT_RATE", "LIST_RATE")
    tiers = typed_list(package_shapes.OverrideTierInput())
    type = optional(choice, "OVERWRITE", "MULTIPLIER", "TIERED")

    def validate(self, attrs):
        end = attrs.get("ending_before")
        if end is not None and end <= attrs["starting_at"]:
            raise serializers.ValidationError({"ending_before": ["Must be after starting_at."]})
        if attrs.get("type") == "OVERWRITE" and not attrs.get("overwrite_rate"):
            raise serializers.ValidationError({"overwrite_rate": ["Required for OVERWRITE."]})
        if attrs.get("type") == "MULTIPLIER" and "multiplier" not in attrs:
            raise serializers.ValidationError({"multiplier": ["Required for MULTIPLIER."]})
        if attrs.get("type") == "TIERED" and not attrs.get("tiers"):
            raise serializers.ValidationError({"tiers": ["Required for TIERED."]})
        return attrs


class ScheduledChargeInput(StrictSerializer):
    product_id = serializers.CharField()
    schedule = PointScheduleInput()
    custom_fields = string_map()
    name = optional(serializers.CharField, allow_blank=True)
    netsuite_sales_order_id = optional(serializers.CharField, allow_blank=True)


class AccessAmountInput(StrictSerializer):
    unit_price = NumberField()
    access_type = optional(choice, "SPEND", "QUANTITY")
    credit_type_id = optional(serializers.CharField)
    quantity = optional(NumberField)


class CommitDurationInput(StrictSerializer):
    value = NumberField(min_value=1)
    unit = optional(choice, "PERIODS")


class RecurringCreditInput(StrictSerializer):
    access_amount = AccessAmountInput()
    commit_duration = CommitDurationInput()
    priority = NumberField()
    product_id = serializers.CharField()
    starting_at = serializers.DateTimeField()
    ending_before = optional(serializers.DateTimeField)
    applicable_product_ids = strings()
    applicable_product_tags = strings()
    description = optional(serializers.CharField, allow_blank=True)
    hierarchy_configuration = optional(CommitHierarchyInput)
    name = optional(serializers.CharField, allow_blank=True)
    netsuite_sales_order_id = optional(serializers.CharField, allow_blank=True)
    proration = optional(choice, "NONE", "FIRST", "LAST", "FIRST_AND_LAST")
    proration_rounding = optional(package_shapes.AccessRounding)
    rate_type = optional(choice, "COMMIT_RATE", "LIST_RATE")
    recurrence_frequency = optional(choice, "MONTHLY", "QUARTERLY", "ANNUAL", "WEEKLY", "DAILY")
    rollover_fraction = optional(NumberField, min_value=0, max_value=1)
    specifiers = typed_list(package_shapes.CommitSpecifierInput())
    subscription_config = optional(package_shapes.SubscriptionConfig)
    temporary_id = optional(serializers.CharField)

    def validate(self, attrs):
        end = attrs.get("ending_before")
        if end is not None and end <= attrs["starting_at"]:
            raise serializers.ValidationError({"ending_before": ["Must be after starting_at."]})
        return attrs


class InvoiceAmountInput(StrictSerializer):
    credit_type_id = serializers.CharField()
    quantity = NumberField()
    unit_price = NumberField()


class RecurringCommitInput(RecurringCreditInput):
    invoice_amount = optional(InvoiceAmountInput)
    proration_rounding = optional(package_shapes.AccessAndInvoiceRounding)


class ProrationInput(StrictSerializer):
    invoice_behavior = optional(choice, "BILL_IMMEDIATELY", "BILL_ON_NEXT_COLLECTION_DATE")
    is_prorated = optional(serializers.BooleanField)
    rounding = optional(package_shapes.Rounding)


class SubscriptionRateInput(StrictSerializer):
    billing_frequency = choice("MONTHLY", "QUARTERLY", "ANNUAL", "WEEKLY")
    product_id = serializers.CharField()


class BillingCycleConfigInput(StrictSerializer):
    anchor_date = optional(serializers.DateTimeField)
    invoice_placement = optional(choice, "ON_SCHEDULED_INVOICE", "ON_USAGE_INVOICE")


class SeatConfigInput(StrictSerializer):
    initial_seat_ids = serializers.ListField(child=serializers.CharField())
    seat_group_key = serializers.CharField()
    initial_unassigned_seats = optional(NumberField, min_value=0)


class SubscriptionInput(StrictSerializer):
    collection_schedule = choice("ADVANCE", "ARREARS")
    proration = ProrationInput()
    subscription_rate = SubscriptionRateInput()
    billing_cycle_config = optional(BillingCycleConfigInput)
    custom_fields = string_map()
    description = optional(serializers.CharField, allow_blank=True)
    ending_before = optional(serializers.DateTimeField)
    initial_quantity = optional(NumberField, min_value=0)
    name = optional(serializers.CharField, allow_blank=True)
    quantity_management_mode = optional(choice, "SEAT_BASED", "QUANTITY_ONLY")
    seat_config = optional(SeatConfigInput)
    starting_at = optional(serializers.DateTimeField)
    temporary_id = optional(serializers.CharField)

    def validate(self, attrs):
        if attrs.get("quantity_management_mode") == "SEAT_BASED" and not attrs.get("seat_config"):
            raise serializers.ValidationError({"seat_config": ["Required for SEAT_BASED."]})
        return attrs


class UsageStatementScheduleInput(StrictSerializer):
    frequency = choice("MONTHLY", "QUARTERLY", "ANNUAL", "WEEKLY")
    billing_anchor_date = optional(serializers.DateTimeField)
    day = optional(choice, "FIRST_OF_MONTH", "CONTRACT_START", "CUSTOM_DATE")
    invoice_generation_starting_at = optional(serializers.DateTimeField)

    def validate(self, attrs):
        if attrs.get("day") == "CUSTOM_DATE" and not attrs.get("billing_anchor_date"):
            raise serializers.ValidationError(
                {"billing_anchor_date": ["Required when day is CUSTOM_DATE."]}
            )
        return attrs


class BillingProviderConfigurationInput(StrictSerializer):
    billing_provider = optional(
        choice, "aws_marketplace", "azure_marketplace", "gcp_marketplace", "stripe", "netsuite"
    )
    billing_provider_configuration_id = optional(serializers.CharField)
    delivery_method = optional(choice, "direct_to_billing_provider", "aws_sqs", "tackle", "aws_sns")


class DiscountInput(StrictSerializer):
    product_id = serializers.CharField()
    schedule = PointScheduleInput()
    custom_fields = string_map()
    name = optional(serializers.CharField, allow_blank=True)
    netsuite_sales_order_id = optional(serializers.CharField, allow_blank=True)


class ProfessionalServiceInput(StrictSerializer):
    max_amount = NumberField()
    product_id = serializers.CharField()
    quantity = NumberField()
    unit_price = NumberField()
    custom_fields = string_map()
    description = optional(serializers.CharField, allow_blank=True)
    netsuite_sales_order_id = optional(serializers.CharField, allow_blank=True)


class ParentContractInput(StrictSerializer):
    contract_id = serializers.CharField()
    customer_id = serializers.CharField()


class ParentBehaviorInput(StrictSerializer):
    invoice_consolidation_type = optional(choice, "CONCATENATE", "NONE")


class HierarchyConfigurationInput(StrictSerializer):
    parent = optional(ParentContractInput)
    parent_behavior = optional(ParentBehaviorInput)
    payer = optional(choice, "SELF", "PARENT")
    usage_statement_behavior = optional(choice, "CONSOLIDATE", "SEPARATE")


class AwsOptionsInput(StrictSerializer):
    aws_account_number = optional(serializers.CharField)
    aws_offer_id = optional(serializers.CharField)
    aws_payer_reference_id = optional(serializers.CharField)


class GcpOptionsInput(StrictSerializer):
    gcp_account_id = optional(serializers.CharField)
    gcp_offer_id = optional(serializers.CharField)


class ResellerRoyaltyInput(StrictSerializer):
    fraction = NumberField(min_value=0, max_value=1)
    netsuite_reseller_id = serializers.CharField()
    reseller_type = choice("AWS", "AWS_PRO_SERVICE", "GCP", "GCP_PRO_SERVICE")
    starting_at = serializers.DateTimeField()
    applicable_product_ids = strings()
    applicable_product_tags = strings()
    aws_options = optional(AwsOptionsInput)
    ending_before = optional(serializers.DateTimeField)
    gcp_options = optional(GcpOptionsInput)
    reseller_contract_value = optional(NumberField)


class RevenueSystemConfigurationInput(StrictSerializer):
    delivery_method = optional(choice, "direct_to_billing_provider")
    provider = optional(choice, "netsuite")
    revenue_system_configuration_id = optional(serializers.CharField)


class UsageFilterInput(StrictSerializer):
    group_key = serializers.CharField()
    group_values = serializers.ListField(child=serializers.CharField())
    starting_at = optional(serializers.DateTimeField)


class NegotiatedContractCreateInput(StrictSerializer):
    """contracts/create without a package: absolute-dated terms of the SDK's shapes."""

    customer_id = serializers.CharField()
    starting_at = serializers.DateTimeField()
    ending_before = optional(serializers.DateTimeField)
    name = optional(serializers.CharField, allow_blank=True)
    rate_card_id = optional(serializers.CharField)
    rate_card_alias = optional(serializers.CharField)
    billing_provider_configuration = optional(BillingProviderConfigurationInput)
    commits = optional(CommitInput, many=True)
    credits = optional(CreditInput, many=True)
    overrides = optional(OverrideInput, many=True)
    scheduled_charges = optional(ScheduledChargeInput, many=True)
    recurring_commits = optional(RecurringCommitInput, many=True)
    recurring_credits = optional(RecurringCreditInput, many=True)
    subscriptions = optional(SubscriptionInput, many=True)
    spend_trackers = typed_list(package_shapes.SpendTrackerInput())
    discounts = optional(DiscountInput, many=True)
    professional_services = optional(ProfessionalServiceInput, many=True)
    reseller_royalties = optional(ResellerRoyaltyInput, many=True)
    custom_fields = string_map()
    hierarchy_configuration = optional(HierarchyConfigurationInput)
    multiplier_override_prioritization = optional(choice, "LOWEST_MULTIPLIER", "EXPLICIT")
    net_payment_terms_days = optional(NumberField, min_value=0)
    netsuite_sales_order_id = optional(serializers.CharField, allow_blank=True)
    prepaid_balance_threshold_configuration = optional(
        package_shapes.PrepaidBalanceThresholdConfiguration
    )
    spend_threshold_configuration = optional(package_shapes.SpendThresholdConfiguration)
    revenue_system_configuration = optional(RevenueSystemConfigurationInput)
    salesforce_opportunity_id = optional(serializers.CharField, allow_blank=True)
    scheduled_charges_on_usage_invoices = optional(choice, "ALL")
    total_contract_value = optional(NumberField)
    transition = optional(TransitionInput)
    uniqueness_key = optional(serializers.CharField, max_length=128)
    usage_filter = optional(UsageFilterInput)
    usage_statement_schedule = optional(UsageStatementScheduleInput)

    def validate(self, attrs):
        end = attrs.get("ending_before")
        if end is not None and end <= attrs["starting_at"]:
            raise serializers.ValidationError({"ending_before": ["Must be after starting_at."]})
        if attrs.get("rate_card_id") and attrs.get("rate_card_alias"):
            raise serializers.ValidationError(
                {"rate_card_alias": ["rate_card_id and rate_card_alias are mutually exclusive."]}
            )
        return attrs


class ContractRefInput(serializers.Serializer):
    customer_id = serializers.CharField()
    contract_id = serializers.CharField()
    include_balance = optional(serializers.BooleanField)
    include_ledgers = optional(serializers.BooleanField)


class ContractListInput(serializers.Serializer):
    customer_id = serializers.CharField()
    covering_date = optional(serializers.DateTimeField)
    starting_at = optional(serializers.DateTimeField)
    include_archived = serializers.BooleanField(required=False, default=False)
    include_balance = optional(serializers.BooleanField)
    include_ledgers = optional(serializers.BooleanField)
    cursor = optional(serializers.CharField, allow_null=True, allow_blank=True)
    limit = serializers.IntegerField(required=False, default=20, min_value=1, max_value=20)


class ContractUpdateEndDateInput(serializers.Serializer):
    customer_id = serializers.CharField()
    contract_id = serializers.CharField()
    ending_before = optional(serializers.DateTimeField, allow_null=True)
    allow_ending_before_finalized_invoice = optional(serializers.BooleanField)


class ContractArchiveInput(serializers.Serializer):
    customer_id = serializers.CharField()
    contract_id = serializers.CharField()
    void_invoices = serializers.BooleanField()


class ContractsOnPackageInput(serializers.Serializer):
    package_id = serializers.CharField()
    covering_date = optional(serializers.DateTimeField)
    starting_at = optional(serializers.DateTimeField)
    include_archived = serializers.BooleanField(required=False, default=False)


# --- output -----------------------------------------------------------------------------------


class Renderer:
    """Turns one contract's stored terms into the SDK's response shapes."""

    def __init__(self, contract: Contract, credit_types: dict[str, str]):
        self.contract = contract
        self.credit_types = credit_types
        self.created_at = format_instant(contract.created_at)

    def credit_type(self, credit_type_id: str | None) -> dict:
        key = str(credit_type_id or USD_CENTS_ID)
        return {"id": key, "name": self.credit_types.get(key, "")}

    @staticmethod
    def product(term: ContractTerm, product_id: str | None = None) -> dict:
        if term.product is not None and (product_id is None or str(term.product_id) == product_id):
            return {"id": str(term.product_id), "name": term.product.name}
        return {"id": str(product_id or term.product_id or ""), "name": ""}

    def access_schedule(self, schedule: dict) -> dict:
        out: dict[str, Any] = {
            "credit_type": self.credit_type(schedule.get("credit_type_id")),
            "schedule_items": [
                {
                    "id": item["id"],
                    "amount": item["amount"],
                    "starting_at": item["starting_at"],
                    "ending_before": item["ending_before"],
                }
                for item in schedule.get("schedule_items") or []
            ],
        }
        if schedule.get("access_type"):
            out["access_type"] = schedule["access_type"]
        return out

    def point_schedule(self, schedule: dict) -> dict:
        items = []
        for item in schedule.get("schedule_items") or []:
            quantity = item.get("quantity", 1)
            unit_price = item.get("unit_price", item.get("amount"))
            amount = item.get("amount")
            if amount is None:
                amount = line_amount(unit_price, quantity)
            items.append(
                {
                    "id": item["id"],
                    "amount": amount,
                    "quantity": quantity,
                    "unit_price": unit_price,
                    "timestamp": item["timestamp"],
                }
            )
        return {
            "credit_type": self.credit_type(schedule.get("credit_type_id")),
            "do_not_invoice": bool(schedule.get("do_not_invoice", False)),
            "schedule_items": items,
        }

    def commit_or_credit(self, term: ContractTerm) -> dict:
        body = term.body
        out: dict[str, Any] = {
            "id": str(term.id),
            "product": self.product(term),
            "created_at": self.created_at,
            "contract": {"id": str(self.contract.id)},
        }
        if term.kind == "commit":
            out["type"] = body.get("type") or "PREPAID"
            for key in ("amount", "rollover_fraction", "spend_tracker_attributes"):
                if key in body:
                    out[key] = body[key]
            if body.get("invoice_schedule"):
                out["invoice_schedule"] = self.point_schedule(body["invoice_schedule"])
            if body.get("recurring_commit_id"):
                out["recurring_commit_id"] = body["recurring_commit_id"]
        else:
            out["type"] = "CREDIT"
            if body.get("recurring_credit_id"):
                out["recurring_credit_id"] = body["recurring_credit_id"]
        if body.get("access_schedule"):
            out["access_schedule"] = self.access_schedule(body["access_schedule"])
        for key in (*COMMON_COMMIT_FIELDS, "subscription_config"):
            if key in body:
                out[key] = body[key]
        if term.archived_at is not None:
            out["archived_at"] = format_instant(term.archived_at)
        return out

    def override(self, term: ContractTerm) -> dict:
        body = term.body
        out: dict[str, Any] = {
            "id": str(term.id),
            "created_at": self.created_at,
            "starting_at": format_instant(term.starting_at),
        }
        if term.ending_before is not None:
            out["ending_before"] = format_instant(term.ending_before)
        for key in (
            "applicable_product_tags",
            "entitled",
            "is_commit_specific",
            "multiplier",
            "override_specifiers",
            "priority",
            "target",
            "type",
        ):
            if key in body:
                out[key] = body[key]
        if body.get("tiers"):
            out["override_tiers"] = body["tiers"]
        if body.get("overwrite_rate"):
            rate = dict(body["overwrite_rate"])
            credit_type_id = rate.pop("credit_type_id", None)
            rate["credit_type"] = self.credit_type(credit_type_id)
            out["overwrite_rate"] = rate
        if body.get("product_id"):
            out["product"] = self.product(term, body["product_id"])
        return out

    def scheduled_charge(self, term: ContractTerm) -> dict:
        body = term.body
        out = {
            "id": str(term.id),
            "product": self.product(term),
            "schedule": self.point_schedule(body.get("schedule") or {}),
        }
        for key in ("custom_fields", "name", "netsuite_sales_order_id", "description"):
            if key in body:
                out[key] = body[key]
        if term.archived_at is not None:
            out["archived_at"] = format_instant(term.archived_at)
        return out

    def recurring(self, term: ContractTerm) -> dict:
        body = term.body
        access = dict(body.get("access_amount") or {})
        if not access.get("credit_type_id"):
            quantity_based = access.get("access_type") == "QUANTITY"
            access["credit_type_id"] = NULL_CREDIT_TYPE_ID if quantity_based else str(USD_CENTS_ID)
        out: dict[str, Any] = {
            "id": str(term.id),
            "access_amount": access,
            "anchor_date": format_instant(term.starting_at),
            "commit_duration": body.get("commit_duration") or {"value": 1, "unit": "PERIODS"},
            "priority": body.get("priority", 0),
            "product": self.product(term),
            "rate_type": body.get("rate_type") or "COMMIT_RATE",
            "starting_at": format_instant(term.starting_at),
            "contract": {"id": str(self.contract.id)},
        }
        if term.ending_before is not None:
            out["ending_before"] = format_instant(term.ending_before)
        keys = [
            "applicable_product_ids",
            "applicable_product_tags",
            "description",
            "hierarchy_configuration",
            "name",
            "netsuite_sales_order_id",
            "proration",
            "proration_rounding",
            "recurrence_frequency",
            "rollover_fraction",
            "specifiers",
        ]
        if term.kind == "recurring_commit":
            keys.append("invoice_amount")
        for key in keys:
            if key in body:
                out[key] = body[key]
        config = body.get("subscription_config")
        if config:
            out["subscription_config"] = {
                "allocation": config.get("allocation") or "INDIVIDUAL",
                "apply_seat_increase_config": config.get("apply_seat_increase_config")
                or {"is_prorated": False},
                "subscription_id": str(config.get("subscription_id") or ""),
            }
        return out

    def subscription(self, term: ContractTerm) -> dict:
        body = term.body
        proration = body.get("proration") or {}
        mode = body.get("quantity_management_mode") or "QUANTITY_ONLY"
        seat_config = body.get("seat_config") or {}
        if mode == "SEAT_BASED":
            quantity = Decimal(str(seat_config.get("initial_unassigned_seats", 0))) + len(
                seat_config.get("initial_seat_ids") or []
            )
        else:
            quantity = body.get("initial_quantity", 0)
        start = format_instant(term.starting_at)
        schedule: dict[str, Any] = {"quantity": quantity, "starting_at": start}
        if term.ending_before is not None:
            schedule["ending_before"] = format_instant(term.ending_before)
        rate = body.get("subscription_rate") or {}
        out: dict[str, Any] = {
            "id": str(term.id),
            "billing_periods": {},
            "collection_schedule": body.get("collection_schedule"),
            "created_at": self.created_at,
            "proration": {
                "invoice_behavior": proration.get("invoice_behavior") or "BILL_IMMEDIATELY",
                "is_prorated": proration.get("is_prorated", True),
                **({"rounding": proration["rounding"]} if proration.get("rounding") else {}),
            },
            "quantity_management_mode": mode,
            "quantity_schedule": [schedule],
            "starting_at": start,
            "subscription_rate": {
                "billing_frequency": rate.get("billing_frequency"),
                "product": self.product(term, rate.get("product_id")),
            },
            "fiat_credit_type_id": str(USD_CENTS_ID),
        }
        if term.ending_before is not None:
            out["ending_before"] = format_instant(term.ending_before)
        if body.get("billing_cycle_config"):
            config = body["billing_cycle_config"]
            out["billing_cycle_config"] = {
                "anchor_date": config.get("anchor_date") or start,
                "invoice_placement": config.get("invoice_placement") or "ON_SCHEDULED_INVOICE",
            }
        if seat_config.get("seat_group_key"):
            out["seat_config"] = {"seat_group_key": seat_config["seat_group_key"]}
        for key in ("custom_fields", "description", "name"):
            if key in body:
                out[key] = body[key]
        return out

    @staticmethod
    def spend_tracker(term: ContractTerm) -> dict:
        body = term.body
        return {
            key: body[key]
            for key in ("alias", "applicable_spend_specifiers", "credit_type_id", "reset_frequency")
            if key in body
        }

    def discount(self, discount: dict) -> dict:
        out = {
            "id": discount["id"],
            "product": {"id": discount["product_id"], "name": discount.get("product_name", "")},
            "schedule": self.point_schedule(discount.get("schedule") or {}),
        }
        for key in ("custom_fields", "name", "netsuite_sales_order_id"):
            if key in discount:
                out[key] = discount[key]
        return out


def _hierarchy(config: dict | None) -> dict | None:
    """Request form (parent + options) → the response's child configuration."""
    if not config or not config.get("parent"):
        return None
    out = {"parent": config["parent"]}
    for key in ("payer", "usage_statement_behavior"):
        if config.get(key):
            out[key] = config[key]
    return out


def _reseller_royalty(item: dict) -> dict:
    out = {k: v for k, v in item.items() if k not in ("aws_options", "gcp_options")}
    out.update(item.get("aws_options") or {})
    out.update(item.get("gcp_options") or {})
    return out


def _billing_configuration(contract: Contract) -> dict | None:
    config = contract.billing_provider_configuration
    if config is None:
        return None
    settings = config.configuration or {}
    out = {
        "id": str(config.id),
        "billing_provider": config.billing_provider,
        "configuration": settings,
        "customer_id": str(config.customer_id),
        "delivery_method": config.delivery_method or "direct_to_billing_provider",
        "delivery_method_configuration": settings.get("delivery_method_configuration") or {},
        "delivery_method_id": str(settings.get("delivery_method_id") or config.id),
    }
    if config.archived_at is not None:
        out["archived_at"] = format_instant(config.archived_at)
    return out


_SHOWN_ARCHIVED = ("commit", "credit", "scheduled_charge")


def _terms_shown_by_kind(contract: Contract) -> dict[str, list[ContractTerm]]:
    """The contract's terms the response shows, by kind, in their stored order."""
    by_kind: dict[str, list[ContractTerm]] = {}
    for term in contract.terms.all():
        # Archived by an edit: commits, credits and scheduled charges show it (`archived_at`);
        # removed overrides and archived spend trackers are gone from the contract.
        if term.archived_at is not None and term.kind not in _SHOWN_ARCHIVED:
            continue
        by_kind.setdefault(term.kind, []).append(term)
    return by_kind


def _contract_body(
    contract: Contract, by_kind: dict[str, list[ContractTerm]], render: Renderer
) -> dict[str, Any]:
    """The contract's `current` form: the terms and fields it always has, then the optional
    ones its end and settings give."""
    settings = contract.settings or {}
    usage = settings.get("usage_statement_schedule") or {}
    body: dict[str, Any] = {
        "commits": [render.commit_or_credit(t) for t in by_kind.get("commit", [])],
        "created_at": format_instant(contract.created_at),
        "created_by": contract.created_by,
        "overrides": [render.override(t) for t in by_kind.get("override", [])],
        "scheduled_charges": [
            render.scheduled_charge(t) for t in by_kind.get("scheduled_charge", [])
        ],
        "starting_at": format_instant(contract.starting_at),
        "transitions": settings.get("transitions") or [],
        "usage_statement_schedule": {
            "billing_anchor_date": usage.get("billing_anchor_date")
            or format_instant(contract.starting_at),
            "frequency": usage.get("frequency") or "MONTHLY",
        },
        "credits": [render.commit_or_credit(t) for t in by_kind.get("credit", [])],
        "recurring_commits": [render.recurring(t) for t in by_kind.get("recurring_commit", [])],
        "recurring_credits": [render.recurring(t) for t in by_kind.get("recurring_credit", [])],
        "spend_trackers": [render.spend_tracker(t) for t in by_kind.get("spend_tracker", [])],
        "name": contract.name or None,
        "rate_card_id": str(contract.rate_card_id) if contract.rate_card_id else None,
        "net_payment_terms_days": contract.net_payment_terms_days,
        "scheduled_charges_on_usage_invoices": contract.scheduled_charges_on_usage_invoices or None,
    }
    if contract.ending_before is not None:
        body["ending_before"] = format_instant(contract.ending_before)
    body.update(_optional_settings_shown(settings, render))
    return body


def _optional_settings_shown(settings: dict[str, Any], render: Renderer) -> dict[str, Any]:
    """The parts of the contract's `current` form that only show when its settings have them,
    in the order the response gives them."""
    shown: dict[str, Any] = {}
    for key in (
        "spend_threshold_configuration",
        "prepaid_balance_threshold_configuration",
        "netsuite_sales_order_id",
        "salesforce_opportunity_id",
        "total_contract_value",
    ):
        if settings.get(key) is not None:
            shown[key] = settings[key]
    if settings.get("discounts"):
        shown["discounts"] = [render.discount(d) for d in settings["discounts"]]
    if settings.get("professional_services"):
        shown["professional_services"] = [
            {k: v for k, v in item.items() if k != "product_name"}
            for item in settings["professional_services"]
        ]
    if settings.get("reseller_royalties"):
        shown["reseller_royalties"] = [_reseller_royalty(r) for r in settings["reseller_royalties"]]
    hierarchy = _hierarchy(settings.get("hierarchy_configuration"))
    if hierarchy:
        shown["hierarchy_configuration"] = hierarchy
    if settings.get("usage_filter"):
        shown["usage_filter"] = {
            "initial": settings["usage_filter"],
            "current": settings["usage_filter"],
            "updates": [],
        }
    return shown


def _initial_body(body: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """The contract's `initial` form: its `current` one with the end it was created with."""
    initial = dict(body)
    if "initial_ending_before" in settings:
        initial.pop("ending_before", None)
        if settings["initial_ending_before"]:
            initial["ending_before"] = settings["initial_ending_before"]
    return initial


def contract_data(contract: Contract, credit_types: dict[str, str]) -> dict:
    """The SDK's v1 `Contract` for a contract fetched with `selectors.contracts.with_terms`."""
    render = Renderer(contract, credit_types)
    by_kind = _terms_shown_by_kind(contract)
    settings = contract.settings or {}
    body = _contract_body(contract, by_kind, render)
    data: dict[str, Any] = {
        "id": str(contract.id),
        "customer_id": str(contract.customer_id),
        "amendments": [],
        "initial": _initial_body(body, settings),
        "current": body,
        "archived_at": format_instant(contract.archived_at),
        "custom_fields": settings.get("custom_fields") or {},
        "package_id": str(contract.package_id) if contract.package_id else None,
        "uniqueness_key": contract.uniqueness_key,
        "subscriptions": [render.subscription(t) for t in by_kind.get("subscription", [])],
        "spend_trackers": body["spend_trackers"],
        "scheduled_charges_on_usage_invoices": body["scheduled_charges_on_usage_invoices"],
    }
    for key in ("spend_threshold_configuration", "prepaid_balance_threshold_configuration"):
        if settings.get(key) is not None:
            data[key] = settings[key]
    billing = _billing_configuration(contract)
    if billing:
        data["customer_billing_provider_configuration"] = billing
    return data


def cohort_item(contract: Contract) -> dict:
    return {
        "contract_id": str(contract.id),
        "customer_id": str(contract.customer_id),
        "starting_at": format_instant(contract.starting_at),
        "ending_before": format_instant(contract.ending_before),
        "archived_at": format_instant(contract.archived_at),
    }
