"""Admin for credit types, billable metrics, products and rate cards.

Anything a package, rate or contract may reference is archived, never deleted: those models have
an "Archive selected" action and no delete permission. Changelists select what their columns
show, so a page costs the same number of queries whatever its length.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.db.models import Count

from config.admin import (
    ArchivedFilter,
    ShortIdsAdminMixin,
    archive_action,
    plain_decimal,
    pretty_json,
)
from config.audit.admin import AuditedAdminMixin
from packages_app.models import (
    AliasAssignment,
    BillableMetric,
    CreditType,
    Product,
    Rate,
    RateCard,
)
from packages_app.services.billable_metrics import billable_metrics_archive
from packages_app.services.credit_types import credit_types_archive
from packages_app.services.packages import package_wires_invalidate
from packages_app.services.products import products_archive
from packages_app.services.rate_cards import rate_cards_archive


class ArchiveOnlyAdmin(ShortIdsAdminMixin, AuditedAdminMixin, admin.ModelAdmin):
    """Archive instead of delete: references elsewhere must keep resolving."""

    readonly_fields = ("id", "created_at", "archived_at")

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(CreditType)
class CreditTypeAdmin(ArchiveOnlyAdmin):
    # Packages name credit types inside JSON terms, where no foreign key protects them.
    list_display = ("name", "is_currency", "id", "created_at", "archived_at")
    list_filter = ("is_currency", ArchivedFilter)
    search_fields = ("name", "=id")
    actions = [archive_action(lambda qs: credit_types_archive(queryset=qs), "custom credit types")]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "name" in form.changed_data:  # packages show it: render them again
            package_wires_invalidate(credit_type_ids=[obj.pk])


@admin.register(BillableMetric)
class BillableMetricAdmin(ArchiveOnlyAdmin):
    list_display = ("name", "aggregation_type", "aggregation_key", "created_at", "archived_at")
    list_filter = ("aggregation_type", ArchivedFilter)
    search_fields = ("name", "aggregation_key", "=id")
    actions = [archive_action(lambda qs: billable_metrics_archive(queryset=qs), "billable metrics")]


@admin.register(Product)
class ProductAdmin(ArchiveOnlyAdmin):
    list_display = ("name", "type", "billable_metric", "created_by", "created_at", "archived_at")
    list_filter = ("type", ArchivedFilter)
    list_select_related = ("billable_metric",)
    search_fields = ("name", "billable_metric__name", "=id")
    raw_id_fields = ("billable_metric",)
    readonly_fields = ("id", "created_at", "created_by", "updated_at", "archived_at")
    actions = [archive_action(lambda qs: products_archive(queryset=qs), "products")]

    def get_readonly_fields(self, request, obj=None):
        # A name is part of the product's dated history (products/update keeps it in
        # `details`, and responses, packages included, read it from there): once the product
        # exists it is renamed through the API only.
        fields = super().get_readonly_fields(request, obj)
        return fields if obj is None else ("name", *fields)


class RateForm(forms.ModelForm):
    class Meta:
        model = Rate
        fields = ("rate_type", "price", "starting_at", "ending_before", "entitled")
        widgets = {"price": forms.TextInput(attrs={"size": 14})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The column keeps 20 decimal places; show the price as it was entered (12.5, not
        # 12.50000000000000000000).
        if self.instance.price is not None and "price" in self.fields:
            self.initial["price"] = plain_decimal(self.instance.price)


class RateInline(admin.TabularInline):
    model = Rate
    form = RateForm
    extra = 0
    fields = (
        "product",
        "rate_type",
        "price",
        "credit_type",
        "starting_at",
        "ending_before",
        "entitled",
        "pricing_groups",
        "rate_details",
    )
    # Read-only references, shown from the rows' own join: an editable widget (select or raw
    # id) would query each label again for every rate. New rates come through the API, which
    # checks them against the card's credit types (services/rate_cards.py). The JSON columns
    # are shown, not edited: two 40-column text areas per row pushed the page past 1400 px.
    readonly_fields = ("product", "credit_type", "pricing_groups", "rate_details")
    show_change_link = False

    @admin.display(description="pricing group values")
    def pricing_groups(self, rate: Rate) -> str:
        return pretty_json(rate.pricing_group_values, compact=True)

    @admin.display(description="details")
    def rate_details(self, rate: Rate) -> str:
        return pretty_json(rate.details, compact=True)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product", "credit_type")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class RateCardAliasInline(admin.TabularInline):
    """The card's alias schedule, history included; changed through the API or alias tools."""

    model = AliasAssignment
    fk_name = "rate_card"
    extra = 0
    can_delete = False
    verbose_name = "alias interval"
    verbose_name_plural = "alias schedule"
    fields = ("alias_name", "starting_at", "ending_before", "superseded_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("alias_name").order_by("starting_at")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RateCard)
class RateCardAdmin(ArchiveOnlyAdmin):
    list_display = (
        "name",
        "fiat_credit_type",
        "rate_count",
        "created_by",
        "created_at",
        "archived_at",
    )
    list_filter = (ArchivedFilter, "fiat_credit_type")
    list_select_related = ("fiat_credit_type",)
    search_fields = ("name", "description", "alias_assignments__alias_name__name", "=id")
    readonly_fields = ("id", "created_at", "created_by", "archived_at")
    inlines = [RateInline, RateCardAliasInline]
    actions = [archive_action(lambda qs: rate_cards_archive(queryset=qs), "rate cards")]

    def get_queryset(self, request):
        # The count is a column of the page's one query, not a query per row.
        return super().get_queryset(request).annotate(rate_count=Count("rates"))

    @admin.display(description="rates", ordering="rate_count")
    def rate_count(self, obj) -> int:
        return obj.rate_count
