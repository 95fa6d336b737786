"""Admin for customers and their billing-provider configurations.

Customers are created through the API (which checks ingest-id conflicts) and archived, never
deleted; here an operator can find them, rename them and archive them in bulk.
"""

from django.contrib import admin
from django.db.models import Count, Q

from config.admin import (
    ArchivedFilter,
    LargeTableAdminMixin,
    ShortIdsAdminMixin,
    archive_action,
)
from config.audit.admin import AuditedAdminMixin
from contracts_app.models import BillingProviderConfiguration, Customer
from contracts_app.services.customers import customers_archive


class BillingProviderConfigurationInline(admin.TabularInline):
    model = BillingProviderConfiguration
    fields = [
        "id",
        "billing_provider",
        "delivery_method",
        "configuration",
        "created_at",
        "archived_at",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False  # set through the API, which validates provider and delivery method


@admin.register(Customer)
class CustomerAdmin(ShortIdsAdminMixin, AuditedAdminMixin, LargeTableAdminMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "external_id",
        "id",
        "active_configurations",
        "created_at",
        "archived_at",
    ]
    search_fields = ["name", "external_id", "=id"]
    list_filter = [ArchivedFilter]
    ordering = ["-created_at", "-id"]
    actions = [
        archive_action(
            lambda qs: customers_archive(customer_ids=list(qs.values_list("id", flat=True))),
            "customers",
        )
    ]
    inlines = [BillingProviderConfigurationInline]
    fields = [
        "id",
        "name",
        "external_id",
        "ingest_aliases",
        "custom_fields",
        "details",
        "created_at",
        "updated_at",
        "archived_at",
    ]
    # Ingest ids must stay unique among active customers: only the API's service checks that.
    readonly_fields = [
        "id",
        "external_id",
        "ingest_aliases",
        "details",
        "created_at",
        "updated_at",
        "archived_at",
    ]

    def get_queryset(self, request):
        # A correlated count in the same query, so the changelist costs the same for any page.
        return (
            super()
            .get_queryset(request)
            .annotate(
                active_configuration_count=Count(
                    "billing_provider_configurations",
                    filter=Q(billing_provider_configurations__archived_at__isnull=True),
                )
            )
        )

    @admin.display(description="Billing configs", ordering="active_configuration_count")
    def active_configurations(self, customer):
        return customer.active_configuration_count

    def has_add_permission(self, request):
        return False  # created through the API, which checks ingest-id conflicts

    def has_delete_permission(self, request, obj=None):
        return False  # archived, never deleted: contracts and history point at customers
