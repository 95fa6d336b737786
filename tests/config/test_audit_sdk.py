"""`GET /v1/auditLogs` through the official SDK in strict mode, over real HTTP."""

from __future__ import annotations

import datetime as dt

import metronome
import pytest

from config.audit.models import AuditLogEntry


def _write_some(sdk, count: int) -> list[str]:
    ids = []
    for index in range(count):
        ids.append(sdk.v1.customers.create(name=f"Customer {index}").data.id)
    return ids


def test_sdk_lists_audit_logs_in_strict_mode(sdk):
    # given writes through the API (customers created by the SDK itself)
    customer_ids = _write_some(sdk, 5)
    # when every entry is listed, two per page
    entries = list(sdk.v1.audit_logs.list(limit=2))
    # then every write is there, oldest first, in Metronome's shape
    created = [e for e in entries if e.resource_type == "customer" and e.action == "create"]
    assert [e.resource_id for e in created] == customer_ids
    first = created[0]
    assert first.status == "success"
    assert first.actor is not None and first.actor.name and first.actor.id
    assert first.request.id and first.request.ip == "127.0.0.1"
    assert first.request.user_agent and "Metronome" in first.request.user_agent
    assert first.timestamp.tzinfo is not None
    assert first.model_extra["channel"] == "api"
    timestamps = [e.timestamp for e in entries]
    assert timestamps == sorted(timestamps)


def test_sdk_filters_sorts_and_pages(sdk):
    # given
    customer_ids = _write_some(sdk, 4)
    target = customer_ids[1]
    # when filtered by resource
    only = list(sdk.v1.audit_logs.list(resource_type="customer", resource_id=target))
    # then
    assert [(e.resource_type, e.resource_id, e.action) for e in only] == [
        ("customer", target, "create")
    ]
    # newest first, paged by hand with next_page
    page = sdk.v1.audit_logs.list(sort="date_desc", limit=3)
    assert len(page.data) == 3 and page.next_page
    rest = sdk.v1.audit_logs.list(sort="date_desc", limit=3, next_page=page.next_page)
    listed = [e.resource_id for e in [*page.data, *rest.data] if e.resource_type == "customer"]
    assert listed == list(reversed(customer_ids))
    # a date window: nothing before the first write, everything from it
    first = AuditLogEntry.objects.order_by("timestamp").first().timestamp
    assert list(sdk.v1.audit_logs.list(ending_before=first)) == []
    window = list(
        sdk.v1.audit_logs.list(starting_on=first, ending_before=first + dt.timedelta(hours=1))
    )
    assert len(window) == AuditLogEntry.objects.count()


def test_audit_logs_need_the_permission_and_valid_parameters(sdk_for, sdk):
    # a token without audit.view_auditlogentry
    with pytest.raises(metronome.PermissionDeniedError):
        sdk_for("contracts_app.view_customer").v1.audit_logs.list()
    # half a resource filter, a bad sort or cursor: 400 naming the parameter
    for bad in (
        {"resource_type": "customer"},
        {"extra_query": {"sort": "sideways"}},
        {"next_page": "not-a-cursor"},
        {"extra_query": {"unknown": "1"}},
    ):
        with pytest.raises(metronome.BadRequestError):
            sdk.v1.audit_logs.list(**bad)
    # a cursor made for one direction is refused in the other
    _write_some(sdk, 3)
    page = sdk.v1.audit_logs.list(limit=1)
    with pytest.raises(metronome.BadRequestError):
        sdk.v1.audit_logs.list(limit=1, sort="date_desc", next_page=page.next_page)
