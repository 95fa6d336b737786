"""Reads of cohort migrations: one job, pages of jobs and items, progress, and the preview.

Progress comes from the per-batch counter rows (CohortMigrationProgress: a few thousand rows for
a million contracts), never from counting items.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from typing import Any

from django.db import connection
from django.db.models import Count, Max, Min, Q, QuerySet, Sum
from django.utils import timezone

from config.core.errors import NotFound, ValidationFailed
from config.core.ids import parse_uuid
from config.core.instants import format_instant
from contracts_app.models import (
    CohortMigration,
    CohortMigrationItem,
    CohortMigrationProgress,
    Contract,
    ContractEdit,
)
from contracts_app.selectors.cohorts import CohortSizes, cohort_sizes_over_time
from contracts_app.services.cohort_migration_plan import (
    CohortSpec,
    cohort_counts_and_sample,
    cohort_edit_counts,
    cohort_moves_over_time,
    cohort_on_date_counts,
    cohort_sql_session,
)
from packages_app.models import Package
from packages_app.selectors.aliases import package_for_alias
from packages_app.selectors.package_diff import package_diff
from packages_app.time_offsets import add_offset

COUNTERS = (
    "total",
    "pending",
    "migrated",
    "skipped",
    "failed",
    "cancelled",
    "reverted",
    "revert_blocked",
)
PREVIEW_SAMPLE = 20
REVERT_STATUSES = (
    CohortMigration.Status.REVERTING,
    CohortMigration.Status.REVERTED,
    CohortMigration.Status.PARTIALLY_REVERTED,
)


def migration_get(*, migration_id) -> CohortMigration:
    pk = parse_uuid(migration_id)
    migration = (
        CohortMigration.objects.select_related("source_package", "target_package")
        .filter(id=pk)
        .first()
        if pk
        else None
    )
    if migration is None:
        raise NotFound("Cohort migration not found", field="migration_id")
    return migration


def migration_list(*, status: str | None = None, package_id=None) -> QuerySet:
    """Jobs, newest last (keyset on created_at, id), optionally by status or by a package as
    source or target."""
    queryset = CohortMigration.objects.select_related("source_package", "target_package")
    if status:
        queryset = queryset.filter(status=status)
    if package_id is not None:
        pk = parse_uuid(package_id)
        if pk is None:
            raise ValidationFailed("package_id is not a valid id", field="package_id")
        queryset = queryset.filter(Q(source_package_id=pk) | Q(target_package_id=pk))
    return queryset


def migration_items(
    *, migration: CohortMigration, status: str | None = None, reason: str | None = None
) -> QuerySet:
    """A job's items (keyset on id) through the (migration, status, id) index."""
    queryset = CohortMigrationItem.objects.filter(migration=migration)
    if status:
        queryset = queryset.filter(status=status)
    if reason:
        queryset = queryset.filter(reason=reason)
    return queryset


# An item's message when a revert leaves it moved (REVERT_BLOCKED), by reason.
REVERT_BLOCK_WORDS = {
    CohortMigrationItem.Reason.ARCHIVED_SINCE_MOVE: "Not reverted: the old or the new contract "
    "was archived after the move",
    CohortMigrationItem.Reason.SUCCESSOR_EXISTS: "Not reverted: a later contract of the "
    "subscription follows the new one (a renewal or another migration)",
    CohortMigrationItem.Reason.CHANGED_SINCE_MOVE: "Not reverted: the old or the new contract "
    "was changed after the move; a revert would discard that change",
    CohortMigrationItem.Reason.TOOK_EFFECT: "Not reverted: the move has already taken effect",
}


def revert_blocks(
    *,
    migration_id,
    now: dt.datetime,
    item_ids: list[int] | None = None,
    selected_only: bool = False,
) -> list[tuple[int, uuid.UUID, str, bool]]:
    """The moved items a revert must leave as they are, as (item id, old contract id, reason,
    whether its move is still ahead of `now`), by item id: of `item_ids` (a revert batch, its
    contracts locked), of the items the revert under way chose (`selected_only`:
    CohortMigrationItem.revert_selected) or of the whole job.

    The one rule of what a revert may undo. It gives the old contract its end, settings and
    term rows back and archives the new one, which is right only while both are as the move
    left them and nothing follows them. In order:
    - ARCHIVED_SINCE_MOVE: either contract was archived (a revert would leave the customer
      with no live contract, or bring back one somebody archived);
    - SUCCESSOR_EXISTS: another live contract of the subscription starts after the old one (a
      renewal, a later migration): the old contract's end would overlap it or leave a gap
      (looked up through the customer's (customer, starting_at) index: a subscription is one
      customer's, and subscription_id has no btree index of its own);
    - CHANGED_SINCE_MOVE: either contract or any of its term rows was written after the move
      (Contract.written_xact: the move wrote both in one transaction, so their stamps differ
      once anything writes either; a revert would discard that change);
    - TOOK_EFFECT: the move's instant has passed (billing has seen the new contract).
    One query."""
    contracts = connection.ops.quote_name(Contract._meta.db_table)
    items = connection.ops.quote_name(CohortMigrationItem._meta.db_table)
    Reason = CohortMigrationItem.Reason
    only_items = "AND i.id = ANY(%(item_ids)s)" if item_ids is not None else ""
    if selected_only:
        only_items += " AND i.revert_selected"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT id, contract_id, reason, ahead FROM (
              SELECT i.id, i.contract_id, i.effective_at > %(now)s AS ahead, CASE
                WHEN o.archived_at IS NOT NULL OR n.archived_at IS NOT NULL
                  THEN '{Reason.ARCHIVED_SINCE_MOVE}'
                WHEN EXISTS (
                  SELECT 1 FROM {contracts} s
                  WHERE s.customer_id = o.customer_id AND s.starting_at > o.starting_at
                  AND s.subscription_id = o.subscription_id AND s.id <> n.id
                  AND s.archived_at IS NULL)
                  THEN '{Reason.SUCCESSOR_EXISTS}'
                WHEN o.written_xact IS DISTINCT FROM n.written_xact
                  THEN '{Reason.CHANGED_SINCE_MOVE}'
                WHEN i.effective_at <= %(now)s THEN '{Reason.TOOK_EFFECT}'
              END AS reason
              FROM {items} i
              JOIN {contracts} o ON o.id = i.contract_id
              JOIN {contracts} n ON n.id = i.new_contract_id
              WHERE i.migration_id = %(migration_id)s AND i.status = 'MIGRATED' {only_items}
            ) judged
            WHERE reason IS NOT NULL ORDER BY id
            """,
            {"migration_id": migration_id, "now": now, "item_ids": item_ids},
        )
        return cursor.fetchall()


def migration_revert_window(*, migration: CohortMigration, now: dt.datetime) -> dict:
    """Whether a revert is still possible: how many migrated contracts there are, how many
    have taken effect (their effective instant has passed; any refuses a revert of scope ALL),
    until when such a revert is allowed (the earliest effective instant), and which moved
    contracts a revert would leave on the new package (revert_blocks: `blocked` by reason, a
    few `blocked_ids`); `not_in_effect_revertible`: the moved contracts a revert of scope
    NOT_IN_EFFECT would give back (still ahead, not blocked). Two queries (one while nothing
    is moved)."""
    row = CohortMigrationItem.objects.filter(
        migration=migration, status=CohortMigrationItem.Status.MIGRATED
    ).aggregate(
        migrated=Count("id"),
        taken=Count("id", filter=Q(effective_at__lte=now)),
        until=Min("effective_at"),
    )
    blocks = revert_blocks(migration_id=migration.id, now=now) if row["migrated"] else []
    blocked: dict[str, int] = defaultdict(int)
    for _, _, reason, _ in blocks:
        blocked[reason] += 1
    ahead_blocked = sum(1 for _, _, _, ahead in blocks if ahead)
    return {
        "migrated": row["migrated"],
        "taken": row["taken"],
        "until": row["until"],
        "blocked": dict(sorted(blocked.items())),
        "blocked_total": len(blocks),
        "blocked_ids": [contract_id for _, contract_id, _, _ in blocks[:20]],
        "revertible": row["migrated"] - len(blocks),
        "not_in_effect_revertible": row["migrated"] - row["taken"] - ahead_blocked,
    }


def migration_actions(*, migration: CohortMigration, now: dt.datetime) -> dict:
    """What a user may ask of the job now, by the services' own rules (the API, the CLI and
    the pages all ask this; the services enforce the same rules):
    - cancel: its status (SCHEDULED, RUNNING, PAUSED);
    - revert (scope ALL): its status, none of its moves has taken effect, and at least one
      moved contract can still be given back (the revert window);
    - revert_not_in_effect: how many moved contracts a revert of scope NOT_IN_EFFECT would
      give back (0: not offered);
    - pause / resume: a RUNNING job may be paused, a PAUSED one resumed;
    - retry_failed: how many FAILED items retryFailed would queue again (0: not offered)."""
    window = (
        migration_revert_window(migration=migration, now=now)
        if migration.can_revert_status
        else None
    )
    retry_failed = 0
    if migration.status in CohortMigration.RETRYABLE:
        retry_failed = CohortMigrationItem.objects.filter(
            migration=migration, status=CohortMigrationItem.Status.FAILED
        ).count()
    return {
        "cancel": migration.can_cancel,
        "revert": window is not None and not window["taken"] and window["revertible"] > 0,
        "revert_window": window,
        "revert_not_in_effect": window["not_in_effect_revertible"] if window else 0,
        "pause": migration.status in CohortMigration.PAUSABLE,
        "resume": migration.status in CohortMigration.RESUMABLE,
        "retry_failed": retry_failed,
    }


def migration_skip_reasons(
    *, migration, status: str = CohortMigrationItem.Status.SKIPPED
) -> dict[str, int]:
    """Items of `status` (skipped, or not reverted) by reason code (one grouped query through
    the status index); `migration` a job or its id."""
    return dict(
        CohortMigrationItem.objects.filter(migration=migration, status=status)
        .values_list("reason")
        .annotate(n=Count("id"))
        .order_by("reason")
    )


def migration_progress(migrations: list[CohortMigration]) -> dict[Any, dict]:
    """Counts by status, percent done, items/s and ETA of each job (of its revert, once it is
    reverting): one grouped query over the counter rows."""
    sums = {
        row["migration_id"]: row
        for row in CohortMigrationProgress.objects.filter(migration__in=migrations)
        .values("migration_id")
        .annotate(
            **{f"sum_{name}": Sum(name) for name in COUNTERS},
            # Items batches have taken (negative pending deltas that are not a cancel).
            processed=-Sum("pending", filter=Q(pending__lt=0, cancelled=0)),
            first_at=Min("at"),
            last_at=Max("at"),
        )
    }
    out = {}
    for migration in migrations:
        row = sums.get(migration.id) or {}
        counts = {name: int(row.get(f"sum_{name}") or 0) for name in COUNTERS}
        total = counts["total"]
        percent = 100.0 if migration.status == CohortMigration.Status.COMPLETED else 0.0
        if total:
            percent = round(100.0 * (total - counts["pending"]) / total, 1)
        rate, eta = None, None
        processed, since, left = int(row.get("processed") or 0), migration.started_at, "pending"
        if migration.status in REVERT_STATUSES:
            # The revert's own progress: moved contracts judged (given back or kept, with a
            # reason), since the revert began.
            judged = counts["reverted"] + counts["revert_blocked"]
            to_undo = counts["migrated"] + judged
            percent = round(100.0 * judged / to_undo, 1) if to_undo else 100.0
            processed, since, left = judged, migration.revert_started_at, "migrated"
        if processed and since and row.get("last_at"):
            seconds = (row["last_at"] - since).total_seconds()
            if seconds > 0:
                rate = round(processed / seconds, 1)
                if counts[left] and migration.status in (
                    CohortMigration.Status.RUNNING,
                    CohortMigration.Status.REVERTING,
                ):
                    eta = row["last_at"] + dt.timedelta(seconds=counts[left] / rate)
        out[migration.id] = {
            "counts": counts,
            "percent": percent,
            "items_per_second": rate,
            "eta": eta,
        }
    return out


# --- preview ---------------------------------------------------------------------------------


def _edits_not_carried(contract_ids: list) -> dict[Any, list[dict]]:
    """The edits of the sample's edited contracts that would move (one query, none when there
    are none): id, kind, time, and which parts of the contract each one touched."""
    if not contract_ids:
        return {}
    edits: dict[Any, list[dict]] = defaultdict(list)
    for edit in ContractEdit.objects.filter(contract_id__in=contract_ids).order_by(
        "contract_id", "timestamp", "id"
    ):
        edits[edit.contract_id].append(
            {
                "id": str(edit.id),
                "kind": edit.kind,
                "timestamp": format_instant(edit.timestamp),
                "fields": sorted(key for key in edit.edit if key != "uniqueness_key"),
            }
        )
    return edits


def cohort_migration_preview(
    *, spec: CohortSpec, source: Package, target: Package | None, target_alias: str = ""
) -> dict:
    """What a job with this input would do now; nothing is written. Totals and the sample are
    the plan's own SQL (services.cohort_migration_plan), so they agree with the job."""
    with cohort_sql_session():
        return _preview(spec=spec, source=source, target=target, target_alias=target_alias)


def _preview(*, spec: CohortSpec, source: Package, target: Package | None, target_alias: str):
    counts, sample_rows, ended = cohort_counts_and_sample(spec, limit=PREVIEW_SAMPLE)
    edit_counts = cohort_edit_counts(spec)
    not_carried = _edits_not_carried(
        [r["contract_id"] for r in sample_rows if r["has_edits"] and r["reason"] is None]
    )
    packages = {
        p.id: p
        for p in Package.objects.filter(id__in={r["target_package_id"] for r in sample_rows})
    }
    sample = []
    for row in sample_rows:
        at = row["effective_at"]
        new_package = packages.get(row["target_package_id"])
        eligible = row["reason"] is None
        new_end = None
        if eligible and new_package is not None and new_package.duration_unit:
            new_end = add_offset(at, new_package.duration_unit, new_package.duration_value)
        sample.append(
            {
                "customer_id": str(row["customer_id"]),
                "contract_id": str(row["contract_id"]),
                "effective_at": format_instant(at),
                # old end → new end of the contract that moves
                "old_contract": {
                    "starting_at": format_instant(row["starting_at"]),
                    "ending_before": format_instant(row["ending_before"]),
                    "new_ending_before": format_instant(at) if eligible else None,
                },
                "new_contract": {
                    "package_id": str(new_package.id),
                    "starting_at": format_instant(at),
                    "ending_before": format_instant(new_end),
                }
                if eligible and new_package is not None
                else None,
                "outcome": "MIGRATE" if eligible else "SKIP",
                "reason": row["reason"],
                "has_edits": row["has_edits"],
                # Built from the target package only: these edits do not carry over.
                "edits_not_carried": not_carried.get(row["contract_id"], []) if eligible else [],
            }
        )
    diff_target = target
    if diff_target is None and target_alias:
        diff_target = package_for_alias(name=target_alias, at=spec.at or timezone.now())
    return {
        "total": sum(counts.values()),
        "eligible": counts.get(None, 0),
        "ended_before_effective": ended,
        "on_date": cohort_on_date(spec=spec, source=source, target=diff_target),
        "skipped": {reason: n for reason, n in sorted(counts.items(), key=str) if reason},
        "edited_contracts": spec.edited_contracts,
        "edits": {
            "contracts": edit_counts.get(None, 0),
            "by_kind": {kind: n for kind, n in sorted(edit_counts.items(), key=str) if kind},
        },
        "sample": sample,
        "diff": package_diff(source=source, target=diff_target) if diff_target else None,
    }


def cohort_on_date(*, spec: CohortSpec, source: Package, target: Package | None) -> dict | None:
    """Contracts on the source and the target package on the migration's date (AT: its
    instant; NEXT_BILLING_PERIOD: `not_before`), now and after the job, as
    listContractsOnPackage lists them at that date (not archived, starting_at <= date <
    ending_before). None for END_OF_TERM (each contract has its own date).

    After the job, a moved contract ends at its effective instant, so it leaves the source's
    count only if it moves on or before the date (one that moves at a later boundary is still
    there), and its new contract counts on the target from the same instant. `target` is the
    target package, or the package a target alias names on the date: every contract that moves
    by then moves there. One query."""
    if spec.at is None:
        return None
    source_before, target_before, leaving, arriving = cohort_on_date_counts(
        spec, target_id=target.id if target is not None else None
    )
    target_side = None
    if target is not None:
        target_side = {
            "package_id": str(target.id),
            "before": target_before,
            "after": target_before + arriving,
        }
    return {
        "date": format_instant(spec.at),
        "source": {
            "package_id": str(source.id),
            "before": source_before,
            "after": source_before - leaving,
        },
        "target": target_side,
    }


# A target alias's packages, as one series of the projected chart.
ALIAS_TARGET_SERIES = uuid.UUID(int=0)


def cohort_projection(
    *, spec: CohortSpec, source: Package, target: Package | None, now: dt.datetime
) -> CohortSizes:
    """The source's and the target's cohorts at the start of each month, from two months
    before the move (or now) to a year after it, as they would be after this migration:
    today's sizes (the cohort chart's query) minus the contracts that would leave the source,
    plus those that would arrive on the target. Nothing is written; three queries (one sets
    the session's JIT off)."""
    anchor = spec.at or now
    start = min(now, anchor) - dt.timedelta(days=61)
    end = max(now, anchor) + dt.timedelta(days=366)
    packages = [source.id] + ([target.id] if target is not None else [])
    before = cohort_sizes_over_time(package_ids=packages, start=start, end=end, bucket="month")
    with cohort_sql_session():
        moves = cohort_moves_over_time(spec, points=before.points)
    leaving = [left for left, _ in moves]
    arriving = [arrived for _, arrived in moves]
    sizes = {
        source.id: [n - left for n, left in zip(before.sizes[source.id], leaving, strict=True)]
    }
    if target is not None:
        sizes[target.id] = [
            n + new for n, new in zip(before.sizes[target.id], arriving, strict=True)
        ]
    else:
        sizes[ALIAS_TARGET_SERIES] = arriving
    return CohortSizes(points=before.points, sizes=sizes)
