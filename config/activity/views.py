"""/activity/: the audit trail in the browser, and the "History" fragment of object pages."""

from __future__ import annotations

from urllib.parse import urlencode

from django.shortcuts import render
from django.urls import reverse

from config.activity.forms import ActivityFilterForm
from config.activity.selectors import activity_entries, activity_page
from config.audit import presenters
from config.audit.selectors import DESC, audit_page, resource_history
from config.web import htmx_partial, page_or_first, page_view, query_string, render_page

PAGE_SIZE = 50
MEMBERS_SHOWN = 50  # entries of one grouped transaction shown when it is expanded


@page_view("audit.view_auditlogentry")
def activity(request):
    form = ActivityFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    target = (request.htmx.target or "") if htmx_partial(request) else ""
    if filters.get("xact") and target.startswith("group-"):
        # A grouped row expanded in place: its first entries, and a link to all of them.
        entries = activity_entries(**filters)
        page = audit_page(entries, limit=MEMBERS_SHOWN, cursor=None, sort=DESC)
        context = {
            "rows": presenters.entry_rows(page.items),
            "all_url": f"{reverse('audit:activity')}?{urlencode({'xact': filters['xact']})}",
            "more": page.next_cursor is not None,
        }
        return render(request, "audit/activity.html#members", context)
    page, groups = page_or_first(
        lambda after: activity_page(filters, limit=PAGE_SIZE, cursor=after),
        request.GET.get("after"),
    )
    kept = [key for key in request.GET if key != "after"]
    context = {
        "form": form,
        "rows": presenters.activity_rows(page.items, groups),
        "next_url": f"?{query_string(request.GET, kept, after=page.next_cursor)}"
        if page.next_cursor
        else None,
        "first_url": f"?{query_string(request.GET, kept)}" if "after" in request.GET else None,
        "xact": filters.get("xact"),
    }
    return render_page(request, "audit/activity.html", context, default="entries")


@page_view("audit.view_auditlogentry")
def history(request, resource_type: str, resource_id: str):
    """The newest entries of one resource, for an object page's "History" section."""
    query = urlencode({"resource_type": resource_type, "resource_id": resource_id})
    context = {
        "rows": presenters.entry_rows(
            resource_history(resource_type=resource_type, resource_id=resource_id)
        ),
        "resource_label": presenters.resource_label(resource_type),
        "all_url": f"{reverse('audit:activity')}?{query}",
    }
    return render(request, "audit/_history.html", context)
