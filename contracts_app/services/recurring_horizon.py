"""Keep the recurring commits and credits of open-ended contracts materialised ahead of today.

Provisioning expands an open-ended recurring term OPEN_ENDED_HORIZON past its start; this service,
run by a beat task, appends the periods that start before `now + RECURRING_HORIZON`, so a
contract started years ago still shows every credit of the coming year. Periods are computed by
the same `expand_recurring` as provisioning (period k from the origin, never chained), so an
extended contract holds exactly what provisioning it today would.

Work goes in batches of recurring terms ordered by id (the id is the cursor), each batch one
transaction with a fixed number of statements. The contracts of a batch are locked
FOR UPDATE SKIP LOCKED: a contract whose end is being moved right now is skipped and picked up
by the next run. Re-running adds nothing: periods already stored are skipped by their start.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Max

from config.audit.services import audit_record_many
from contracts_app.models import Contract, ContractTerm
from contracts_app.services.materialise import TermRow, expand_recurring, shift
from contracts_app.services.term_rows import contract_terms_write_many
from packages_app.models import PackageTerm

RECURRING_HORIZON = ("MONTHS", 12)
# A batch is a few hundred terms: each brings its periods (a few dozen rows) into memory and one
# INSERT; small enough to keep the transaction short, large enough to amortise the statements.
BATCH_SIZE = 200
_RECURRING = ("recurring_commit", "recurring_credit")


@dataclass(frozen=True)
class HorizonBatch:
    terms_seen: int
    periods_added: int
    last_term_id: uuid.UUID | None


def _open_ended_recurring_terms(after_id: uuid.UUID | None):
    terms = ContractTerm.objects.filter(
        kind__in=_RECURRING,
        ending_before__isnull=True,
        contract__ending_before__isnull=True,
        contract__archived_at__isnull=True,
    )
    if after_id is not None:
        terms = terms.filter(id__gt=after_id)
    return terms.order_by("id")


def _locked_open_contracts(batch: list[tuple[uuid.UUID, uuid.UUID]]) -> dict[uuid.UUID, Contract]:
    """The batch's contracts still without an end, locked (busy ones skipped), by id; with
    what the periods need."""
    return {
        contract.id: contract
        for contract in Contract.objects.select_for_update(skip_locked=True)
        .filter(id__in={contract_id for _, contract_id in batch}, ending_before__isnull=True)
        .only("id", "starting_at", "settings")
    }


def _next_ordinals(contract_ids: list[uuid.UUID]) -> dict[tuple[uuid.UUID, str], int]:
    """{(contract id, "commit" or "credit"): the ordinal its next such term takes}."""
    next_ordinal: dict[tuple[uuid.UUID, str], int] = {}
    for row in (
        ContractTerm.objects.filter(contract_id__in=contract_ids, kind__in=("commit", "credit"))
        .values("contract_id", "kind")
        .annotate(last=Max("ordinal"))
        .order_by()
    ):
        next_ordinal[(row["contract_id"], row["kind"])] = row["last"] + 1
    return next_ordinal


def _stored_period_starts(terms: list[ContractTerm]) -> dict[uuid.UUID, set[dt.datetime]]:
    """{recurring term id: starts of the periods it already generated}."""
    stored: dict[uuid.UUID, set[dt.datetime]] = defaultdict(set)
    for generated_from_id, starting_at in ContractTerm.objects.filter(
        generated_from_id__in=[t.id for t in terms]
    ).values_list("generated_from_id", "starting_at"):
        stored[generated_from_id].add(starting_at)
    return stored


def _periods_to_add(
    term: ContractTerm,
    contract: Contract,
    *,
    offsets: dict,
    stored: set[dt.datetime],
    next_ordinal: dict[tuple[uuid.UUID, str], int],
    until: dt.datetime,
) -> list[tuple[uuid.UUID, TermRow]]:
    """(contract id, period) for each period of `term` starting before `until` and not stored
    yet, numbered on from the contract's last commit (or credit); advances `next_ordinal`."""
    usage = (contract.settings or {}).get("usage_statement_schedule") or {}
    if term.package_term_id:  # periods count from the contract start, as provisioned
        origin, base_offsets = contract.starting_at, [offsets.get(term.package_term_id)]
    else:
        origin, base_offsets = term.starting_at, []
    child_kind = "commit" if term.kind == "recurring_commit" else "credit"
    periods = expand_recurring(
        TermRow(
            kind=term.kind,
            ordinal=0,
            body=term.body,
            id=term.id,
            package_term_id=term.package_term_id,
            starting_at=term.starting_at,
            ending_before=None,
        ),
        origin=origin,
        base_offsets=base_offsets,
        usage_frequency=usage.get("frequency") or "MONTHLY",
        first_ordinal=0,
        field_name=term.kind,
        first_period=len(stored),
        open_ended_until=until,
    )
    key = (contract.id, child_kind)
    new_rows: list[tuple[uuid.UUID, TermRow]] = []
    for period in periods:
        if period.starting_at in stored:
            continue
        period.ordinal = next_ordinal.get(key, 0)
        next_ordinal[key] = period.ordinal + 1
        new_rows.append((contract.id, period))
    return new_rows


def _audit_extended(new_rows: list[tuple[uuid.UUID, TermRow]]) -> None:
    """One audit entry per contract that got periods, saying how many."""
    added_per_contract: dict[uuid.UUID, int] = defaultdict(int)
    for contract_id, _period in new_rows:
        added_per_contract[contract_id] += 1
    audit_record_many(
        action="extend_recurring_terms",
        resource_type="contract",
        resource_ids=list(added_per_contract),
        description="Recurring commits and credits materialised 12 months ahead",
        changes=[{"terms_added": n} for n in added_per_contract.values()],
    )


@transaction.atomic
def recurring_terms_extend_batch(
    *, now: dt.datetime, after_id: uuid.UUID | None = None, batch_size: int = BATCH_SIZE
) -> HorizonBatch:
    """Extend one batch of open-ended recurring terms (those after `after_id`) to
    `now + RECURRING_HORIZON`. Five statements whatever the batch holds."""
    until = shift(now, RECURRING_HORIZON)
    batch = list(
        _open_ended_recurring_terms(after_id).values_list("id", "contract_id")[:batch_size]
    )
    if not batch:
        return HorizonBatch(terms_seen=0, periods_added=0, last_term_id=None)
    # Lock the contracts (skipping busy ones), and read what the periods need.
    contracts = _locked_open_contracts(batch)
    terms = list(
        ContractTerm.objects.filter(
            id__in=[term_id for term_id, _ in batch], contract_id__in=list(contracts)
        ).only("id", "contract_id", "kind", "package_term_id", "starting_at", "body")
    )
    offsets = dict(
        PackageTerm.objects.filter(
            id__in={t.package_term_id for t in terms if t.package_term_id}
        ).values_list("id", "body__starting_at_offset")
    )
    next_ordinal = _next_ordinals(list(contracts))
    stored = _stored_period_starts(terms)

    new_rows: list[tuple[uuid.UUID, TermRow]] = []
    for term in terms:
        new_rows += _periods_to_add(
            term,
            contracts[term.contract_id],
            offsets=offsets,
            stored=stored[term.id],
            next_ordinal=next_ordinal,
            until=until,
        )
    contract_terms_write_many(rows=new_rows)
    _audit_extended(new_rows)
    return HorizonBatch(
        terms_seen=len(batch), periods_added=len(new_rows), last_term_id=batch[-1][0]
    )


def recurring_terms_extend(*, now: dt.datetime, batch_size: int = BATCH_SIZE) -> int:
    """Every batch in turn (each its own transaction); returns how many periods were added."""
    added, after_id = 0, None
    while True:
        batch = recurring_terms_extend_batch(now=now, after_id=after_id, batch_size=batch_size)
        if batch.last_term_id is None:
            return added
        added, after_id = added + batch.periods_added, batch.last_term_id
