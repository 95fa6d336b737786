"""Changes to existing contracts: end date, archive."""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from config.audit.services import queryset_update_recorded, stamp_recorded
from config.webhooks.services import events_record
from contracts_app.models import Contract
from contracts_app.services.contract_ends import contract_end_move
from contracts_app.services.provisioning import as_utc
from contracts_app.services.timeline_locks import lock_timelines


@transaction.atomic
def contract_update_end_date(*, contract: Contract, ending_before: datetime | None) -> Contract:
    """Move the contract's end (None: open-ended), its terms with it (services.contract_ends).
    The initial end stays recorded for `initial`.

    Locks the contract's subscription row, then the contract (timeline_locks), so
    the end is decided against the subscription's timeline as it stands; an end overlapping the
    next contract of the subscription is a 409 naming `ending_before`.
    """
    current = lock_timelines([contract.id])[contract.id]
    contract_end_move(contract=current, ending_before=as_utc(ending_before))
    contract.ending_before, contract.settings = current.ending_before, current.settings
    return contract


@transaction.atomic
def contracts_archive(*, queryset) -> int:
    """Archive many contracts in one UPDATE (admin action); already archived ones keep their date."""
    return queryset_update_recorded(
        queryset.filter(archived_at__isnull=True),
        action="archive",
        resource_type="contract",
        archived_at=timezone.now(),
    )


@transaction.atomic
def contract_archive(*, contract: Contract) -> Contract:
    """Archive for good (one way). Archiving an archived contract changes nothing."""
    if contract.archived_at is None:
        stamp_recorded(contract, "archived_at", action="archive", resource_type="contract")
        events_record("contract.archived", {"id": contract.pk, "customer_id": contract.customer_id})
    return contract
