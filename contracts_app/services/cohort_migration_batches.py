"""Cohort migration batches: migrate (or revert) N items in one transaction, with bulk writes.

A batch, in one transaction:
1. reads the job's status (no lock: a cancel never waits for a batch) and stops unless the
   job is RUNNING (REVERTING for a revert batch);
2. claims N items with `SELECT … FOR UPDATE SKIP LOCKED` (several workers share one job), and
   reads the status again under their locks: a cancel skips the items a batch holds, so a
   batch that now sees CANCELLED cancels its items itself and one that still sees RUNNING is
   in flight and finishes (at most one batch per chain moves after a cancel);
3. locks the items' subscriptions, then their contracts (timeline_locks.lock_timelines);
4. reads what it needs for all items at once (contracts, terms, target packages and their terms,
   billing configurations) and decides each item in Python with the single-contract code:
   `contract_end_clip` (what contracts/updateEndDate does to an end and its terms),
   `package_contract_build` + `transition_link` (what contracts/create with a package and a
   transition does), `one_billing_configuration` (the provisioning check);
5. writes the whole batch with one statement per kind of write (contract ends, term clips, new
   contracts, their terms, items, a progress row): a constant number of queries whatever the
   batch size or the packages' term counts.

If a bulk write fails (say a contract's timeline changed under a lock we could not see), the
batch's writes roll back to a savepoint and each item is written on its own savepoint, so one
bad item is FAILED with its message and the others still migrate. A worker killed mid-batch
rolls the whole transaction back: its items are PENDING again and the next batch takes them.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass, field, make_dataclass

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from config.audit.services import audit_record_many
from config.core import jsonutil
from config.core.bulk_rows import model_rows_insert
from config.core.errors import ApplicationError
from config.core.instants import format_instant
from config.core.jsonutil import DecimalDecoder
from contracts_app.models import (
    BillingProviderConfiguration,
    CohortMigration,
    CohortMigrationItem,
    CohortMigrationProgress,
    Contract,
    ContractEdit,
    ContractTerm,
    Customer,
)
from contracts_app.selectors.cohort_migrations import REVERT_BLOCK_WORDS, revert_blocks
from contracts_app.services.contract_ends import (
    CLIPPED_TERM_FIELDS,
    clip_deletes_sql,
    clip_items_sql,
    clip_may_change_sql,
    clip_windows_sql,
    contract_end_clip,
)
from contracts_app.services.materialise import TermRow, materialise_package_terms
from contracts_app.services.provisioning import (
    AmbiguousBillingConfiguration,
    NoBillingConfiguration,
    one_billing_configuration,
    package_contract_build,
    package_rate_card_id,
    transition_link,
)
from contracts_app.services.term_rows import (
    TermRowsCopy,
    TermRowsTemplate,
    contract_terms_rewrite,
    contracts_terms_write,
)
from contracts_app.services.term_snapshots import revert_snapshots_apply, term_dump
from contracts_app.services.timeline_locks import lock_timelines
from packages_app.models import Package, PackageTerm

logger = logging.getLogger(__name__)

Status = CohortMigration.Status
ItemStatus = CohortMigrationItem.Status
Reason = CohortMigrationItem.Reason

# Items per batch. Measured with bench/bench_migrations.py (8-term package, ~24 term
# rows per contract, in-process, 2-core machine under load): 100 items in 2.27 s, 500 in 6.74 s
# (44 → 74 contracts/s): the fixed ~20 statements amortise; beyond 500 the transaction holds
# its locks longer and a killed worker redoes more for little gain.
BATCH_SIZE = 500


class MaterialiseOnce:
    """materialise_package_terms for one batch, computed once per package and window.

    Every contract a batch moves to one package at one instant gets the same terms but for
    their ids, so the rows are computed and serialised once (a TermRowsTemplate) and every
    contract gets a TermRowsCopy of them, which PostgreSQL writes with fresh ids
    (term_rows.contracts_terms_write). Materialising and serialising were most of a move's
    Python time; this does them once per batch.
    """

    def __init__(self) -> None:
        self._done: dict[tuple, tuple[object, TermRowsTemplate]] = {}

    def __call__(self, package_terms, *, contract_start, contract_end, usage_frequency):
        key = (id(package_terms), contract_start, contract_end, usage_frequency)
        if key not in self._done:
            rows = materialise_package_terms(
                package_terms,
                contract_start=contract_start,
                contract_end=contract_end,
                usage_frequency=usage_frequency,
            )
            # The terms object is kept with the template, so its id() is not reused while cached.
            self._done[key] = (package_terms, TermRowsTemplate(rows))
        return TermRowsCopy(self._done[key][1])


@dataclass
class _Outcome:
    item_id: int
    status: str
    reason: str = ""
    message: str = ""
    new_contract_id: uuid.UUID | None = None
    snapshot: dict | None = None
    # (contract id, end): the old contract's term rows that clipping at the end deletes, which
    # the outcome's statement deletes and parks in the snapshot (never read into Python).
    clip: tuple[uuid.UUID, dt.datetime] | None = None


@dataclass
class _Move:
    """One item's writes, decided and not yet written."""

    outcome: _Outcome
    old: Contract
    old_settings: dict
    changed: list[ContractTerm]
    deleted: set[uuid.UUID]
    new: Contract
    rows: list[TermRow] = field(default_factory=list)


def _job_status(migration_id) -> str | None:
    """The job's status as committed now (_job_state)."""
    return _job_state(migration_id)[0]


def _job_state(migration_id) -> tuple[str | None, bool]:
    """The job's status and whether its canary is open, as committed now. Read without a lock:
    a row lock held by batches would make a cancel (or a pause) wait for them, and overlapping
    chains would never let it in."""
    table = connection.ops.quote_name(CohortMigration._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT status, canary_open FROM {table} WHERE id = %s", [migration_id])
        row = cursor.fetchone()
    return (row[0], row[1]) if row else (None, False)


def pending_items_cancel(migration_id, *, wait: bool = False) -> int:
    """PENDING items of a cancelled job → CANCELLED, with their progress row; how many.

    Items a batch in flight holds are skipped (that batch finishes them, or cancels them
    itself when it sees the job cancelled), so a cancel never waits; with `wait`, it waits for
    those batches and cancels what they leave (a revert must not start under them)."""
    table = connection.ops.quote_name(CohortMigrationItem._meta.db_table)
    pending = f"migration_id = %s AND status = '{ItemStatus.PENDING}'"
    # Without SKIP LOCKED the WHERE is on the UPDATE itself, so PostgreSQL re-checks it on the
    # row a finished batch left (an item it migrated is not cancelled).
    where = (
        pending
        if wait
        else f"id IN (SELECT id FROM {table} WHERE {pending} FOR UPDATE SKIP LOCKED)"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET status = '{ItemStatus.CANCELLED}' WHERE {where}", [migration_id]
        )
        cancelled = cursor.rowcount
    if cancelled:
        CohortMigrationProgress.objects.create(
            migration_id=migration_id, pending=-cancelled, cancelled=cancelled
        )
    return cancelled


def _still_running(migration_id) -> tuple[bool, bool]:
    """(running, canary open), read again once the batch holds its items: not running (and the
    items cancelled) when a cancel has committed since the first read; not running (the items
    left PENDING) when a pause has."""
    status, canary_open = _job_state(migration_id)
    if status == Status.CANCELLED:
        pending_items_cancel(migration_id)
    return status == Status.RUNNING, canary_open


def _claim(
    migration_id, status: str, size: int, defer: tuple[str, ...] = (), **only
) -> list[CohortMigrationItem]:
    """`only`: more conditions on the items (the canary's, the revert's chosen ones)."""
    return list(
        CohortMigrationItem.objects.select_for_update(skip_locked=True)
        .filter(migration_id=migration_id, status=status, **only)
        .defer(*defer)
        .order_by("id")[:size]
    )


def _write_moves(moves: list[_Move]) -> None:
    """Old contracts' ends, their clipped terms, the new contracts and their terms: four
    statements for any number of moves."""
    if not moves:
        return
    ends = [
        {
            "id": str(m.old.id),
            "ending_before": min(
                m.new.starting_at, m.old.ending_before or m.new.starting_at
            ).isoformat(),
            "settings": m.old_settings,
        }
        for m in moves
    ]
    table = connection.ops.quote_name(Contract._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS c SET ending_before = v.ending_before, settings = v.settings "
            "FROM jsonb_to_recordset(%s::jsonb) AS v(id uuid, ending_before timestamptz, "
            "settings jsonb) WHERE c.id = v.id",
            [jsonutil.dumps(ends)],
        )
    contract_terms_rewrite(
        changed=[t for m in moves for t in m.changed],
        deleted={term_id for m in moves for term_id in m.deleted},
    )
    model_rows_insert([m.new for m in moves])
    contracts_terms_write(pairs=[(m.new, m.rows) for m in moves])
    # The entries the single-contract services write for the same change, one bulk INSERT each.
    audit_record_many(
        action="update_end_date",
        resource_type="contract",
        resource_ids=[m.old.pk for m in moves],
        changes=[
            {
                "ending_before": {
                    "before": format_instant(m.old.ending_before),
                    "after": format_instant(m.new.starting_at),
                }
            }
            for m in moves
        ],
    )
    audit_record_many(
        action="transition",
        resource_type="contract",
        resource_ids=[m.old.pk for m in moves],
        description="Cohort migration: followed by a contract on the target package",
        changes=[
            {"to_contract_id": str(m.new.pk), "type": m.new.settings["transition"]["type"]}
            for m in moves
        ],
    )
    audit_record_many(
        action="create",
        resource_type="contract",
        resource_ids=[m.new.pk for m in moves],
        changes=[
            {
                "id": str(m.new.pk),
                "customer_id": str(m.new.customer_id),
                "package_id": str(m.new.package_id),
                "subscription_id": str(m.new.subscription_id),
                "starting_at": format_instant(m.new.starting_at),
                "ending_before": format_instant(m.new.ending_before),
            }
            for m in moves
        ],
    )


@functools.cache
def _outcomes_update() -> str:
    """The items' outcomes and, for each clipped move (a package contract's), the clip of the
    old contract's rows, which Python never reads (contract_ends' SQL rule): the rows it
    deletes are deleted and those whose dated items it cuts are rewritten, both parked whole
    (as they were) in the item's snapshot `terms`; the windowed rows it ends are ended and
    their old windows kept in `windows`. One statement; the bodies stay in PostgreSQL."""
    items = connection.ops.quote_name(CohortMigrationItem._meta.db_table)
    terms = connection.ops.quote_name(ContractTerm._meta.db_table)
    return (
        "WITH v AS (SELECT * FROM jsonb_to_recordset(%s::jsonb) AS v(id bigint, status text, "
        "reason text, message text, new_contract_id uuid, snapshot jsonb, clip_contract_id uuid, "
        "clip_at timestamptz, clip_at_text text)), "
        f"gone AS (DELETE FROM {terms} t USING v WHERE t.contract_id = v.clip_contract_id "
        f"AND {clip_deletes_sql('t', 'v.clip_at')} "
        "RETURNING v.id AS item_id, to_jsonb(t) - 'contract_id' AS term), "
        # The windows as they were (every CTE reads the statement's snapshot), then ended.
        "before AS (SELECT v.id AS item_id, t.id, jsonb_build_object('id', t.id, "
        "'ending_before', t.ending_before, 'body_ending_before', t.body -> 'ending_before', "
        "'body_had_end', jsonb_exists(t.body, 'ending_before')) AS term_window "
        f"FROM v JOIN {terms} t ON t.contract_id = v.clip_contract_id "
        f"WHERE {clip_windows_sql('t', 'v.clip_at')}), "
        f"ended AS (UPDATE {terms} t SET ending_before = v.clip_at, "
        "body = jsonb_set(t.body, '{ending_before}', to_jsonb(v.clip_at_text)) "
        "FROM before JOIN v ON v.id = before.item_id WHERE t.id = before.id), "
        "cut AS (SELECT v.id AS item_id, t.id, to_jsonb(t) - 'contract_id' AS term, c.body, "
        f"c.starting_at, c.ending_before FROM v JOIN {terms} t ON t.contract_id = "
        f"v.clip_contract_id AND {clip_may_change_sql('t', 'v.clip_at')} CROSS JOIN LATERAL "
        f"({clip_items_sql('t', 'v.clip_at', 'v.clip_at_text')}) c WHERE c.changed), "
        f"rewritten AS (UPDATE {terms} t SET body = cut.body, starting_at = cut.starting_at, "
        "ending_before = cut.ending_before FROM cut WHERE t.id = cut.id), "
        "parked AS (SELECT item_id, jsonb_agg(term) AS terms FROM (SELECT item_id, term "
        "FROM gone UNION ALL SELECT item_id, term FROM cut) AS p GROUP BY item_id), "
        "windows AS (SELECT item_id, jsonb_agg(term_window) AS windows FROM before "
        "GROUP BY item_id) "
        f"UPDATE {items} AS i SET status = v.status, reason = v.reason, "
        "message = v.message, new_contract_id = v.new_contract_id, "
        "snapshot = CASE WHEN v.clip_contract_id IS NULL THEN COALESCE(v.snapshot, i.snapshot) "
        "ELSE v.snapshot || jsonb_build_object("
        "'terms', (v.snapshot -> 'terms') || COALESCE(parked.terms, '[]'), "
        "'windows', COALESCE(windows.windows, '[]')) END "
        "FROM v LEFT JOIN parked ON parked.item_id = v.id "
        "LEFT JOIN windows ON windows.item_id = v.id WHERE i.id = v.id"
    )


def _write_outcomes(migration_id, outcomes: list[_Outcome], deltas: dict[str, int]) -> None:
    payload = []
    for o in outcomes:
        clip = o.clip if o.status == ItemStatus.MIGRATED else None
        payload.append(
            {
                "id": o.item_id,
                "status": o.status,
                "reason": o.reason,
                "message": o.message[:2000],
                "new_contract_id": str(o.new_contract_id) if o.new_contract_id else None,
                "snapshot": o.snapshot,
                "clip_contract_id": str(clip[0]) if clip else None,
                "clip_at": clip[1].isoformat() if clip else None,
                "clip_at_text": format_instant(clip[1]) if clip else None,
            }
        )
    if payload:
        with connection.cursor() as cursor:
            cursor.execute(_outcomes_update(), [jsonutil.dumps(payload)])
    if any(deltas.values()):
        CohortMigrationProgress.objects.create(migration_id=migration_id, **deltas)
        transaction.on_commit(lambda: _count_processed(deltas))


def _count_processed(deltas: dict[str, int]) -> None:
    """Items processed, by outcome, for /metrics (rate() of it is items per second)."""
    from config.metrics.registry import cohort_migration_items_processed

    for outcome in ("migrated", "skipped", "failed", "reverted", "revert_blocked"):
        if deltas.get(outcome, 0) > 0:
            cohort_migration_items_processed.labels(outcome).inc(deltas[outcome])


def _recheck(
    contract: Contract, at: dt.datetime, *, end_of_term: bool, successors: set, edited: set
) -> str:
    """The plan's reasons that can change between plan and batch (the plan's SQL, per row); with
    _decide's, the PLAN_AND_BATCH rules of cohort_migration_rules.ELIGIBILITY_RULES, in order."""
    if contract.archived_at is not None:
        return Reason.CONTRACT_ARCHIVED
    if not end_of_term and contract.ending_before is not None and contract.ending_before <= at:
        return Reason.ENDS_BEFORE_EFFECTIVE
    if contract.starting_at >= at:
        return Reason.STARTS_AFTER_EFFECTIVE
    if contract.id in successors:
        return Reason.SUCCESSOR_EXISTS
    if contract.id in edited:  # edited since the plan, and the job skips edited contracts
        return Reason.HAS_EDITS
    return ""


# A contract term as clipping reads and changes it (the ContractTerm attributes that
# contract_end_clip and contract_terms_rewrite use), without a model instance per row; a
# generated __init__ (a batch builds some 12,000 of them).
_Term = make_dataclass("_Term", CLIPPED_TERM_FIELDS, slots=True)


def _terms_of(contract_ids: list[uuid.UUID]) -> dict[uuid.UUID, list]:
    """Every term of these (negotiated) contracts, by contract: one query (run for none too, so
    a batch's query count never varies), bodies decoded by one decoder."""
    decoder = DecimalDecoder()
    columns = ", ".join(
        "t."
        + connection.ops.quote_name(ContractTerm._meta.get_field(name).column)
        + ("::text" if name == "body" else "")
        for name in CLIPPED_TERM_FIELDS
    )
    table = connection.ops.quote_name(ContractTerm._meta.db_table)
    terms_of: dict[uuid.UUID, list] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT t.contract_id, {columns} FROM {table} t WHERE t.contract_id = ANY(%s::uuid[])",
            [contract_ids],
        )
        body_at = CLIPPED_TERM_FIELDS.index("body")
        for contract_id, *values in cursor.fetchall():
            values[body_at] = decoder.decode(values[body_at])
            terms_of[contract_id].append(_Term(*values))
    return terms_of


def _successors_and_edited(contracts: list[Contract]) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """Ids of the contracts a later live contract of their subscription already follows, and
    ids of the contracts with an edit: one query."""
    if not contracts:
        return set(), set()
    with connection.cursor() as cursor:
        table = connection.ops.quote_name(Contract._meta.db_table)
        edits = connection.ops.quote_name(ContractEdit._meta.db_table)
        cursor.execute(
            f"SELECT c.id, EXISTS ("
            f"SELECT 1 FROM {table} s WHERE s.subscription_id = c.subscription_id "
            "AND s.id <> c.id AND s.archived_at IS NULL AND s.starting_at > c.starting_at), "
            f"EXISTS (SELECT 1 FROM {edits} e WHERE e.contract_id = c.id) "
            f"FROM {table} c WHERE c.id = ANY(%s::uuid[])",
            [[c.id for c in contracts]],
        )
        rows = cursor.fetchall()
    return {i for i, later, _ in rows if later}, {i for i, _, edited in rows if edited}


@dataclass
class _Batch:
    """What a batch reads once for all its items (the per-item rules read it in _decide)."""

    contracts: dict[uuid.UUID, Contract]
    successors: set[uuid.UUID]
    edited: set[uuid.UUID]
    terms_of: dict[uuid.UUID, list]
    targets: dict[uuid.UUID, Package]
    target_terms: dict[uuid.UUID, list[PackageTerm]]
    archived_customers: set[uuid.UUID]
    configurations: dict[uuid.UUID, list[BillingProviderConfiguration]]
    end_of_term: bool
    created_by: str
    # The alias the job's target was named by ("" for a package id): a moved contract records
    # it as a contract provisioned through that alias does.
    target_alias: str
    materialise: MaterialiseOnce = field(default_factory=MaterialiseOnce)


def _batch_read(migration: CohortMigration, items: list[CohortMigrationItem]) -> _Batch:
    """Lock the items' timelines and read what deciding them needs: a fixed number of queries."""
    contracts = lock_timelines([i.contract_id for i in items])
    successors, edited = _successors_and_edited(list(contracts.values()))
    if migration.edited_contracts == CohortMigration.EditedContracts.MIGRATE:
        edited = set()
    # A package contract's clip is done in SQL with the outcomes (_outcomes_update); a
    # negotiated contract's clip remembers every term as negotiated (contract_end_clip), so it
    # reads them all.
    terms_of = _terms_of(
        [
            i.contract_id
            for i in items
            if i.contract_id in contracts and contracts[i.contract_id].package_id is None
        ]
    )
    target_ids = {i.target_package_id for i in items if i.target_package_id}
    targets = {p.id: p for p in Package.objects.filter(id__in=target_ids)}
    target_terms: dict[uuid.UUID, list[PackageTerm]] = defaultdict(list)
    for term in PackageTerm.objects.filter(package_id__in=target_ids).only(
        "id", "package_id", "kind", "ordinal", "product_id", "body"
    ):
        target_terms[term.package_id].append(term)
    customer_ids = {c.customer_id for c in contracts.values()}
    archived_customers = set(
        Customer.objects.filter(id__any_of=customer_ids, archived_at__isnull=False).values_list(
            "id", flat=True
        )
    )
    configurations: dict[uuid.UUID, list[BillingProviderConfiguration]] = defaultdict(list)
    if any(p.billing_provider for p in targets.values()):
        for config in BillingProviderConfiguration.objects.not_archived().filter(
            customer_id__in=customer_ids
        ):
            configurations[config.customer_id].append(config)
    return _Batch(
        contracts=contracts,
        successors=successors,
        edited=edited,
        terms_of=terms_of,
        targets=targets,
        target_terms=target_terms,
        archived_customers=archived_customers,
        configurations=configurations,
        end_of_term=migration.timing == CohortMigration.Timing.END_OF_TERM,
        created_by=migration.created_by,
        target_alias=migration.target_alias,
    )


def _write_moves_isolating_faults(moves: list[_Move]) -> None:
    """All moves in one go; if the database refuses them, one by one, so only the item(s) at
    fault fail (their outcome says why) and the rest still migrate."""
    try:
        with transaction.atomic():
            _write_moves(moves)
    except DatabaseError:
        for move in moves:
            try:
                with transaction.atomic():
                    _write_moves([move])
            except DatabaseError as exc:
                move.outcome.status = ItemStatus.FAILED
                move.outcome.message = str(exc).splitlines()[0]
                move.outcome.new_contract_id = None
                move.outcome.snapshot = None
                move.outcome.clip = None


def migration_batch_run(*, migration_id, batch_size: int = BATCH_SIZE) -> int:
    """Migrate up to `batch_size` pending items of a RUNNING job; the number claimed (0: none
    left, or the job is no longer running)."""
    with transaction.atomic():
        # A cancelled job: cancel what a batch rolled back after the cancel left PENDING.
        running, canary_open = _still_running(migration_id)
        if not running:
            return 0
        # While the canary is open, only its items move (then the job pauses).
        only = {"canary": True} if canary_open else {}
        items = _claim(migration_id, ItemStatus.PENDING, batch_size, **only)
        if not items or not _still_running(migration_id)[0]:
            return 0
        migration = CohortMigration.objects.only(
            "timing", "created_by", "edited_contracts", "target_alias"
        ).get(id=migration_id)
        batch = _batch_read(migration, items)
        outcomes: list[_Outcome] = []
        moves: list[_Move] = []
        for item in items:
            outcome = _Outcome(item_id=item.id, status=ItemStatus.SKIPPED)
            try:
                move = _decide(item, outcome, batch)
            except ApplicationError as exc:
                outcome.status, outcome.message = ItemStatus.FAILED, exc.message
                move = None
            except Exception as exc:  # one item's bug must not stop the cohort
                logger.exception("cohort migration %s: item %s failed", migration_id, item.id)
                outcome.status, outcome.message = ItemStatus.FAILED, f"{type(exc).__name__}: {exc}"
                move = None
            outcomes.append(outcome)
            if move is not None:
                moves.append(move)
        _write_moves_isolating_faults(moves)
        deltas = {"pending": -len(items)}
        for outcome in outcomes:
            key = outcome.status.lower()
            deltas[key] = deltas.get(key, 0) + 1
        _write_outcomes(migration_id, outcomes, deltas)
        return len(items)


def _skip_reason(
    item: CohortMigrationItem, contract: Contract, target: Package | None, batch: _Batch
) -> str:
    """Why this item is skipped now ("" : it moves): the plan's reasons re-checked, then the
    target's. Raises ApplicationError for a failure."""
    reason = _recheck(
        contract,
        item.effective_at,
        end_of_term=batch.end_of_term,
        successors=batch.successors,
        edited=batch.edited,
    )
    if reason:
        return reason
    if target is None:
        return Reason.TARGET_ALIAS_UNRESOLVED
    if target.archived_at is not None:
        return Reason.TARGET_ARCHIVED
    if target.id == contract.package_id:
        return Reason.ALREADY_ON_TARGET
    if contract.customer_id in batch.archived_customers:
        raise ApplicationError("The customer is archived")
    if contract.subscription_id is None:
        raise ApplicationError("The contract belongs to no subscription")
    return ""


def _target_configuration(
    contract: Contract, target: Package, batch: _Batch
) -> tuple[BillingProviderConfiguration | None, str]:
    """(the customer's billing configuration the target package asks for, or a skip reason)."""
    if not target.billing_provider:
        return None, ""
    matches = [
        c
        for c in batch.configurations[contract.customer_id]
        if c.billing_provider == target.billing_provider
        and (not target.delivery_method or c.delivery_method == target.delivery_method)
    ]
    try:
        configuration = one_billing_configuration(
            matches,
            billing_provider=target.billing_provider,
            delivery_method=target.delivery_method,
        )
    except NoBillingConfiguration:
        return None, Reason.NO_BILLING_CONFIGURATION
    except AmbiguousBillingConfiguration:
        return None, Reason.AMBIGUOUS_BILLING_CONFIGURATION
    return configuration, ""


def _decide(item: CohortMigrationItem, outcome: _Outcome, batch: _Batch) -> _Move | None:
    """One item's move (None: skipped, the outcome says why). Raises ApplicationError for a
    failure (FAILED with its message)."""
    at = item.effective_at
    contract = batch.contracts.get(item.contract_id)
    if contract is None or at is None:
        raise ApplicationError("The item has no contract or no effective instant")
    target = batch.targets.get(item.target_package_id)
    outcome.reason = _skip_reason(item, contract, target, batch)
    if outcome.reason:
        return None
    configuration, outcome.reason = _target_configuration(contract, target, batch)
    if outcome.reason:
        return None
    new, rows = package_contract_build(
        customer_id=contract.customer_id,
        package=target,
        package_terms=batch.target_terms[target.id],
        starting_at=at,
        rate_card_id=package_rate_card_id(target, at),
        configuration=configuration,
        created_by=batch.created_by,
        settings_extra={"package_alias": batch.target_alias} if batch.target_alias else None,
        materialise=batch.materialise,
    )
    new.subscription_id = contract.subscription_id
    transition = {
        # Metronome's one transition type (the SDK refuses any other); the timing of the
        # move is the job's (CohortMigration.timing), not the link's.
        "type": "RENEWAL",
        "from_contract_id": str(contract.id),
    }
    link = transition_link(contract, new, transition)
    terms = batch.terms_of[contract.id]
    windows = {t.id: (t.starting_at, t.ending_before, t.body) for t in terms}
    snapshot = {
        "ending_before": format_instant(contract.ending_before),
        "settings": contract.settings,
    }
    if contract.ending_before is None or contract.ending_before > at:
        # A negotiated contract is clipped here, over all its terms (_terms_of); a package
        # contract's terms are clipped in SQL with the outcome (clip), so `terms` is empty
        # and only its settings (discounts) are clipped here.
        settings, changed, deleted = contract_end_clip(
            contract=contract, terms=terms, ending_before=at
        )
        if contract.package_id is not None:
            outcome.clip = (contract.id, at)
    else:
        settings, changed, deleted = contract.settings or {}, [], set()
    settings = {**settings, "transitions": [*settings.get("transitions", []), link]}
    touched = {t.id for t in changed} | deleted
    snapshot["terms"] = [
        term_dump(t, window=windows[t.id], edited_at=True) for t in terms if t.id in touched
    ]
    outcome.status = ItemStatus.MIGRATED
    outcome.new_contract_id = new.id
    outcome.snapshot = snapshot
    return _Move(
        outcome=outcome,
        old=contract,
        old_settings=settings,
        changed=changed,
        deleted=deleted,
        new=new,
        rows=rows,
    )


# --- revert -----------------------------------------------------------------------------------


def migration_revert_batch_run(*, migration_id, batch_size: int = BATCH_SIZE) -> int:
    """Revert up to `batch_size` migrated items of a REVERTING job: archive the new contracts,
    write back each old contract's end, settings and term rows as they were
    (revert_snapshots_apply). An item the revert must not touch
    (selectors.cohort_migrations.revert_blocks: changed, archived or followed since the move,
    or taken effect) ends REVERT_BLOCKED with its reason, as does one whose writes the database
    refuses, so no item is claimed twice and a revert always ends. Statements: a constant
    number per batch."""
    with transaction.atomic():
        if _job_status(migration_id) != Status.REVERTING:
            return 0
        # Only the moved items this revert chose (its scope and customers).
        items = _claim(
            migration_id,
            ItemStatus.MIGRATED,
            batch_size,
            defer=("snapshot",),
            revert_selected=True,
        )
        if not items:
            return 0
        lock_timelines([i.contract_id for i in items] + [i.new_contract_id for i in items])
        blocks = {
            item_id: reason
            for item_id, _, reason, _ in revert_blocks(
                migration_id=migration_id, now=timezone.now(), item_ids=[i.id for i in items]
            )
        }
        outcomes = {
            item.id: _Outcome(
                item_id=item.id,
                status=ItemStatus.REVERT_BLOCKED if item.id in blocks else ItemStatus.REVERTED,
                reason=blocks.get(item.id, ""),
                message=REVERT_BLOCK_WORDS.get(blocks.get(item.id, ""), ""),
                # Kept either way: the item's history (the snapshot is kept by the UPDATE).
                new_contract_id=item.new_contract_id,
            )
            for item in items
        }
        revertible = [i for i in items if i.id not in blocks]
        try:
            with transaction.atomic():
                _write_reverts(revertible)
        except DatabaseError:
            # Find the item(s) at fault; the rest are still reverted.
            for item in revertible:
                try:
                    with transaction.atomic():
                        _write_reverts([item])
                except DatabaseError as exc:
                    outcome = outcomes[item.id]
                    outcome.status = ItemStatus.REVERT_BLOCKED
                    outcome.message = str(exc).splitlines()[0]
        judged = list(outcomes.values())
        reverted = sum(1 for o in judged if o.status == ItemStatus.REVERTED)
        _write_outcomes(
            migration_id,
            judged,
            {
                "migrated": -len(items),
                "reverted": reverted,
                "revert_blocked": len(items) - reverted,
            },
        )
        return len(items)


def _write_reverts(items: list[CohortMigrationItem]) -> None:
    """Archive the items' new contracts, give the old ones their end, settings and term rows
    back (revert_snapshots_apply): a constant number of statements for any number of items."""
    if not items:
        return
    contract_table = connection.ops.quote_name(Contract._meta.db_table)
    with connection.cursor() as cursor:
        # The successors leave the timeline first, so the old contracts can take it back.
        cursor.execute(
            f"UPDATE {contract_table} SET archived_at = %s WHERE id = ANY(%s::uuid[]) "
            "AND archived_at IS NULL",
            [timezone.now(), [i.new_contract_id for i in items]],
        )
    ends = revert_snapshots_apply([i.id for i in items])
    audit_record_many(
        action="archive",
        resource_type="contract",
        resource_ids=[i.new_contract_id for i in items],
        description="Cohort migration reverted",
    )
    audit_record_many(
        action="revert_migration",
        resource_type="contract",
        resource_ids=[i.contract_id for i in items],
        description="Cohort migration reverted: end, settings and terms restored",
        changes=[{"ending_before": {"after": ends.get(i.contract_id)}} for i in items],
    )
