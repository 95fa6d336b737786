"""Changes to existing contracts: end date, archive."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from config.api.errors import ValidationFailed
from contracts_app.models import Contract
from contracts_app.services.provisioning import as_utc


@transaction.atomic
def contract_update_end_date(*, contract: Contract, ending_before: datetime | None) -> Contract:
    """Move the contract's end (None: open-ended). The initial end stays recorded for `initial`."""
    ending_before = as_utc(ending_before)
    if contract.archived_at is not None:
        raise ValidationFailed("An archived contract cannot be changed", field="contract_id")
    if ending_before is not None and ending_before <= contract.starting_at:
        raise ValidationFailed(
            "ending_before must be after the contract's starting_at", field="ending_before"
        )
    contract.ending_before = ending_before
    contract.save(update_fields=["ending_before"])
    return contract


@transaction.atomic
def contracts_archive(*, queryset) -> int:
    """Archive many contracts in one UPDATE (admin action); already archived ones keep their date."""
    return queryset.filter(archived_at__isnull=True).update(archived_at=timezone.now())


def contract_archive(*, contract: Contract) -> Contract:
    """Archive for good (one way). Archiving an archived contract changes nothing."""
    if contract.archived_at is None:
        contract.archived_at = timezone.now()
        contract.save(update_fields=["archived_at"])
    return contract
