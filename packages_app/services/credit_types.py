"""Pricing units (credit types): created by name, archived, never deleted.

Packages name credit types inside their JSON terms, where no foreign key protects them, so a
credit type is archived instead: it keeps its name wherever it is shown, and new rates, rate
cards and packages may no longer use it.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from config.audit.services import audit_record, queryset_update_recorded, stamp_recorded
from config.core.errors import Conflict, NotFound, ValidationFailed
from config.core.ids import parse_uuid
from packages_app.models import CreditType


def credit_type_create(*, name: str) -> CreditType:
    try:
        with transaction.atomic():
            credit_type = CreditType.objects.create(name=name, is_currency=False)
            audit_record(
                action="create",
                resource_type="credit_type",
                resource_id=credit_type.pk,
                changes={"id": credit_type.pk, "name": name},
            )
            return credit_type
    except IntegrityError:
        raise Conflict(f"A pricing unit named {name!r} already exists", field="name") from None


@transaction.atomic
def credit_type_archive(*, credit_type_id: Any) -> CreditType:
    """One-way and idempotent (a repeat keeps the first `archived_at`). Fiat currencies are
    not custom pricing units and stay: every rate card prices in one."""
    key = parse_uuid(credit_type_id)
    credit_type = (
        CreditType.objects.select_for_update().filter(pk=key).first() if key is not None else None
    )
    if credit_type is None:
        raise NotFound(f"Pricing unit {credit_type_id} not found", field="id")
    if credit_type.is_currency:
        raise ValidationFailed(
            f"Pricing unit {credit_type_id} is a fiat currency and cannot be archived", field="id"
        )
    if credit_type.archived_at is None:
        stamp_recorded(credit_type, "archived_at", action="archive", resource_type="credit_type")
    return credit_type


def credit_types_archive(*, queryset: QuerySet[CreditType]) -> int:
    """Archive the custom (non-fiat) credit types of `queryset` in one UPDATE (admin action)."""
    return queryset_update_recorded(
        queryset.filter(archived_at__isnull=True, is_currency=False),
        action="archive",
        resource_type="credit_type",
        archived_at=timezone.now(),
    )
