"""List pages as declarations (NetBox-style): a paginated table, and a keyset "load more" list."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.shortcuts import render
from django.urls import reverse
from django.utils.text import capfirst
from django.views import View
from django.views.generic import ListView

from config.core.errors import ValidationFailed
from config.core.pagination import keyset_paginate
from config.web.htmx import fragment_for, htmx_partial
from config.web.views import ModelPermissionMixin, ServiceFormView, model_permission, model_template


@dataclass(frozen=True)
class Link:
    """A table cell that links somewhere (`ObjectListView` rows may hold these)."""

    text: str
    url: str
    note: str = ""  # shown after the link, not linked ("from 2027-03-01")

    def __str__(self) -> str:
        return self.text


class ObjectListView(LoginRequiredMixin, ModelPermissionMixin, ListView):
    """A paginated, permission-checked table with an optional search box (`?q=`, kept in the
    URL); an htmx request gets just the table partial. Undeclared, the permission is viewing
    the model (`model`, else the queryset's), `create_permission` adding one, the template
    `<app_label>/<model_name>_list.html` (which may extend the plain `core/object_list.html`),
    the `title` the model's verbose plural ("Rate cards") and `create_label` "New <verbose name>"."""

    paginate_by = 50
    template_name = ""  # default "<app_label>/<model_name>_list.html"
    partial_template_name = "core/object_list.html#table"
    title = ""  # default the model's verbose_name_plural, capitalised
    columns: list[tuple[str, str]] = []  # (heading, attribute)
    search_fields: tuple[str, ...] = ()  # icontains lookups ORed together
    search_label = "Search by name"
    create_url_name = ""
    create_label = ""  # default "New <verbose_name>"
    create_permission = ""  # default "<app_label>.add_<model>"
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
        if htmx_partial(self.request):
            return [self.partial_template_name]
        return [self.template_name or model_template(self.permission_model(), "list")]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        names = self.permission_model()._meta
        context["title"] = self.title or capfirst(names.verbose_name_plural)
        context["columns"] = self.columns
        context["q"] = self.search_query()
        context["searchable"] = bool(self.search_fields)
        context["search_label"] = self.search_label
        context["empty_text"] = self.empty_text
        create_permission = self.create_permission or model_permission(
            self.permission_model(), "add"
        )
        if self.create_url_name and self.request.user.has_perm(create_permission):
            context["create_url"] = reverse(self.create_url_name)
            context["create_label"] = self.create_label or f"New {names.verbose_name}"
        context["rows"] = [
            {"url": self.row_url(obj), "cells": [self.cell(obj, attr) for _, attr in self.columns]}
            for obj in context["object_list"]
        ]
        return context

    def cell(self, obj, attr: str):
        """One cell: the (dotted) attribute's value; a page may return a `Link`."""
        return _resolve(obj, attr)

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


def query_string(params, keys, **extra) -> str:
    """The query string of the `keys` present in `params` (empty ones dropped), plus `extra`
    (e.g. the next page's cursor): what a "Load more" link or a download carries."""
    values = {key: params[key] for key in keys if params.get(key)}
    values.update({key: value for key, value in extra.items() if value})
    return urlencode(values)


def more_query(params, keys, next_cursor: str | None, *, cursor_param: str = "after") -> str:
    """A "Load more" link's query string: the filters `keys` kept from `params` and the next
    page's cursor; empty on the last page (no link)."""
    return query_string(params, keys, **{cursor_param: next_cursor}) if next_cursor else ""


def page_or_first(fetch, cursor: str | None):
    """`fetch(cursor)`; a forged or stale cursor starts again from the first page."""
    try:
        return fetch(cursor)
    except ValidationFailed:
        return fetch(None)


def keyset_page(queryset, cursor: str | None, *, limit: int, **options):
    """One keyset page of `queryset` (`keyset_paginate`'s `keys`, `descending`) after `cursor`;
    a forged or stale cursor starts again from the first page."""
    return page_or_first(
        lambda after: keyset_paginate(queryset, limit=limit, cursor=after, **options), cursor
    )


class KeysetListView(LoginRequiredMixin, PermissionRequiredMixin, View):
    """A keyset-paginated list with "Load more": the button asks for `?after=<cursor>` (plus
    the filters) and gets only the `rows_fragment` partial; any other htmx request gets
    `page_fragment` (e.g. the filtered table), a normal or boosted one the whole page.

    Subclasses implement `get_context_data(cursor=..., more=...)`; `more` is True when only
    the next rows are wanted, so the page's heavier parts (counts) can be skipped."""

    template_name = ""
    rows_template: str | None = None  # where `rows_fragment` is defined, if not the page's
    rows_fragment = "rows"
    page_fragment: str | None = None
    cursor_param = "after"
    raise_exception = False

    def get_context_data(self, *, cursor: str | None, more: bool) -> dict:
        raise NotImplementedError

    def get(self, request, *args, **kwargs):
        cursor = request.GET.get(self.cursor_param) or None
        more = htmx_partial(request) and cursor is not None
        context = self.get_context_data(cursor=cursor, more=more)
        if more:
            template = f"{self.rows_template or self.template_name}#{self.rows_fragment}"
        else:
            name = fragment_for(request, default=self.page_fragment)
            template = f"{self.template_name}#{name}" if name else self.template_name
        return render(request, template, context)


class ListCreateView(ServiceFormView):
    """A searchable (`?q=` on the name), paginated list with its create form above, for those
    allowed to add (`add_permission`; a POST from anyone else is refused); a written object
    brings the list back. The template gets `page`, `q` and `form` (None without the right).
    Undeclared, the permission is viewing the queryset's model, `add_permission` adding one,
    and the template `<app_label>/<model_name>_list.html`."""

    add_permission = ""
    queryset = None
    paginate_by = 50
    fragments = ("catalog-table",)
    permission_action = "view"
    template_page = "list"

    def permission_model(self):
        return self.queryset.model

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.add_permission = self.add_permission or model_permission(self.queryset.model, "add")

    def get_form(self, data=None):
        if not self.request.user.has_perm(self.add_permission):
            return None
        return super().get_form(data)

    def post(self, request, *args, **kwargs):
        if not request.user.has_perm(self.add_permission):
            raise PermissionDenied
        return super().post(request, *args, **kwargs)

    def get_context_data(self, form) -> dict:
        query = self.request.GET.get("q", "").strip()[:200]
        queryset = self.queryset.filter(name__icontains=query) if query else self.queryset
        page = Paginator(queryset, self.paginate_by).get_page(self.request.GET.get("page"))
        return {"page": page, "q": query, "form": form}

    def get_success_url(self, obj) -> str:
        return self.request.path
