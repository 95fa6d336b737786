"""Products: what appears on invoices, priced by rate cards.

A product's history is kept in `details`: `initial` (the state as created) and `updates` (each
with the instant it takes effect). Responses compute `current` at read time from these; the
`name` and `billable_metric` columns follow the latest update already in effect when written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from config.audit.services import (
    changed_fields,
    queryset_update_recorded,
    stamp_recorded,
)
from config.core.errors import ValidationFailed
from config.core.ids import parse_uuid
from config.core.instants import format_instant
from packages_app.models import BillableMetric, Product
from packages_app.selectors.catalog import (
    PRODUCT_STATE_FIELDS,
    product_get,
    product_state_at,
    product_state_split,
)
from packages_app.services.billable_metrics import checked_save_recorded
from packages_app.services.packages import package_wires_expire, package_wires_invalidate

USAGE_ONLY_FIELDS = (
    "billable_metric_id",
    "pricing_group_key",
    "presentation_group_key",
    "quantity_conversion",
    "quantity_rounding",
)
COMPOSITE_ONLY_FIELDS = (
    "composite_product_ids",
    "composite_tags",
    "exclude_free_usage",
    "include_composite_spend",
)
# Metronome's SDK sends either spelling; we store the long one.
TYPE_ALIASES = {"PRO_SERVICE": Product.Type.PROFESSIONAL_SERVICE}


def _usable_metric(metric_id: Any, *, allow_archived: bool = False) -> BillableMetric:
    pk = parse_uuid(metric_id)
    metric = BillableMetric.objects.filter(pk=pk).first() if pk else None
    if metric is None:
        raise ValidationFailed(
            f"Billable metric {metric_id} does not exist", field="billable_metric_id"
        )
    if metric.archived_at is not None and not allow_archived:
        raise ValidationFailed(
            f"Billable metric {metric_id} is archived", field="billable_metric_id"
        )
    return metric


def _check_state(
    *, product_type: str, state: dict[str, Any], new_metric: bool = True
) -> BillableMetric | None:
    """The type-specific rules Metronome documents; returns the USAGE product's metric.

    Only a newly chosen metric must be active: an update that keeps the metric may go through
    after that metric was archived.
    """
    given = {key for key, value in state.items() if value is not None}
    if product_type != Product.Type.USAGE:
        for field in USAGE_ONLY_FIELDS:
            if field in given:
                raise ValidationFailed(f"{field} is only valid for USAGE products", field=field)
    if product_type != Product.Type.COMPOSITE:
        for field in COMPOSITE_ONLY_FIELDS:
            if field in given:
                raise ValidationFailed(f"{field} is only valid for COMPOSITE products", field=field)

    metric = None
    if product_type == Product.Type.USAGE:
        if "billable_metric_id" not in given:
            raise ValidationFailed(
                "USAGE products need a billable_metric_id", field="billable_metric_id"
            )
        metric = _usable_metric(state["billable_metric_id"], allow_archived=not new_metric)
        grouped = set(state.get("pricing_group_key") or []) | set(
            state.get("presentation_group_key") or []
        )
        compound_keys = [set(group) for group in metric.definition.get("group_keys", [])]
        # SQL metrics declare no group keys we could check against.
        if grouped and "sql" not in metric.definition and grouped not in compound_keys:
            field = (
                "pricing_group_key" if state.get("pricing_group_key") else "presentation_group_key"
            )
            raise ValidationFailed(
                "pricing_group_key and presentation_group_key together must be one of the "
                "billable metric's group_keys",
                field=field,
            )

    if product_type == Product.Type.COMPOSITE:
        ids = state.get("composite_product_ids") or []
        if not ids and not state.get("composite_tags"):
            raise ValidationFailed(
                "COMPOSITE products need composite_product_ids or composite_tags",
                field="composite_product_ids",
            )
        known = {
            str(pk)
            for pk in Product.objects.filter(
                pk__in=[pk for pk in map(parse_uuid, ids) if pk]
            ).values_list("pk", flat=True)
        }
        for index, product_id in enumerate(ids):
            if str(parse_uuid(product_id)) not in known:
                raise ValidationFailed(
                    f"Product {product_id} does not exist",
                    field=f"composite_product_ids[{index}]",
                )
    return metric


@transaction.atomic
def product_create(
    *,
    name: str,
    type: str,
    created_by: str = "",
    attributes: dict[str, Any] | None = None,
    custom_fields: dict[str, str] | None = None,
    sql_breakdown_granularity: str | None = None,
) -> Product:
    """`attributes`: the optional state fields (PRODUCT_STATE_FIELDS other than name)."""
    product_type = TYPE_ALIASES.get(type, type)
    state = {key: value for key, value in (attributes or {}).items() if value is not None}
    unknown = set(state) - set(PRODUCT_STATE_FIELDS)
    if unknown:
        raise ValidationFailed(
            f"Unknown product field {sorted(unknown)[0]}", field=sorted(unknown)[0]
        )
    metric = _check_state(product_type=product_type, state=state)
    details: dict[str, Any] = {"initial": {"name": name, **state}, "updates": []}
    if custom_fields is not None:
        details["custom_fields"] = custom_fields
    if sql_breakdown_granularity is not None:
        details["sql_breakdown_granularity"] = sql_breakdown_granularity
    product = Product(
        type=product_type,
        name=name,
        billable_metric=metric,
        details=details,
        created_by=created_by,
    )
    checked_save_recorded(
        product,
        action="create",
        resource_type="product",
        changes={"id": product.pk, "name": name, "type": product_type},
    )
    return product


def product_create_from_body(body: dict[str, Any], *, created_by: str = "") -> Product:
    """A product from a checked `products/create` body (the API's, the product list's form):
    its state fields (`product_state_split`) are its first state, the rest its type and
    settings."""
    attributes, rest = product_state_split(body)
    return product_create(
        name=attributes.pop("name"),
        type=rest["type"],
        created_by=created_by,
        attributes=attributes,
        custom_fields=rest.get("custom_fields"),
        sql_breakdown_granularity=rest.get("sql_breakdown_granularity"),
    )


@transaction.atomic
def product_update(
    *,
    product_id: Any,
    starting_at: dt.datetime,
    created_by: str = "",
    changes: dict[str, Any],
) -> Product:
    """Schedule new values from `starting_at` (on an hour boundary, as Metronome requires)."""
    product = product_get(product_id=product_id, field="product_id")
    product = Product.objects.select_for_update().get(pk=product.pk)
    if product.archived_at is not None:
        raise ValidationFailed("An archived product cannot be updated", field="product_id")
    if (starting_at.minute, starting_at.second, starting_at.microsecond) != (0, 0, 0):
        raise ValidationFailed("starting_at must be on an hour boundary", field="starting_at")
    sql_breakdown_granularity = changes.pop("sql_breakdown_granularity", None)
    changes = {key: value for key, value in changes.items() if value is not None}
    unknown = set(changes) - set(PRODUCT_STATE_FIELDS)
    if unknown:
        raise ValidationFailed(
            f"Unknown product field {sorted(unknown)[0]}", field=sorted(unknown)[0]
        )

    state = product_state_at(product, starting_at)
    before = {key: state.get(key) for key in changes}
    state.update(changes)
    _check_state(
        product_type=product.type,
        state={key: state.get(key) for key in PRODUCT_STATE_FIELDS if key != "name"},
        new_metric="billable_metric_id" in changes,
    )

    now = timezone.now()
    update = {
        "created_at": format_instant(now),
        "created_by": created_by,
        "starting_at": format_instant(starting_at),
        **changes,
    }
    product.details = {**product.details, "updates": [*product.details.get("updates", []), update]}
    if sql_breakdown_granularity is not None:
        product.details["sql_breakdown_granularity"] = sql_breakdown_granularity
    current = product_state_at(product, now)
    renamed = current["name"] != product.name
    product.name = current["name"]
    product.billable_metric_id = parse_uuid(current.get("billable_metric_id"))
    checked_save_recorded(
        product,
        action="update",
        resource_type="product",
        description=f"from {format_instant(starting_at)}",
        changes=changed_fields(before, changes),
    )
    # Packages show the name: they render again at their next read, or from the instant a
    # scheduled rename takes effect.
    if renamed:
        package_wires_invalidate(product_ids=[product.pk])
    if "name" in changes and starting_at > now:
        package_wires_expire(product_ids=[product.pk], at=starting_at)
    return product


@transaction.atomic
def product_archive(*, product_id: Any) -> Product:
    """One-way and idempotent. Rates already using the product keep working; new ones may not."""
    product = product_get(product_id=product_id, field="product_id")
    if product.archived_at is None:
        stamp_recorded(
            product,
            "archived_at",
            action="archive",
            resource_type="product",
            also_saved=["updated_at"],
        )
    return product


def products_archive(*, queryset) -> int:
    """Archive every not-yet-archived product of `queryset` in one UPDATE (admin bulk action)."""
    now = timezone.now()
    return queryset_update_recorded(
        queryset.filter(archived_at__isnull=True),
        action="archive",
        resource_type="product",
        archived_at=now,
        updated_at=now,
    )
