"""Admin for cohort migrations: a read-only view of jobs (status, counts, source → target) and
their items, paginated and filtered by status and reason. Jobs are created, cancelled and
reverted through the API, the CLI or (later) the UI, which call the services."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Q, Sum
from django.urls import reverse
from django.utils.html import format_html

from config.admin import ShortIdsAdminMixin, ViewOnlyAdminMixin
from contracts_app.models import CohortMigration, CohortMigrationItem


@admin.register(CohortMigration)
class CohortMigrationAdmin(ShortIdsAdminMixin, ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "name",
        "status",
        "source_package",
        "target_display",
        "timing",
        "run_at",
        "counts",
        "items_link",
    ]
    list_select_related = ["source_package", "target_package"]
    list_filter = ["status", "timing"]
    search_fields = ["=id", "name", "=source_package__id", "=target_package__id"]
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    readonly_fields = [
        "id",
        "name",
        "status",
        "source",
        "source_package",
        "target",
        "target_package",
        "target_alias",
        "effective",
        "edited_contracts",
        "run_at",
        "created_by",
        "uniqueness_key",
        "created_at",
        "started_at",
        "finished_at",
        "revert_started_at",
        "last_error",
        "items_link",
    ]
    fields = readonly_fields

    def get_queryset(self, request):
        # Counts from the per-batch counter rows, summed in the page's one query.
        return (
            super()
            .get_queryset(request)
            .annotate(
                sum_total=Sum("progress__total"),
                sum_migrated=Sum("progress__migrated"),
                sum_skipped=Sum("progress__skipped"),
                sum_failed=Sum("progress__failed"),
            )
        )

    @admin.display(description="target")
    def target_display(self, obj):
        return obj.target_package or f"alias {obj.target_alias!r}"

    @admin.display(description="contracts", ordering="sum_total")
    def counts(self, obj):
        """The four counters in one column (four columns pushed the list past 1400 px)."""
        return format_html(
            "{} of {} migrated<br>{} skipped · {} failed",
            obj.sum_migrated or 0,
            obj.sum_total or 0,
            obj.sum_skipped or 0,
            obj.sum_failed or 0,
        )

    @admin.display(description="items")
    def items_link(self, obj):
        url = reverse("admin:contracts_app_cohortmigrationitem_changelist")
        return format_html('<a href="{}?migration__id__exact={}">items</a>', url, obj.id)


class HasNewContract(admin.SimpleListFilter):
    title = "new contract"
    parameter_name = "new_contract"

    def lookups(self, request, model_admin):
        return [("yes", "Has one"), ("no", "None")]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(
                ~Q(new_contract=None) if self.value() == "yes" else Q(new_contract=None)
            )
        return queryset


@admin.register(CohortMigrationItem)
class CohortMigrationItemAdmin(ShortIdsAdminMixin, ViewOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "migration_id",
        "contract_id",
        "customer_id",
        "status",
        "reason",
        "effective_at",
        "new_contract_id",
        "message",
    ]
    list_filter = ["status", "reason", HasNewContract]
    search_fields = ["=contract__id", "=customer__id", "=migration__id"]
    ordering = ["migration", "id"]
    show_full_result_count = False
    list_per_page = 100
    readonly_fields = [
        "migration",
        "contract",
        "customer",
        "status",
        "reason",
        "message",
        "effective_at",
        "target_package",
        "new_contract",
    ]
    fields = readonly_fields
