"""Admin for contracts (materialised terms inline) and subscriptions.

Contracts are provisioned through the API (which materialises the package's terms); here an
operator finds them, reads their terms and archives them. Dates are read-only: moving an end
date goes through the service, which checks it.
"""

from django.contrib import admin

from config.admin import (
    ArchivedFilter,
    LargeTableAdminMixin,
    ReadOnlyInline,
    ShortIdsAdminMixin,
    archive_action,
    pretty_json,
)
from config.audit.admin import AuditedAdminMixin
from contracts_app.models import Contract, ContractTerm, Subscription
from contracts_app.services.contracts import contracts_archive


class ContractTermInline(ReadOnlyInline):
    model = ContractTerm
    fields = [
        "kind",
        "ordinal",
        "product",
        "starting_at",
        "ending_before",
        "package_term",
        "generated_from",
        "term_body",
    ]
    readonly_fields = fields
    ordering = ["kind", "ordinal"]

    @admin.display(description="body")
    def term_body(self, term: ContractTerm) -> str:
        return pretty_json(term.body)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product", "package_term")


@admin.register(Contract)
class ContractAdmin(ShortIdsAdminMixin, AuditedAdminMixin, LargeTableAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "name",
        "customer",
        "package",
        "starting_at",
        "ending_before",
        "archived_at",
    ]
    list_select_related = ["customer", "package"]
    list_filter = [ArchivedFilter, "starting_at", ("package", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["=id", "=customer__id", "customer__name", "=package__id", "package__name"]
    ordering = ["-created_at", "-id"]
    raw_id_fields = ["customer", "package", "rate_card", "subscription"]
    inlines = [ContractTermInline]
    actions = [archive_action(lambda qs: contracts_archive(queryset=qs), "contracts")]
    fields = [
        "id",
        "name",
        "customer",
        "subscription",
        "package",
        "rate_card",
        "billing_provider_configuration",
        "starting_at",
        "ending_before",
        "net_payment_terms_days",
        "uniqueness_key",
        "contract_settings",
        "created_at",
        "created_by",
        "archived_at",
    ]
    readonly_fields = [f for f in fields if f != "name"]

    @admin.display(description="settings")
    def contract_settings(self, contract: Contract) -> str:
        return pretty_json(contract.settings)

    def has_add_permission(self, request):
        return False  # provisioned through the API, which materialises the package's terms

    def has_delete_permission(self, request, obj=None):
        return False  # archived, never deleted


class SubscriptionContractInline(ReadOnlyInline):
    model = Contract
    fields = ["id", "name", "package", "starting_at", "ending_before", "archived_at"]
    readonly_fields = fields
    ordering = ["starting_at"]
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("package")


@admin.register(Subscription)
class SubscriptionAdmin(
    ShortIdsAdminMixin, AuditedAdminMixin, LargeTableAdminMixin, admin.ModelAdmin
):
    list_display = ["id", "customer", "platform_id", "created_at"]
    list_select_related = ["customer"]
    search_fields = ["=id", "=customer__id", "customer__name", "platform_id"]
    ordering = ["-created_at", "-id"]
    fields = ["id", "customer", "platform_id", "details", "created_at"]
    readonly_fields = fields
    inlines = [SubscriptionContractInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
