"""Admin for packages and alias names.

Packages are immutable (DESIGN.md §3): the admin shows them, terms and alias intervals inline,
and can archive them through the service; it never adds, edits or deletes. Alias names show
their whole schedule, superseded rows included, since history is the point of keeping them.
Changelists annotate or select what their columns show, so a page costs a fixed number of
queries whatever its length.
"""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, Q

from config.admin import (
    ArchivedFilter,
    LargeTableAdminMixin,
    ReadOnlyInline,
    ShortIdsAdminMixin,
    ViewOnlyAdminMixin,
    archive_action,
    pretty_json,
)
from packages_app.models import (
    PACKAGE_CONTRACT_SETTINGS,
    AliasAssignment,
    AliasName,
    Package,
    PackageTerm,
)
from packages_app.services.packages import packages_archive


class PackageTermInline(ReadOnlyInline):
    model = PackageTerm
    fields = readonly_fields = ("kind", "ordinal", "product", "id", "term_body")
    ordering = ("kind", "ordinal")

    @admin.display(description="body")
    def term_body(self, term: PackageTerm) -> str:
        return pretty_json(term.body)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("product")


class PackageAliasInline(ReadOnlyInline):
    model = AliasAssignment
    verbose_name = "alias interval"
    verbose_name_plural = "alias intervals (superseded ones included)"
    fields = readonly_fields = ("alias_name", "starting_at", "ending_before", "superseded_at")
    ordering = ("starting_at", "id")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("alias_name")


@admin.register(Package)
class PackageAdmin(ShortIdsAdminMixin, LargeTableAdminMixin, ViewOnlyAdminMixin, admin.ModelAdmin):
    """Immutable: viewable and archivable, never added, edited or deleted here."""

    list_display = (
        "name",
        "id",
        "rate_card",
        "billing_provider",
        "term_count",
        "created_by",
        "created_at",
        "archived_at",
    )
    # (the uniqueness key is on the package's page and searchable: a column for it pushed
    # the list past 1400 px)
    list_select_related = ("rate_card",)
    list_filter = (ArchivedFilter, "billing_provider")
    search_fields = ("name", "id", "uniqueness_key")
    ordering = ("-created_at", "-id")
    inlines = (PackageTermInline, PackageAliasInline)
    # Packages are read-only here, so the action needs its own permission check: change_package.
    actions = (
        archive_action(lambda qs: packages_archive(packages=qs), "packages", permission="archive"),
    )
    fields = (
        "id",
        "name",
        "contract_name",
        "rate_card",
        "rate_card_alias",
        *PACKAGE_CONTRACT_SETTINGS,
        "uniqueness_key",
        "created_by",
        "created_at",
        "archived_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(term_total=Count("terms"))

    @admin.display(description="terms", ordering="term_total")
    def term_count(self, package: Package) -> int:
        return package.term_total

    def has_archive_permission(self, request) -> bool:
        return request.user.has_perm("packages_app.change_package")


class AliasScheduleInline(ReadOnlyInline):
    model = AliasAssignment
    verbose_name = "interval"
    verbose_name_plural = "schedule (superseded intervals included)"
    fields = readonly_fields = (
        "package",
        "rate_card",
        "starting_at",
        "ending_before",
        "superseded_at",
        "created_at",
    )
    ordering = ("starting_at", "id")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("package", "rate_card")


@admin.register(AliasName)
class AliasNameAdmin(ShortIdsAdminMixin, ViewOnlyAdminMixin, admin.ModelAdmin):
    """Names come and go with the packages and rate cards that carry them (via the services)."""

    list_display = ("name", "kind", "intervals", "superseded", "created_at")
    list_filter = ("kind",)
    search_fields = ("name",)
    inlines = (AliasScheduleInline,)
    fields = readonly_fields = ("name", "kind", "created_at")

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                interval_total=Count("assignments"),
                superseded_total=Count(
                    "assignments", filter=Q(assignments__superseded_at__isnull=False)
                ),
            )
        )

    @admin.display(ordering="interval_total")
    def intervals(self, alias_name: AliasName) -> int:
        return alias_name.interval_total

    @admin.display(ordering="superseded_total")
    def superseded(self, alias_name: AliasName) -> int:
        return alias_name.superseded_total
