"""What the cohort-migration pages show, computed for their templates: the wizard's preview
(counts, skip reasons in words, the cohorts on the date, the projected chart, a sample with
names) and the live part of a job's page (status in words, progress, which actions it allows).
The views (`views_migrations.py`) only route; the rules stay in the selectors and services."""

from __future__ import annotations

import datetime as dt
import uuid

from django.urls import reverse
from django.utils import timezone

from config.audit.presenters import created_by_words
from config.core.ids import parse_uuid
from config.web import more_query, query_string
from contracts_app.models import CohortMigration, CohortMigrationItem, Customer
from contracts_app.presenters import (
    COUNT_WORDS,
    ChartMark,
    cohort_chart,
    package_diff_words,
    reason_words,
    timing_words,
)
from contracts_app.selectors.cohort_migrations import (
    ALIAS_TARGET_SERIES,
    REVERT_STATUSES,
    cohort_migration_preview,
    cohort_projection,
    migration_actions,
    migration_progress,
    migration_skip_reasons,
)
from contracts_app.selectors.contracts import credit_type_names
from contracts_app.services.cohort_migrations import RevertScope, effective_in_past
from packages_app.models import Package
from packages_app.selectors.package_diff import package_diff_names

Status = CohortMigration.Status
ItemStatus = CohortMigrationItem.Status
Reason = CohortMigrationItem.Reason


def preview_context(resolved) -> dict:
    """The preview and the names it needs, in a fixed number of queries."""
    preview = cohort_migration_preview(
        spec=resolved.spec,
        source=resolved.source_package,
        target=resolved.target_package,
        target_alias=resolved.target_alias,
    )
    sample = preview["sample"]
    customers = Customer.objects.in_bulk([row["customer_id"] for row in sample])
    new_packages = Package.objects.in_bulk(
        {row["new_contract"]["package_id"] for row in sample if row["new_contract"]}
    )
    diff = preview["diff"]
    spec = resolved.spec
    archived = preview["skipped"].get(Reason.CONTRACT_ARCHIVED, 0)
    return {
        "preview": preview,
        "resolved": resolved,
        "timing": timing_words(spec.timing, spec.at),
        "skipped": [
            (code, reason_words(code), n)
            for code, n in preview["skipped"].items()
            if code != Reason.CONTRACT_ARCHIVED
        ],
        # The headline is the live cohort: archived contracts are counted apart.
        "archived": archived,
        "live_total": preview["total"] - archived,
        "skipped_total": preview["total"] - preview["eligible"] - archived,
        "sample": [
            {
                **row,
                "customer": customers.get(parse_uuid(row["customer_id"])),
                "reason_words": reason_words(row["reason"]) if row["reason"] else "",
                "new_package": new_packages.get(parse_uuid(row["new_contract"]["package_id"]))
                if row["new_contract"]
                else None,
            }
            for row in sample
        ],
        "diff": package_diff_words(
            diff, **package_diff_names(diff), credit_type_names=credit_type_names()
        ),
        "cohort_counts": _cohort_counts(resolved, preview),
        "after_chart": _after_chart(resolved),
    }


def wizard_preview(resolved, form, *, confirming: bool, now: dt.datetime) -> dict:
    """The wizard's preview step: the preview, whether a confirm came with other input than
    the one previewed, whether the date is past, and the form bound again with the digest of
    this input and a fresh uniqueness key (hidden inputs)."""
    return {
        **preview_context(resolved),
        "changed_since_preview": confirming,
        # Still asked (ticked) while the date is past, so the confirm carries the answer.
        "past_from": effective_in_past(resolved.spec, now=now),
        "rebound": form.rebound(previewed=form.digest(), uniqueness_key=f"ui-{uuid.uuid4()}"),
    }


def _after_chart(resolved):
    """The source and target cohorts over time as they would be after the move (projected)."""
    spec, source, target = resolved.spec, resolved.source_package, resolved.target_package
    sizes = cohort_projection(spec=spec, source=source, target=target, now=timezone.now())
    labels = {source.id: f"{source.name} (after the move)"}
    hrefs = {source.id: reverse("contracts:package-detail", args=[source.id])}
    if target is not None:
        labels[target.id] = target.name
        hrefs[target.id] = reverse("contracts:package-detail", args=[target.id])
    else:
        labels[ALIAS_TARGET_SERIES] = f"moved to alias {resolved.target_alias}"
    marks = []
    if spec.at is not None:
        moment = "moves" if spec.timing == CohortMigration.Timing.AT else "first moves"
        marks.append(
            ChartMark(
                at=spec.at,
                label=moment,
                title=f"The cohort {moment} {spec.at:%Y-%m-%dT%H:%MZ}",
                kind="migration",
            )
        )
    return cohort_chart(
        sizes,
        labels=labels,
        hrefs=hrefs,
        marks=marks,
        title=f"{source.name} and its target after the move, projected",
    )


def _cohort_counts(resolved, preview) -> list[dict] | None:
    """The preview's on-date figures (the selector's, as the API gives them) with their
    packages, for the "Contracts on <date>" table."""
    on_date = preview["on_date"]
    if on_date is None:
        return None
    known = {str(resolved.source_package.id): resolved.source_package}
    if resolved.target_package is not None:
        known[str(resolved.target_package.id)] = resolved.target_package
    sides = [on_date["source"]] + ([on_date["target"]] if on_date["target"] else [])
    missing = [side["package_id"] for side in sides if side["package_id"] not in known]
    known.update({str(p.id): p for p in Package.objects.filter(id__in=missing)} if missing else {})
    return [
        {"package": known[side["package_id"]], "before": side["before"], "after": side["after"]}
        for side in sides
    ]


def live_context(migration: CohortMigration, *, may_change: bool, now: dt.datetime) -> dict:
    """The part of a job's page that changes while it runs: status, progress, outcome, and
    which of cancel / revert it allows now (asked of the model and the selector). A job due
    but not yet picked up by a worker is "starting" (polled every second), not "scheduled"."""
    progress = migration_progress([migration])[migration.id]
    counts = progress["counts"]
    actions = migration_actions(migration=migration, now=now)
    starting = migration.status == Status.SCHEDULED and migration.run_at <= now
    waiting = migration.status == Status.SCHEDULED and not starting
    paused = migration.status == Status.PAUSED
    return {
        "migration": migration,
        "progress": progress,
        "starting": starting,
        "done": counts["total"] - counts["pending"],
        "skipped": [
            (code, reason_words(code), n)
            for code, n in migration_skip_reasons(migration=migration).items()
        ],
        "not_reverted": [
            (code or "", reason_words(code) if code else "the database refused the write", n)
            for code, n in migration_skip_reasons(
                migration=migration, status=ItemStatus.REVERT_BLOCKED
            ).items()
        ]
        if migration.status in REVERT_STATUSES
        else [],
        "count_words": [(name, COUNT_WORDS.get(name, name), n) for name, n in counts.items()],
        "can_cancel": may_change and actions["cancel"],
        "can_revert": may_change and actions["revert"],
        "can_pause": may_change and actions["pause"],
        "can_resume": may_change and actions["resume"],
        # counts: how many a revert of what has not taken effect gives back, how many to retry
        "revert_not_in_effect": actions["revert_not_in_effect"] if may_change else 0,
        "retry_failed": actions["retry_failed"] if may_change else 0,
        "revert_window": actions["revert_window"],
        "blocked_words": [
            (code, reason_words(code), n)
            for code, n in (actions["revert_window"] or {}).get("blocked", {}).items()
        ],
        # Polled while it moves, and slowly while PAUSED (a resume or cancel made elsewhere
        # shows up); a job that has ended is not polled.
        "polls": migration.is_unfinished or paused,
        "poll_every": "10s" if paused else "5s" if waiting else "1s",
        # What the page shows now, sent back with the next poll: when it differs, the items
        # table is refreshed too (views_migrations.migration_live), so table and counts agree.
        # While RUNNING only the status counts: a table reloaded every second would lose the
        # rows a reader added with "Load more".
        "seen": "-".join(
            [migration.status]
            if migration.status == migration.Status.RUNNING
            else [migration.status, *(str(n) for n in counts.values())]
        ),
        "now": now,
    }


# Which answer of live_context allows each action of a job's page.
ALLOWED_BY = {
    "cancel": "can_cancel",
    "revert": "can_revert",
    "pause": "can_pause",
    "resume": "can_resume",
    "retry": "retry_failed",
}


def transition_allowed(live: dict, action: str, scope: str) -> bool:
    """Whether the job offers `action` now (a revert of what has not taken effect: its own
    count), as its page's buttons do."""
    if action == "revert" and scope == RevertScope.NOT_IN_EFFECT:
        return bool(live["revert_not_in_effect"])
    return bool(live[ALLOWED_BY[action]])


def creator_words(migration: CohortMigration) -> str:
    """Who created the job, in words (its "create" entry of the audit trail): a person, "alice
    through the API (token “ci”)", the command line, a process; never a bare "—"."""
    return created_by_words("cohort_migration", migration.pk, migration.created_by)


def migration_rows(migrations: list[CohortMigration]) -> list[dict]:
    """The list page's rows: each job with its progress, its timing in words, and whether it
    is due but not picked up yet ("starting", not "scheduled")."""
    progress, now = migration_progress(migrations), timezone.now()
    return [
        {
            "migration": m,
            "progress": progress[m.id],
            "timing": timing_words(m.timing, m.effective_at),
            "starting": m.status == Status.SCHEDULED and m.run_at <= now,
        }
        for m in migrations
    ]


def chosen(value: str | None, choices) -> str:
    """A filter's value when it is one of `choices`; "" (no filter) for an unknown one."""
    return value if value in choices else ""


def item_filters(params) -> tuple[str, str]:
    """A job's items' `?status=` and `?reason=` filters (unknown ones ignored)."""
    return chosen(params.get("status"), ItemStatus.values), chosen(
        params.get("reason"), Reason.values
    )


def migration_page(migration, page, *, status: str, reason: str, live: dict) -> dict:
    """A job's page: its `live` part, its timing and creator in words, and a keyset page of its
    items with the filters (kept in the download and "Load more" links)."""
    kept = {"status": status, "reason": reason}
    return {
        **live,
        "timing": timing_words(migration.timing, migration.effective_at),
        "created_by": creator_words(migration),
        **item_rows(page.items, status=status, reason=reason),
        "page": page,
        "filter_query": query_string(kept, kept),
        "more_query": more_query(kept, kept, page.next_cursor),
    }


def migration_list_page(page, *, status: str, package_id) -> dict:
    """The list page: a page of jobs as rows, the status and package filters (their choices and
    words), and the "Load more" link keeping them."""
    kept = {"status": status, "package": str(package_id) if package_id else ""}
    packages = list(Package.objects.order_by("name", "-created_at").values_list("id", "name"))
    return {
        "rows": migration_rows(page.items),
        "page": page,
        "status": status,
        "package_id": kept["package"],
        "package_name": next((name for pk, name in packages if pk == package_id), ""),
        "statuses": Status.choices,
        "status_words": Status(status).label if status else "",
        "packages": packages,
        "filtered": any(kept.values()),
        "more_query": more_query(kept, kept, page.next_cursor),
    }


def item_rows(items, *, status: str, reason: str) -> dict:
    """A job's items with their reasons in words, and the item filters' choices and words."""
    return {
        "items": [
            {"item": item, "reason_words": reason_words(item.reason) if item.reason else ""}
            for item in items
        ],
        "item_status": status,
        "item_reason": reason,
        "item_statuses": ItemStatus.choices,
        "item_status_words": ItemStatus(status).label if status else "",
        "item_reason_words": reason_words(reason) if reason else "",
        "item_reasons": [(code, reason_words(code)) for code in Reason.values],
    }
