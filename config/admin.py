"""Admin building blocks shared by both apps: archive-never-delete, read-only inlines, and
changelists that stay fast on tables of millions of rows."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Paginator
from django.db import connections, models
from django.db.models import QuerySet
from django.utils.functional import cached_property
from django.utils.html import format_html

from config.core.jsonutil import ExactDecimalEncoder


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


# --- admin at scale --------------------------------------------------------------------------


class EstimatedCountPaginator(Paginator):
    """A changelist paginator that never counts millions of rows.

    It counts at most COUNT_CAP rows (`SELECT COUNT(*) FROM (... LIMIT n)`, cheap whatever the
    table). Past that it answers PostgreSQL's estimate: the table's `reltuples` when the list is
    unfiltered, the planner's row estimate for the filtered query otherwise. Page numbers past
    the true end then show an empty page, which beats a COUNT(*) that takes seconds.
    """

    COUNT_CAP = 10_000

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        counted = queryset[: self.COUNT_CAP + 1].count()
        if counted <= self.COUNT_CAP:
            return counted
        return max(self._estimate(queryset), counted)

    @staticmethod
    def _estimate(queryset: QuerySet) -> int:
        with connections[queryset.db].cursor() as cursor:
            if not queryset.query.where:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [queryset.model._meta.db_table],
                )
                row = cursor.fetchone()
                return int(row[0]) if row else 0
            sql, params = queryset.order_by().query.sql_with_params()
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            return int(plan[0]["Plan"]["Plan Rows"])


class LargeTableAdminMixin:
    """Changelists of tables that grow to millions of rows (contracts, customers, ...)."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False  # no second COUNT of the whole table


def plain_decimal(value: Decimal | None) -> str:
    """`12.50000000000000000000` as `12.5` (no exponent: `1E+2` is shown as `100`)."""
    if value is None:
        return ""
    return format(value.normalize(), "f")


def pretty_json(value: Any, *, compact: bool = False) -> str:
    """JSON for read-only admin fields (amounts keep every digit): indented, or `compact` (one
    wrapping line, for narrow table cells)."""
    if value in (None, {}, []):
        return "-"
    indent = None if compact else 2
    text = json.dumps(value, cls=ExactDecimalEncoder, indent=indent, sort_keys=True)
    css = "json-body compact" if compact else "json-body"
    return format_html('<pre class="{}">{}</pre>', css, text)


# --- ids in changelists ----------------------------------------------------------------------

SHORT_ID_CHARS = 8


def short_id(value: Any) -> str:
    """An id cell: its first 8 characters, the whole id in the title (hover, copy from the
    object's page); a 36-character UUID column pushed the other columns off a 1400 px screen."""
    if value in (None, ""):
        return "-"
    text = str(value)
    if len(text) <= SHORT_ID_CHARS + 1:
        return text
    return format_html('<span class="short-id" title="{}">{}…</span>', text, text[:SHORT_ID_CHARS])


def _short_id_column(name: str, label: str) -> Callable[[Any], str]:
    def column(obj) -> str:
        return short_id(getattr(obj, name))

    column.short_description = label  # type: ignore[attr-defined]
    column.admin_order_field = name  # type: ignore[attr-defined]
    return column


class ShortIdsAdminMixin:
    """Changelists show UUID columns (the id, a foreign key's `*_id`, and the names in
    `short_id_fields`) as their first 8 characters with the whole id in a title, so that a
    list of seven columns fits 1400 px beside the admin's sidebar. Search by id still takes
    the whole id (`search_fields = ["=id", …]`)."""

    short_id_fields: tuple[str, ...] = ()

    def _is_id_column(self, name: str) -> tuple[bool, str]:
        """Whether `name` is a UUID column (the field, or a foreign key's `*_id` to a UUID
        key), and its heading."""
        if name in self.short_id_fields:
            return True, name.replace("_", " ")
        try:
            field = self.model._meta.get_field(name)  # a name or a foreign key's attname
        except FieldDoesNotExist:  # a method or an admin callable
            return False, ""
        if field.is_relation and field.many_to_one and name == field.attname:
            return isinstance(field.target_field, models.UUIDField), str(field.verbose_name)
        return isinstance(field, models.UUIDField), str(getattr(field, "verbose_name", name))

    def get_list_display(self, request):
        # Each UUID column becomes `<name>_short`, an attribute of this admin (so its header
        # and cells get the classes `column-<name>_short` / `field-<name>_short`).
        columns = []
        for name in super().get_list_display(request):
            if isinstance(name, str):
                is_id, label = self._is_id_column(name)
                if is_id:
                    if not hasattr(self, f"{name}_short"):
                        setattr(self, f"{name}_short", _short_id_column(name, label))
                    name = f"{name}_short"
            columns.append(name)
        return columns

    def get_list_display_links(self, request, list_display):
        links = super().get_list_display_links(request, list_display)
        if not links:
            return links
        return [f"{name}_short" if f"{name}_short" in list_display else name for name in links]
