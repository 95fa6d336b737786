"""/activity/: the audit trail in the browser, and the "History" fragment of object pages."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render
from django.urls import reverse

from config.activity.forms import ActivityFilterForm
from config.audit.selectors import DESC, audit_entries, audit_page, resource_history
from config.core.errors import ValidationFailed
from config.web import render_page

PAGE_SIZE = 50


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
    )
    if filters.get("channel"):
        entries = entries.filter(channel=filters["channel"])
    try:
        page = audit_page(entries, limit=PAGE_SIZE, cursor=request.GET.get("after"), sort=DESC)
    except ValidationFailed:  # a stale or edited cursor: start again from the newest
        page = audit_page(entries, limit=PAGE_SIZE, cursor=None, sort=DESC)
    kept = {key: value for key, value in request.GET.items() if key != "after" and value}
    next_url = f"?{urlencode({**kept, 'after': page.next_cursor})}" if page.next_cursor else None
    context = {
        "form": form,
        "entries": page.items,
        "next_url": next_url,
        "first_url": f"?{urlencode(kept)}" if "after" in request.GET else None,
    }
    return render_page(request, "audit/activity.html", context, default="entries")


@login_required
@permission_required("audit.view_auditlogentry", raise_exception=True)
def history(request, resource_type: str, resource_id: str):
    """The newest entries of one resource, for an object page's "History" section."""
    context = {
        "entries": resource_history(resource_type=resource_type, resource_id=resource_id),
        "all_url": reverse("audit:activity")
        + "?"
        + urlencode({"resource_type": resource_type, "resource_id": resource_id}),
    }
    return render(request, "audit/_history.html", context)
