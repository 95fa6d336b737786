"""The browser UI's page toolkit: pages are declarations on a few bases.

- `htmx_partial(request)` / `render_page(...)`: "fragment or full page?", decided once.
- `ObjectListView` (paginated table), `KeysetListView` ("Load more"), `ListCreateView` (a
  searchable list with its create form), `ObjectDetailView` (panels), `ServiceFormView` (form →
  API serializer → service → errors beside fields; the uniqueness-conflict redirect),
  `ObjectFormView` (a form posted from an object's page), `ObjectActionView` (a one-way button
  whose page says what it changes, then POST).
- `page_view(permission)`: a function page's login and permission guard.
- `query_string` (filters kept in links), `more_query` (a "Load more" link's), `keyset_page`
  (a keyset page; a stale cursor starts over), `csv_response` / `csv_download` /
  `invalid_filters`.
- `config.web.forms`: the form plumbing every app's forms share.
"""

from config.web.csv import csv_download, csv_response, invalid_filters
from config.web.htmx import fragment_for, htmx_partial, redirect_after_write, render_page
from config.web.lists import (
    KeysetListView,
    Link,
    ListCreateView,
    ObjectListView,
    keyset_page,
    more_query,
    page_or_first,
    query_string,
)
from config.web.views import (
    ObjectActionView,
    ObjectDetailView,
    ObjectFormView,
    ServiceFormView,
    page_view,
)

__all__ = [
    "KeysetListView",
    "Link",
    "ListCreateView",
    "ObjectActionView",
    "ObjectDetailView",
    "ObjectFormView",
    "ObjectListView",
    "ServiceFormView",
    "csv_download",
    "csv_response",
    "fragment_for",
    "htmx_partial",
    "invalid_filters",
    "keyset_page",
    "more_query",
    "page_or_first",
    "page_view",
    "query_string",
    "redirect_after_write",
    "render_page",
]
