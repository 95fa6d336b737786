"""Billable metrics: what usage is counted and how (Metronome's streaming or SQL metrics)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone

from config.audit.services import (
    audit_record,
    changed_fields,
    queryset_update_recorded,
    stamp_recorded,
)
from config.core.errors import ValidationFailed
from packages_app.models import BillableMetric
from packages_app.selectors.catalog import billable_metric_get

# Kept in `definition`; `sql` excludes every one of them except custom_fields.
STREAMING_FIELDS = ("event_type_filter", "property_filters", "group_keys")


def full_clean_or_400(instance: models.Model, *, field_prefix: str = "") -> None:
    """`full_clean()`, with Django's ValidationError turned into our 400 naming the field.

    Services check their rules first with precise field names; this is the model's backstop.
    """
    try:
        instance.full_clean()
    except ValidationError as exc:
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        name, messages = next(iter(errors.items()))
        field = name if name and name != "__all__" else None
        if field and field_prefix:
            field = f"{field_prefix}.{field}"
        raise ValidationFailed(" ".join(messages), field=field or field_prefix or None) from None


def checked_save_recorded(
    row: models.Model, *, action: str, resource_type: str, changes: dict, description: str = ""
) -> None:
    """Check the row (`full_clean_or_400`), save it and record the write, in the caller's
    transaction."""
    full_clean_or_400(row)
    row.save()
    audit_record(
        action=action,
        resource_type=resource_type,
        resource_id=row.pk,
        description=description,
        changes=changes,
    )


def _check_definition(
    *,
    aggregation_type: str | None,
    aggregation_key: str | None,
    event_type_filter: dict | None,
    property_filters: list[dict] | None,
    group_keys: list[list[str]] | None,
    sql: str | None,
) -> None:
    if sql is not None:
        given = {
            "aggregation_type": aggregation_type,
            "aggregation_key": aggregation_key,
            "event_type_filter": event_type_filter,
            "property_filters": property_filters,
            "group_keys": group_keys,
        }
        for field, value in given.items():
            if value is not None:
                raise ValidationFailed(f"{field} cannot be combined with sql", field=field)
        return
    if aggregation_type is None:
        raise ValidationFailed(
            "aggregation_type is required unless sql is given", field="aggregation_type"
        )
    if aggregation_type != "COUNT" and not aggregation_key:
        raise ValidationFailed(
            f"aggregation_key is required for {aggregation_type} metrics", field="aggregation_key"
        )
    filter_names = {item["name"] for item in property_filters or []}
    # Metronome aggregates and groups on properties the metric filters on.
    if aggregation_key and aggregation_key not in filter_names:
        raise ValidationFailed(
            "aggregation_key must be the name of one of the property_filters",
            field="aggregation_key",
        )
    for index, group in enumerate(group_keys or []):
        unknown = [key for key in group if key not in filter_names]
        if unknown:
            raise ValidationFailed(
                f"group key {unknown[0]!r} is not the name of one of the property_filters",
                field=f"group_keys[{index}]",
            )


@transaction.atomic
def billable_metric_create(
    *,
    name: str,
    aggregation_type: str | None = None,
    aggregation_key: str | None = None,
    event_type_filter: dict | None = None,
    property_filters: list[dict] | None = None,
    group_keys: list[list[str]] | None = None,
    sql: str | None = None,
    custom_fields: dict[str, str] | None = None,
) -> BillableMetric:
    _check_definition(
        aggregation_type=aggregation_type,
        aggregation_key=aggregation_key,
        event_type_filter=event_type_filter,
        property_filters=property_filters,
        group_keys=group_keys,
        sql=sql,
    )
    definition: dict[str, Any] = {
        key: value
        for key, value in {
            "event_type_filter": event_type_filter,
            "property_filters": property_filters,
            "group_keys": group_keys,
            "sql": sql,
            "custom_fields": custom_fields,
        }.items()
        if value is not None
    }
    metric = BillableMetric(
        name=name,
        aggregation_type=aggregation_type or "",
        aggregation_key=aggregation_key or "",
        definition=definition,
    )
    checked_save_recorded(
        metric,
        action="create",
        resource_type="billable_metric",
        changes={"id": metric.pk, "name": name},
    )
    return metric


@transaction.atomic
def billable_metric_rename(*, billable_metric_id: Any, name: str) -> BillableMetric:
    """Only the name changes: the definition is fixed once usage may have been counted with it."""
    metric = billable_metric_get(billable_metric_id=billable_metric_id, field="billable_metric_id")
    before = metric.name
    metric.name = name
    metric.save(update_fields=["name"])
    audit_record(
        action="update",
        resource_type="billable_metric",
        resource_id=metric.pk,
        changes=changed_fields({"name": before}, {"name": name}),
    )
    return metric


@transaction.atomic
def billable_metric_archive(*, billable_metric_id: Any) -> BillableMetric:
    """Archiving is one-way and idempotent: a second archive keeps the first timestamp."""
    metric = billable_metric_get(billable_metric_id=billable_metric_id, field="id")
    if metric.archived_at is None:
        stamp_recorded(metric, "archived_at", action="archive", resource_type="billable_metric")
    return metric


def billable_metrics_archive(*, queryset) -> int:
    """Archive every not-yet-archived metric of `queryset` in one UPDATE (admin bulk action)."""
    return queryset_update_recorded(
        queryset.filter(archived_at__isnull=True),
        action="archive",
        resource_type="billable_metric",
        archived_at=timezone.now(),
    )
