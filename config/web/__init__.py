"""The browser UI's page toolkit: pages are declarations on a few bases.

- `htmx_partial(request)` / `render_page(...)`: "fragment or full page?", decided once.
- `ObjectListView` (paginated table), `KeysetListView` ("Load more"), `ObjectDetailView`
  (panels), `ServiceFormView` (form → API serializer → service → errors beside fields).
- `config.web.forms`: the form plumbing every app's forms share.
"""

from config.web.csv import csv_response
from config.web.htmx import fragment_for, htmx_partial, redirect_after_write, render_page
from config.web.lists import KeysetListView, Link, ObjectListView, page_or_first
from config.web.views import ObjectDetailView, ServiceFormView

__all__ = [
    "KeysetListView",
    "Link",
    "ObjectDetailView",
    "ObjectListView",
    "ServiceFormView",
    "csv_response",
    "fragment_for",
    "htmx_partial",
    "page_or_first",
    "redirect_after_write",
    "render_page",
]
