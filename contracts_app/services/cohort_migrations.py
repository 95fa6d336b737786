"""Cohort migrations: create, start (plan), cancel, revert, complete, dispatch (DESIGN.md §7).

Status: SCHEDULED → RUNNING → COMPLETED | FAILED; SCHEDULED | RUNNING | PAUSED → CANCELLED;
RUNNING → PAUSED (a canary moved, or a pause) → RUNNING (resume); COMPLETED → RUNNING again
when its FAILED items are retried; COMPLETED | CANCELLED | PAUSED | PARTIALLY_REVERTED →
REVERTING → REVERTED | PARTIALLY_REVERTED (moved contracts changed, archived or followed since
the move stay, as items REVERT_BLOCKED with a reason; a revert of some customers, or of what
has not taken effect, leaves the others moved). Every
transition is one conditional UPDATE (or a row lock then an UPDATE) of the migration row, so
two concurrent calls never both win. Batches do not lock that row: a cancel answers at once and
takes effect at each chain's next batch (services.cohort_migration_batches); a revert waits for
the batches still in flight.

Tasks are queued on commit, by name (services/cohort_migration_queue.py); what to do next is
always read back from the database, so a task delivered twice or a worker killed mid-batch
changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Count, Exists, OuterRef, Q, Sum, Value, When
from django.utils import timezone

from config.audit.services import audit_record
from config.core.errors import Conflict, NotFound, ValidationFailed
from config.core.ids import parse_uuid
from config.core.instants import format_instant
from config.webhooks.services import events_record
from contracts_app.models import (
    CohortMigration,
    CohortMigrationItem,
    CohortMigrationProgress,
)
from contracts_app.selectors.cohort_migrations import (
    migration_skip_reasons,
    revert_blocks,
)
from contracts_app.services.cohort_migration_batches import pending_items_cancel
from contracts_app.services.cohort_migration_chains import (
    QueuedChain,
    chains_claim,
    chains_expired_claim,
)
from contracts_app.services.cohort_migration_plan import CohortSpec, cohort_plan_insert
from contracts_app.services.cohort_migration_queue import (
    MIGRATION_BATCH,
    MIGRATION_REVERT_BATCH,
    MIGRATION_START,
    enqueue,
)
from packages_app.models import AliasName, Package
from packages_app.selectors.aliases import package_for_alias

Status = CohortMigration.Status
Timing = CohortMigration.Timing
ItemStatus = CohortMigrationItem.Status

MAX_CUSTOMER_IDS = 100_000


# --- input → what to move -------------------------------------------------------------------


@dataclass(frozen=True)
class MigrationInput:
    """A validated request (preview or create), its packages resolved."""

    source: dict
    target: dict
    effective: dict
    spec: CohortSpec
    source_package: Package
    target_package: Package | None
    target_alias: str


def _package(package_id, field: str) -> Package:
    pk = parse_uuid(package_id)
    package = Package.objects.filter(id=pk).first() if pk else None
    if package is None:
        raise NotFound("Package not found", field=field)
    return package


def migration_input(
    *,
    source: dict,
    target: dict,
    effective: dict,
    customer_ids: list | None = None,
    exclude_customer_ids: list | None = None,
    edited_contracts: str = CohortMigration.EditedContracts.SKIP,
    allow_past: bool = False,
    now: dt.datetime | None = None,
) -> MigrationInput:
    """Resolve shape-checked input (api.cohort_migration_serializers): 404 for unknown
    packages or alias names, 400 naming the field for a source that is the target or an
    effective time in the past without `allow_past` (refuse_past)."""
    now = now or timezone.now()
    if source.get("package_id") is not None:
        source_package = _package(source["package_id"], "source.package_id")
    else:
        source_package = package_for_alias(name=source["package_alias"], at=source["as_of"])
        if source_package is None:
            raise NotFound(
                f"The package alias {source['package_alias']!r} points at no package at "
                f"{format_instant(source['as_of'])}",
                field="source.package_alias",
            )
    target_package, target_alias, alias_name_id = None, "", None
    if target.get("package_id") is not None:
        target_package = _package(target["package_id"], "target.package_id")
        if target_package.id == source_package.id:
            raise ValidationFailed(
                "The target package is the source package", field="target.package_id"
            )
    else:
        target_alias = target["package_alias"]
        alias_name_id = (
            AliasName.objects.filter(kind=AliasName.Kind.PACKAGE, name=target_alias)
            .values_list("id", flat=True)
            .first()
        )
        if alias_name_id is None:
            raise NotFound(
                f"No package alias is named {target_alias!r}", field="target.package_alias"
            )
    timing = effective["type"]
    spec = CohortSpec(
        source_package_id=source_package.id,
        timing=timing,
        at=effective.get("at") if timing == Timing.AT else effective.get("not_before"),
        target_package_id=target_package.id if target_package else None,
        target_alias_name_id=alias_name_id,
        customer_ids=[str(c) for c in customer_ids] if customer_ids is not None else None,
        exclude_customer_ids=[str(c) for c in exclude_customer_ids or []] or None,
        edited_contracts=edited_contracts,
        now=now,
    )
    refuse_past(spec, since=now, allow_past=allow_past)
    return MigrationInput(
        source=_wire(source),
        target=_wire(target),
        effective=_wire(effective),
        spec=spec,
        source_package=source_package,
        target_package=target_package,
        target_alias=target_alias,
    )


class PastEffectiveTime(ValidationFailed):
    """The effective time is in the past and the request did not say allow_past."""

    def __init__(self, message: str, *, field: str, at: dt.datetime) -> None:
        super().__init__(message, field=field)
        self.at = at


def effective_in_past(spec: CohortSpec, *, now: dt.datetime) -> dt.datetime | None:
    """The AT instant (or next-billing-period not_before) when it is before `now`: such a
    migration moves contracts retroactively, over periods already billed, and can never be
    reverted (its moves have taken effect)."""
    if spec.timing == Timing.END_OF_TERM or spec.at is None or spec.at >= now:
        return None
    return spec.at


def refuse_past(spec: CohortSpec, *, since: dt.datetime, allow_past: bool) -> None:
    """A past effective time only when the request says allow_past (effective_in_past)."""
    past = effective_in_past(spec, now=since)
    if past is None or allow_past:
        return
    field = "effective.at" if spec.timing == Timing.AT else "effective.not_before"
    raise PastEffectiveTime(
        f"{field} {format_instant(past)} is in the past (before {format_instant(since)}): the migration "
        "would change contracts from then on, over periods already billed, and could not be "
        "reverted. Send allow_past: true to do it anyway",
        field=field,
        at=past,
    )


def _wire(value: dict) -> dict:
    return {
        key: format_instant(item) if isinstance(item, dt.datetime) else str(item)
        for key, item in value.items()
        if item is not None
    }


def spec_of(migration: CohortMigration, *, now: dt.datetime | None = None) -> CohortSpec:
    alias_name_id = None
    if migration.target_alias:
        alias_name_id = (
            AliasName.objects.filter(kind=AliasName.Kind.PACKAGE, name=migration.target_alias)
            .values_list("id", flat=True)
            .first()
        )
    return CohortSpec(
        source_package_id=migration.source_package_id,
        timing=migration.timing,
        at=migration.effective_at,
        target_package_id=migration.target_package_id,
        target_alias_name_id=alias_name_id,
        customer_ids=migration.customer_ids,
        exclude_customer_ids=migration.exclude_customer_ids,
        edited_contracts=migration.edited_contracts,
        now=now or timezone.now(),
    )


# --- create ----------------------------------------------------------------------------------


@transaction.atomic
def cohort_migration_create(
    *,
    data: MigrationInput,
    name: str = "",
    run_at: dt.datetime | None = None,
    uniqueness_key: str | None = None,
    created_by: str = "",
    canary: dict | None = None,
) -> CohortMigration:
    """A SCHEDULED job. Due now: started on commit; later: the beat dispatcher starts it
    (migrations_dispatch). The cohort is evaluated when it starts, not now. With a `canary`
    ({"count": N} or {"customer_ids": [...]}: canary_check), those contracts move first and
    the job then stops PAUSED until resumed."""
    spec = data.spec
    canary = canary_check(canary, spec=spec)
    migration = CohortMigration(
        name=name,
        source=data.source,
        source_package=data.source_package,
        target=data.target,
        target_package=data.target_package,
        target_alias=data.target_alias,
        effective=data.effective,
        timing=spec.timing,
        effective_at=spec.at,
        customer_ids=spec.customer_ids,
        exclude_customer_ids=spec.exclude_customer_ids,
        edited_contracts=spec.edited_contracts,
        run_at=run_at or timezone.now(),
        uniqueness_key=uniqueness_key,
        created_by=created_by,
        canary=canary,
        canary_open=canary is not None,
    )
    try:
        with transaction.atomic():
            migration.save(force_insert=True)
    except IntegrityError as exc:
        if "cohort_migration_uniqueness_key" in str(exc):
            raise Conflict(
                "A cohort migration with this uniqueness_key already exists",
                field="uniqueness_key",
            ) from None
        raise
    audit_record(
        action="create",
        resource_type="cohort_migration",
        resource_id=migration.pk,
        changes={
            "id": migration.pk,
            "name": migration.name,
            "source": migration.source,
            "target": migration.target,
            "effective": migration.effective,
            "edited_contracts": migration.edited_contracts,
            "run_at": migration.run_at,
            "canary": migration.canary,
        },
    )
    if migration.run_at <= timezone.now():
        transaction.on_commit(lambda: enqueue(MIGRATION_START, migration.id))
    return migration


def canary_check(canary: dict | None, *, spec: CohortSpec) -> dict | None:
    """The canary as stored and echoed: {"count": N} (the first N contracts the plan finds
    eligible, in plan order) or {"customer_ids": [...]} (those customers' contracts). 400
    naming the field for customers the job's own filters leave out."""
    if not canary:
        return None
    if canary.get("count") is not None:
        return {"count": int(canary["count"])}
    ids = list(dict.fromkeys(str(c) for c in canary["customer_ids"]))
    outside = [
        c
        for c in ids
        if (spec.customer_ids is not None and c not in set(spec.customer_ids))
        or c in set(spec.exclude_customer_ids or ())
    ]
    if outside:
        raise ValidationFailed(
            f"{len(outside)} canary customer(s) are outside the migration's customers "
            f"(customer_ids / exclude_customer_ids), e.g. {', '.join(outside[:3])}",
            field="canary.customer_ids",
        )
    return {"customer_ids": ids}


def _canary_mark(migration: CohortMigration) -> int:
    """Mark the canary's items among the planned PENDING ones (one UPDATE); how many."""
    items = connection.ops.quote_name(CohortMigrationItem._meta.db_table)
    canary = migration.canary or {}
    with connection.cursor() as cursor:
        if canary.get("count") is not None:
            cursor.execute(
                f"UPDATE {items} SET canary = true WHERE id IN (SELECT id FROM {items} "
                "WHERE migration_id = %s AND status = 'PENDING' ORDER BY id LIMIT %s)",
                [migration.id, canary["count"]],
            )
        else:
            cursor.execute(
                f"UPDATE {items} SET canary = true WHERE migration_id = %s "
                "AND status = 'PENDING' AND customer_id = ANY(%s::uuid[])",
                [migration.id, canary.get("customer_ids") or []],
            )
        return cursor.rowcount


# --- start: plan the items -------------------------------------------------------------------


def migration_start(*, migration_id) -> bool:
    """Plan a due SCHEDULED job (one INSERT … SELECT of its items) and make it RUNNING; False
    when it is not due, not SCHEDULED, or another dispatcher holds it (SKIP LOCKED)."""
    with transaction.atomic():
        migration = (
            CohortMigration.objects.select_for_update(skip_locked=True)
            .filter(id=migration_id, status=Status.SCHEDULED, run_at__lte=timezone.now())
            .first()
        )
        if migration is None:
            return False
        now = timezone.now()
        try:
            with transaction.atomic():
                counts = cohort_plan_insert(migration_id=migration.id, spec=spec_of(migration))
        except Exception as exc:  # a job that cannot be planned says why, and stops
            migration.status, migration.finished_at = Status.FAILED, now
            migration.last_error = f"Planning failed: {type(exc).__name__}: {exc}"[:4000]
            migration.save(update_fields=["status", "finished_at", "last_error"])
            events_record("cohort_migration.failed", {"id": migration.pk, "status": Status.FAILED})
            return False
        CohortMigrationProgress.objects.create(
            migration=migration,
            total=counts["pending"] + counts["skipped"],
            pending=counts["pending"],
            skipped=counts["skipped"],
        )
        canary_words, canary_empty = "", False
        if migration.canary_open:
            marked = _canary_mark(migration)
            canary_empty = marked == 0 and counts["pending"] > 0
            canary_words = f"; {marked} of them first (the canary), then pause"
        migration.status, migration.started_at = Status.RUNNING, now
        migration.ended_before_effective = counts["ended_before_effective"]
        migration.save(update_fields=["status", "started_at", "ended_before_effective"])
        audit_record(
            action="start",
            resource_type="cohort_migration",
            resource_id=migration.pk,
            description=f"Planned {counts['pending']} contracts to move, "
            f"{counts['skipped']} skipped{canary_words}",
            changes={"status": {"before": Status.SCHEDULED, "after": Status.RUNNING}},
        )
        events_record("cohort_migration.started", {"id": migration.pk, "status": Status.RUNNING})
        if canary_empty:
            _canary_empty_pause(migration, now=now)
            return True
        transaction.on_commit(lambda: _queue_batches(migration.id, revert=False))
    return True


def _canary_empty_pause(migration: CohortMigration, *, now) -> None:
    """A canary none of whose contracts moves (its customers all skipped, say): the job waits
    before moving anyone, saying why, rather than looking as if a canary had moved."""
    migration.status, migration.paused_at, migration.canary_open = Status.PAUSED, now, False
    migration.save(update_fields=["status", "paused_at", "canary_open"])
    _status_announce(
        migration,
        action="pause",
        before=Status.RUNNING,
        event="paused",
        data={"reason": "CANARY_EMPTY"},
        description="The canary matched no contract that moves; paused before moving any",
    )


def _queue_batches(migration_id, *, revert: bool) -> None:
    """Start the job's chains of self-requeueing batch tasks (several workers share one job;
    services.cohort_migration_chains)."""
    from django.conf import settings

    _queue_chains(
        chains_claim(migration_id, chains=settings.COHORT_MIGRATION_CHAINS, revert=revert)
    )


def _queue_chains(chains: list[QueuedChain]) -> None:
    for chain in chains:
        task = MIGRATION_REVERT_BATCH if chain.revert else MIGRATION_BATCH
        enqueue(task, chain.migration_id, chain.number, chain.token)


def migration_finish_if_done(*, migration_id) -> str | None:
    """RUNNING with nothing pending → COMPLETED; RUNNING in its canary with no canary item
    pending → PAUSED (the canary is closed: resuming moves the rest); REVERTING with nothing
    it chose still migrated → REVERTED, or PARTIALLY_REVERTED when a revert batch left some
    items REVERT_BLOCKED (with last_error saying how many stayed and why) or the revert chose
    only some moved contracts (a scope or customers). The new status, or None when the job
    is not done (or already finished)."""
    table = connection.ops.quote_name(CohortMigration._meta.db_table)
    items = connection.ops.quote_name(CohortMigrationItem._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {table} m SET
              status = CASE
                WHEN m.status = 'RUNNING' AND m.canary_open THEN 'PAUSED'
                WHEN m.status = 'RUNNING' THEN 'COMPLETED'
                WHEN EXISTS (SELECT 1 FROM {items} b WHERE b.migration_id = m.id
                             AND b.status IN ('REVERT_BLOCKED', 'MIGRATED')) THEN 'PARTIALLY_REVERTED'
                ELSE 'REVERTED' END,
              finished_at = CASE WHEN m.status = 'RUNNING' AND m.canary_open THEN NULL
                ELSE now() END,
              paused_at = CASE WHEN m.status = 'RUNNING' AND m.canary_open THEN now()
                ELSE m.paused_at END,
              canary_open = false
            WHERE m.id = %s AND m.status IN ('RUNNING', 'REVERTING')
              AND NOT EXISTS (
                SELECT 1 FROM {items} i WHERE i.migration_id = m.id
                AND i.status = CASE m.status WHEN 'RUNNING' THEN 'PENDING' ELSE 'MIGRATED' END
                AND CASE m.status WHEN 'RUNNING' THEN i.canary OR NOT m.canary_open
                  ELSE i.revert_selected END)
            RETURNING m.status
            """,
            [migration_id],
        )
        row = cursor.fetchone()
        if row and row[0] == Status.PARTIALLY_REVERTED:
            blocked = migration_skip_reasons(
                migration=migration_id, status=ItemStatus.REVERT_BLOCKED
            )
            if blocked:
                last_error = (
                    f"{sum(blocked.values())} moved contract(s) were not reverted and stay on "
                    f"the new package: {_blocked_words(blocked)}; the items with status "
                    "REVERT_BLOCKED name each contract and its reason"
                )
                CohortMigration.objects.filter(id=migration_id).update(last_error=last_error)
        if row:
            audit_record(
                action="pause" if row[0] == Status.PAUSED else "finish",
                resource_type="cohort_migration",
                resource_id=migration_id,
                description="The canary moved; paused until resumed"
                if row[0] == Status.PAUSED
                else "",
                changes={"status": {"after": row[0]}},
            )
            event = {
                Status.COMPLETED: "completed",
                Status.PAUSED: "paused",
            }.get(row[0], "reverted")
            data = {"id": migration_id, "status": row[0]}
            if row[0] == Status.PAUSED:
                data["reason"] = "CANARY_DONE"
            events_record(f"cohort_migration.{event}", data)
    return row[0] if row else None


def _blocked_words(blocked: dict[str, int]) -> str:
    """{"SUCCESSOR_EXISTS": 2, …} → "2 SUCCESSOR_EXISTS, …" (codes: this is the API's text;
    no reason: the database refused the item's writes, its message says why)."""
    return ", ".join(
        f"{n} {reason or 'refused by the database'}" for reason, n in sorted(blocked.items())
    )


# --- cancel and revert -----------------------------------------------------------------------


def _status_error(migration: CohortMigration, action: str, allowed: str) -> ValidationFailed:
    return ValidationFailed(
        f"A {migration.status} migration cannot be {action} (only {allowed} ones)",
        field="migration_id",
    )


def _status_set(migration: CohortMigration, *, allowed, verb: str, allowed_words: str, **columns):
    """One conditional UPDATE (no lock waited for: batches never lock the job row), then the
    job read back; 400 naming migration_id when its status allows no such change."""
    changed = CohortMigration.objects.filter(id=migration.id, status__in=allowed).update(**columns)
    migration.refresh_from_db()
    if not changed:
        raise _status_error(migration, verb, allowed_words)


def _status_announce(
    migration: CohortMigration,
    *,
    action: str,
    before: str | None,
    event: str,
    data: dict | None = None,
    description: str = "",
) -> None:
    """A status change as History records it and as webhooks announce it (in its transaction)."""
    status = (
        {"after": migration.status}
        if before is None
        else {"before": before, "after": migration.status}
    )
    audit_record(
        action=action,
        resource_type="cohort_migration",
        resource_id=migration.pk,
        description=description,
        changes={"status": status},
    )
    events_record(
        f"cohort_migration.{event}",
        {"id": migration.pk, "status": migration.status, **(data or {})},
    )


@transaction.atomic
def cohort_migration_cancel(*, migration: CohortMigration) -> CohortMigration:
    """SCHEDULED | RUNNING | PAUSED → CANCELLED, at once: pending items become CANCELLED but those
    of the batches in flight, which finish (or cancel them: cohort_migration_batches); each
    chain stops at its next batch. Migrated items stay until reverted."""
    _status_set(
        migration,
        allowed=CohortMigration.CANCELLABLE,
        verb="cancelled",
        allowed_words="SCHEDULED, RUNNING or PAUSED",
        status=Status.CANCELLED,
        finished_at=timezone.now(),
    )
    cancelled = pending_items_cancel(migration.id)
    _status_announce(
        migration,
        action="cancel",
        before=None,
        event="cancelled",
        data={"cancelled": cancelled},
        description=f"Cancelled; {cancelled} pending contracts will not move",
    )
    return migration


class RevertScope:
    ALL = "ALL"
    NOT_IN_EFFECT = "NOT_IN_EFFECT"
    choices = (ALL, NOT_IN_EFFECT)


def _revert_customers(moved, customer_ids: list | None) -> Q:
    """The filter of the customers a revert names (all: an empty Q); 400 naming customer_ids
    when one of them has no moved contract in the job."""
    if customer_ids is None:
        return Q()
    ids = list(dict.fromkeys(str(c) for c in customer_ids))
    if not ids:
        raise ValidationFailed("customer_ids: name at least one customer", field="customer_ids")
    found = {
        str(c) for c in moved.filter(customer_id__in=ids).values_list("customer_id", flat=True)
    }
    missing = [c for c in ids if c not in found]
    if missing:
        raise ValidationFailed(
            f"{len(missing)} of the customer_ids have no moved contract in this migration "
            f"(e.g. {', '.join(missing[:3])})",
            field="customer_ids",
        )
    return Q(customer_id__in=ids)


def _revert_refusal(
    locked: CohortMigration,
    *,
    scope: str,
    named_customers: bool,
    row: dict,
    selected: int,
    blocks: list,
) -> ValidationFailed | None:
    """Why this revert must be refused (None: it may go ahead)."""
    if scope == RevertScope.ALL and row["chosen_taken"]:
        return ValidationFailed(
            f"{row['chosen_taken']} migrated contract(s) have already taken effect (their "
            "effective instant has passed); a migration can be reverted only before any of them "
            "does (scope NOT_IN_EFFECT reverts those still ahead and keeps these)",
            field="migration_id",
        )
    # A job that moved nothing may still be reverted: it ends REVERTED at once; a partially
    # reverted one with nothing left moved has nothing more to give back.
    moved_nothing = (
        scope == RevertScope.ALL
        and not named_customers
        and not row["migrated"]
        and locked.status != Status.PARTIALLY_REVERTED
    )
    if not selected and not moved_nothing:
        return ValidationFailed(
            "Nothing to revert: every moved contract of "
            f"{'these customers' if named_customers else 'this migration'} has "
            "already taken effect"
            if row["chosen"]
            else "Nothing to revert: the migration has no moved contract",
            field="scope" if row["chosen"] else "migration_id",
        )
    if selected and selected == len(blocks):
        blocked: dict[str, int] = defaultdict(int)
        for _, _, reason, _ in blocks:
            blocked[reason] += 1
        return ValidationFailed(
            f"None of the {selected} moved contract(s) can be reverted: "
            f"{_blocked_words(dict(blocked))} (e.g. "
            f"{', '.join(str(contract_id) for _, contract_id, _, _ in blocks[:3])})",
            field="migration_id",
        )
    return None


def _revert_select(moved, *, scope: str, chosen_q: Q, now, row: dict) -> int:
    """Mark the moved items this revert gives back (`revert_selected`, every moved item set
    true or false: a revert before this one may have chosen others); how many."""
    selected_q = (
        chosen_q & Q(effective_at__gt=now) if scope == RevertScope.NOT_IN_EFFECT else chosen_q
    )
    chosen = (
        When(selected_q, then=Value(True))
        if selected_q
        else When(pk__isnull=False, then=Value(True))
    )
    moved.update(revert_selected=Case(chosen, default=Value(False)))
    return row["migrated"] if not selected_q else moved.filter(selected_q).count()


@transaction.atomic
def cohort_migration_revert(
    *,
    migration: CohortMigration,
    scope: str = RevertScope.ALL,
    customer_ids: list | None = None,
) -> CohortMigration:
    """COMPLETED | CANCELLED | PAUSED | PARTIALLY_REVERTED → REVERTING; the revert batches then
    restore the old contracts and archive the new ones, and end it REVERTED, or
    PARTIALLY_REVERTED when some moved contracts stay (items REVERT_BLOCKED, by
    selectors.cohort_migrations.revert_blocks: changed, archived or followed since the move;
    or moved contracts this revert did not choose). A paused job's pending items are cancelled.

    What it chooses (CohortMigrationItem.revert_selected, one UPDATE), of the moved contracts:
    scope ALL, every one (refused once any has taken effect: today's rule); NOT_IN_EFFECT,
    those whose effective instant is still ahead (the others stay, in effect); with
    `customer_ids`, only those customers' (400 naming customer_ids when one has no moved
    contract in the job). Refused when nothing chosen could be given back. How many of each
    is kept on the job (`revert_request`) and answered."""
    if scope not in RevertScope.choices:
        raise ValidationFailed(
            f"scope must be one of {', '.join(RevertScope.choices)}", field="scope"
        )
    if CohortMigration.objects.filter(
        id=migration.id, status__in=[Status.CANCELLED, Status.PAUSED]
    ).exists():
        # A cancel does not wait for the batches in flight; a revert does, and sees their
        # moves (before locking the job: their progress rows need its key share). A paused
        # job's pending items are cancelled here (all of it rolls back if the revert is refused).
        pending_items_cancel(migration.id, wait=True)
    locked = CohortMigration.objects.select_for_update().get(id=migration.id)
    if not locked.can_revert_status:
        raise _status_error(
            locked, "reverted", "COMPLETED, CANCELLED, PAUSED or PARTIALLY_REVERTED"
        )
    now = timezone.now()
    moved = CohortMigrationItem.objects.filter(migration=locked, status=ItemStatus.MIGRATED)
    chosen_q = _revert_customers(moved, customer_ids)
    row = moved.aggregate(
        migrated=Count("id"),
        chosen=Count("id", filter=chosen_q),
        chosen_taken=Count("id", filter=chosen_q & Q(effective_at__lte=now)),
    )
    if scope == RevertScope.ALL and row["chosen_taken"]:
        raise _revert_refusal(
            locked,
            scope=scope,
            named_customers=customer_ids is not None,
            row=row,
            selected=0,
            blocks=[],
        )
    selected = _revert_select(moved, scope=scope, chosen_q=chosen_q, now=now, row=row)
    blocks = revert_blocks(migration_id=locked.id, now=now, selected_only=True)
    refusal = _revert_refusal(
        locked,
        scope=scope,
        named_customers=customer_ids is not None,
        row=row,
        selected=selected,
        blocks=blocks,
    )
    if refusal is not None:
        raise refusal
    _revert_start(
        locked,
        now=now,
        scope=scope,
        customer_ids=customer_ids,
        reverting=selected - len(blocks),
        blocked=len(blocks),
        row=row,
    )
    migration.refresh_from_db()
    return migration


def _revert_start(
    locked: CohortMigration,
    *,
    now,
    scope: str,
    customer_ids: list | None,
    reverting: int,
    blocked: int,
    row: dict,
) -> None:
    """The job to REVERTING with what the revert chose (`revert_request`), recorded; its revert
    batches queued on commit."""
    judged_before = (
        CohortMigrationProgress.objects.filter(migration=locked).aggregate(
            n=Sum("reverted") + Sum("revert_blocked")
        )["n"]
        or 0
    )
    request = {
        "judged_before": judged_before,  # for the revert's own progress (migration_progress)
        "scope": scope,
        "customer_ids": len(set(map(str, customer_ids))) if customer_ids is not None else None,
        "reverting": reverting,
        "blocked": blocked,
        "kept_in_effect": row["chosen_taken"] if scope == RevertScope.NOT_IN_EFFECT else 0,
        "not_chosen": row["migrated"] - row["chosen"],
        "at": format_instant(now),
    }
    before = locked.status
    locked.status, locked.revert_started_at, locked.finished_at = Status.REVERTING, now, None
    locked.revert_request = request
    locked.save(update_fields=["status", "revert_started_at", "finished_at", "revert_request"])
    audit_record(
        action="revert",
        resource_type="cohort_migration",
        resource_id=locked.pk,
        description=f"Reverting {request['reverting']} moved contract(s) (scope "
        f"{request['scope']}); {request['blocked']} blocked, {request['kept_in_effect']} kept "
        f"in effect, {request['not_chosen']} of other customers",
        changes={"status": {"before": before, "after": Status.REVERTING}, "revert": request},
    )
    transaction.on_commit(lambda: _queue_batches(locked.id, revert=True))


# --- staged rollouts: pause, resume, retry failed ------------------------------------------------


@transaction.atomic
def cohort_migration_pause(*, migration: CohortMigration) -> CohortMigration:
    """RUNNING → PAUSED, at once (one conditional UPDATE; batches never lock the job row): each
    chain stops at its next batch (a batch that sees the pause under its item locks leaves
    them PENDING; at most the batches already past that check finish). Pending items stay
    PENDING; the beat dispatcher never resumes a paused job (it revives RUNNING ones only)."""
    _status_set(
        migration,
        allowed=CohortMigration.PAUSABLE,
        verb="paused",
        allowed_words="RUNNING",
        status=Status.PAUSED,
        paused_at=timezone.now(),
    )
    _status_announce(
        migration,
        action="pause",
        before=Status.RUNNING,
        event="paused",
        data={"reason": "REQUESTED"},
    )
    return migration


@transaction.atomic
def cohort_migration_resume(*, migration: CohortMigration) -> CohortMigration:
    """PAUSED → RUNNING and, on commit, the job's chains queued again with fresh tokens (any
    task of before the pause becomes a no-op). A canary that was paused before it finished
    goes on with the canary; one that finished moves the rest. Nothing pending: the chains
    find nothing and complete the job."""
    _status_set(
        migration,
        allowed=CohortMigration.RESUMABLE,
        verb="resumed",
        allowed_words="PAUSED",
        status=Status.RUNNING,
        paused_at=None,
    )
    _status_announce(migration, action="resume", before=Status.PAUSED, event="resumed")
    transaction.on_commit(lambda: _queue_batches(migration.id, revert=False))
    return migration


@transaction.atomic
def cohort_migration_retry_failed(*, migration: CohortMigration) -> CohortMigration:
    """FAILED items → PENDING again (after their cause is fixed), counts updated by one
    progress row. A COMPLETED job runs again (its chains queued on commit); a PAUSED one moves
    them once resumed (a RUNNING one: once it has completed, or after a pause). A failed contract since pending in
    another job stays FAILED. Refused (400) in any other status, or with nothing to retry."""
    locked = CohortMigration.objects.select_for_update().get(id=migration.id)
    if locked.status not in CohortMigration.RETRYABLE:
        raise _status_error(locked, "retried", "PAUSED or COMPLETED")
    items = connection.ops.quote_name(CohortMigrationItem._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            UPDATE {items} i SET status = 'PENDING', reason = '', message = ''
            WHERE i.migration_id = %s AND i.status = 'FAILED'
              AND NOT EXISTS (SELECT 1 FROM {items} o
                              WHERE o.contract_id = i.contract_id AND o.status = 'PENDING')
            """,
            [locked.id],
        )
        retried = cursor.rowcount
    if not retried:
        raise ValidationFailed(
            "The migration has no failed item to retry (or each is pending in another job)",
            field="migration_id",
        )
    CohortMigrationProgress.objects.create(migration=locked, failed=-retried, pending=retried)
    before = locked.status
    if before == Status.COMPLETED:
        locked.status, locked.finished_at = Status.RUNNING, None
        locked.save(update_fields=["status", "finished_at"])
        transaction.on_commit(lambda: _queue_batches(locked.id, revert=False))
    _status_announce(
        locked,
        action="retry_failed",
        before=before,
        event="retried",
        data={"retried": retried},
        description=f"{retried} failed contract(s) queued again",
    )
    migration.refresh_from_db()
    return migration


# --- the beat dispatcher -----------------------------------------------------------------------


def migrations_dispatch() -> dict:
    """Beat, every few seconds: start every due SCHEDULED job (each planned under SKIP LOCKED,
    so two dispatchers start it once); queue again every chain of a RUNNING / REVERTING job
    that died with its worker (services.cohort_migration_chains: within a lease of the death,
    each chain once); cancel what batches rolled back after a cancel left PENDING. The ids of
    the jobs started, and of each chain's job re-queued (one entry per chain)."""
    now = timezone.now()
    due = list(
        CohortMigration.objects.filter(status=Status.SCHEDULED, run_at__lte=now)
        .order_by("run_at")
        .values_list("id", flat=True)[:50]
    )
    started = [migration_id for migration_id in due if migration_start(migration_id=migration_id)]
    revived = chains_expired_claim()
    _queue_chains(revived)
    left_pending = CohortMigration.objects.filter(
        Exists(
            CohortMigrationItem.objects.filter(migration=OuterRef("pk"), status=ItemStatus.PENDING)
        ),
        status=Status.CANCELLED,
    ).values_list("id", flat=True)
    for migration_id in left_pending:
        with transaction.atomic():
            pending_items_cancel(migration_id)
    return {"started": started, "requeued": [chain.migration_id for chain in revived]}
