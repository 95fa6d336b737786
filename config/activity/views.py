"""/activity/: the audit trail in the browser, and the "History" fragment of object pages."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render
from django.urls import reverse

from config.activity.forms import ActivityFilterForm
from config.audit import presenters
from config.audit.selectors import (
    DESC,
    audit_entries,
    audit_page,
    batch_groups,
    entries_one_per_batch,
    resource_history,
)
from config.core.errors import ValidationFailed
from config.web import render_page

PAGE_SIZE = 50
MEMBERS_SHOWN = 50  # entries of one grouped transaction shown when it is expanded


def _day_start(day: dt.date | None) -> dt.datetime | None:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC) if day else None


@login_required
@permission_required("audit.view_auditlogentry", raise_exception=True)
def activity(request):
    form = ActivityFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    entries = audit_entries(
        resource_type=filters.get("resource_type"),
        resource_id=filters.get("resource_id"),
        actor=filters.get("actor"),
        starting_on=_day_start(filters.get("since")),
        ending_before=_day_start(
            filters["until"] + dt.timedelta(days=1) if filters.get("until") else None
        ),
        xact_id=filters.get("xact"),
    )
    if filters.get("channel"):
        entries = entries.filter(channel=filters["channel"])
    htmx_target = getattr(getattr(request, "htmx", None), "target", None) or ""
    if filters.get("xact") and htmx_target.startswith("group-"):
        # A grouped row expanded in place: its first entries, and a link to all of them.
        page = audit_page(entries, limit=MEMBERS_SHOWN, cursor=None, sort=DESC)
        context = {
            "rows": presenters.entry_rows(page.items),
            "all_url": f"{reverse('audit:activity')}?{urlencode({'xact': filters['xact']})}",
            "more": page.next_cursor is not None,
        }
        return render(request, "audit/activity.html#members", context)
    # One row per batch unless one object's or one transaction's entries were asked for.
    grouped = not filters.get("resource_id") and not filters.get("xact")
    listed = entries_one_per_batch(entries) if grouped else entries
    try:
        page = audit_page(listed, limit=PAGE_SIZE, cursor=request.GET.get("after"), sort=DESC)
    except ValidationFailed:  # a stale or edited cursor: start again from the newest
        page = audit_page(listed, limit=PAGE_SIZE, cursor=None, sort=DESC)
    groups = batch_groups(entries, page.items) if grouped else {}
    kept = {key: value for key, value in request.GET.items() if key != "after" and value}
    next_url = f"?{urlencode({**kept, 'after': page.next_cursor})}" if page.next_cursor else None
    context = {
        "form": form,
        "rows": presenters.activity_rows(page.items, groups),
        "next_url": next_url,
        "first_url": f"?{urlencode(kept)}" if "after" in request.GET else None,
        "xact": filters.get("xact"),
    }
    return render_page(request, "audit/activity.html", context, default="entries")


@login_required
@permission_required("audit.view_auditlogentry", raise_exception=True)
def history(request, resource_type: str, resource_id: str):
    """The newest entries of one resource, for an object page's "History" section."""
    context = {
        "rows": presenters.entry_rows(
            resource_history(resource_type=resource_type, resource_id=resource_id)
        ),
        "resource_label": presenters.resource_label(resource_type),
        "all_url": reverse("audit:activity")
        + "?"
        + urlencode({"resource_type": resource_type, "resource_id": resource_id}),
    }
    return render(request, "audit/_history.html", context)
