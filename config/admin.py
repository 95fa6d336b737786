"""Admin building blocks shared by both apps: archive-never-delete and read-only inlines."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin, messages
from django.db.models import QuerySet


class ArchivedFilter(admin.SimpleListFilter):
    title = "archived"
    parameter_name = "archived"

    def lookups(self, request, model_admin):
        return [("no", "Active"), ("yes", "Archived")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(archived_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(archived_at__isnull=False)
        return queryset


class ViewOnlyAdminMixin:
    """Rows written only through services (immutable or derived): shown, never edited here."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyInline(ViewOnlyAdminMixin, admin.TabularInline):
    """History and materialised rows: shown, never edited from the admin."""

    extra = 0
    can_delete = False
    show_change_link = False


def archive_action(archive: Callable[[QuerySet], int], noun: str, *, permission: str = "change"):
    """An admin action that archives the selection through `archive(queryset) -> count`."""

    @admin.action(description=f"Archive selected {noun}", permissions=[permission])
    def archive_selected(modeladmin, request, queryset):
        count = archive(queryset)
        modeladmin.message_user(request, f"Archived {count} {noun}.", messages.SUCCESS)

    return archive_selected
