"""Reads of contract edits: a contract's edit history, in order."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet

from contracts_app.models import Contract, ContractEdit


def contract_edit_history(*, contract: Contract) -> QuerySet:
    """Every edit of the contract, oldest first (one query; the entries are stored rendered)."""
    return ContractEdit.objects.filter(contract=contract).order_by("timestamp", "id")


def with_edits(queryset: QuerySet) -> QuerySet:
    """Contracts with their edits prefetched (v1 get shows amendments and `initial`)."""
    return queryset.prefetch_related(
        Prefetch("edits", queryset=ContractEdit.objects.order_by("timestamp", "id"))
    )
