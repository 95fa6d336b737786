"""Shared base for the browser UI's list screens (NetBox-style: views are declarations)."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.db.models import Q
from django.urls import reverse
from django.views.generic import ListView

from config.core.instants import format_instant_to_second


class ObjectListView(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    """A paginated, permission-checked table with an optional search box (`?q=`, kept in the
    URL); an htmx request gets just the table partial."""

    paginate_by = 50
    template_name = "core/object_list.html"
    partial_template_name = "core/object_list.html#table"
    title = ""
    columns: list[tuple[str, str]] = []  # (heading, attribute)
    search_fields: tuple[str, ...] = ()  # icontains lookups ORed together
    search_label = "Search by name"
    create_url_name = ""
    create_label = ""
    create_permission = ""
    empty_text = "Nothing here yet."
    raise_exception = False

    def get_queryset(self):
        queryset = super().get_queryset()
        query = self.search_query()
        if query and self.search_fields:
            condition = Q()
            for lookup in self.search_fields:
                condition |= Q(**{lookup if "__" in lookup else f"{lookup}__icontains": query})
            queryset = queryset.filter(condition)
        return queryset

    def search_query(self) -> str:
        return self.request.GET.get("q", "").strip()[:200]

    def get_template_names(self):
        if getattr(self.request, "htmx", False) and not self.request.htmx.boosted:
            return [self.partial_template_name]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = self.title
        context["columns"] = self.columns
        context["q"] = self.search_query()
        context["searchable"] = bool(self.search_fields)
        context["search_label"] = self.search_label
        context["empty_text"] = self.empty_text
        if self.create_url_name and (
            not self.create_permission or self.request.user.has_perm(self.create_permission)
        ):
            context["create_url"] = reverse(self.create_url_name)
            context["create_label"] = self.create_label
        context["rows"] = [
            {"url": self.row_url(obj), "cells": [_resolve(obj, attr) for _, attr in self.columns]}
            for obj in context["object_list"]
        ]
        return context

    def row_url(self, obj) -> str | None:
        """Where the first cell of a row links to (none by default)."""
        return None


def _resolve(obj, dotted: str):
    value = obj
    for part in dotted.split("."):
        value = getattr(value, part, None)
        if value is None:
            return ""
    return value() if callable(value) else value


def redirect_after_write(request, url: str):
    """After a successful write: a normal redirect, or for htmx a client-side one (htmx would
    otherwise follow a 302 inside its XHR and swap the next page into the form)."""
    from django.http import HttpResponseRedirect
    from django_htmx.http import HttpResponseClientRedirect

    if getattr(request, "htmx", False):
        return HttpResponseClientRedirect(url)
    return HttpResponseRedirect(url)


class _Echo:
    """A file-like object whose write returns the line (csv.writer into a generator)."""

    def write(self, value: str) -> str:
        return value


def csv_response(filename: str, header: list[str], rows, *, chunk_size: int = 2000):
    """A streamed CSV download of `rows` (a queryset of value tuples, read in chunks with a
    server-side cursor, so memory stays flat whatever the count). Times as RFC 3339, UTC."""
    import csv
    import datetime as dt

    from django.http import StreamingHttpResponse

    writer = csv.writer(_Echo())

    def cell(value):
        if isinstance(value, dt.datetime):
            return format_instant_to_second(value)
        return "" if value is None else value

    from config.db_router import read_alias

    rows = rows.using(read_alias())  # the read replica when one is configured

    def lines():
        yield writer.writerow(header)
        for row in rows.iterator(chunk_size=chunk_size):
            yield writer.writerow([cell(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
