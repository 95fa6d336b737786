"""Shared base for the browser UI's list screens (NetBox-style: views are declarations)."""

from __future__ import annotations

from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.views.generic import ListView


class ObjectListView(LoginRequiredMixin, PermissionRequiredMixin, ListView):
    """A paginated, permission-checked table; an htmx request gets just the table partial."""

    paginate_by = 50
    template_name = "core/object_list.html"
    partial_template_name = "core/object_list.html#table"
    title = ""
    columns: list[tuple[str, str]] = []  # (heading, attribute)
    raise_exception = False

    def get_template_names(self):
        if getattr(self.request, "htmx", False):
            return [self.partial_template_name]
        return [self.template_name]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["title"] = self.title
        context["columns"] = self.columns
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
