"""Moving a contract's end, and its terms with it.

A contract's terms carry absolute dates, so ending a contract early without touching them would
leave credits and commits running after the end (customers credited twice once a successor
starts). `contract_end_move` therefore, in a constant number of statements:

- earlier end: clips every term to the new end. Terms (and generated recurrence periods) that
  start at or after it are deleted; access-schedule items are cut at it; invoice, scheduled-charge
  and discount items dated at or after it are dropped; overrides, recurring commits/credits and
  subscriptions end at it (open-ended ones included).
- later end, or open-ended, on a package contract: the terms become what provisioning the
  package for the longer window gives (materialise_package_terms), merged into the rows in
  place: a term or period that exists in both keeps its id and its schedule items' ids, so ids
  that clients hold stay valid; periods and terms new to the window are added.
- later end on a negotiated contract: there is no package to re-materialise from, so the first
  clip of each term (and of the discounts) keeps the term as negotiated in the contract's
  settings (`clipped_terms`, `discounts_as_negotiated`); a later end restores each of them
  clipped to the new end instead (deleted rows come back with their ids and ordinals), and
  forgets those restored in full.

Callers run it inside a transaction that holds the lock of the contract's subscription row
(contracts.contract_update_end_date takes it; provisioning and the schedule services already
hold it). The subscription-timeline exclusion constraint turns an end that would overlap the
next contract into a 409 naming `ending_before`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, connection

from config.audit.services import audit_record, changed_fields
from config.core.errors import Conflict, ValidationFailed
from config.core.instants import format_instant, parse_instant
from config.webhooks.services import events_record
from contracts_app.models import TIMELINE_CONSTRAINT, Contract, ContractTerm
from contracts_app.services.materialise import (
    TermRow,
    json_copy,
    materialise_package_terms,
)
from contracts_app.services.term_rows import contract_terms_rewrite, contract_terms_write
from contracts_app.services.term_snapshots import term_dump, term_load
from packages_app.models import PackageTerm

# Term kinds whose window is a plain [starting_at, ending_before) (body and columns).
_WINDOWED = ("override", "recurring_commit", "recurring_credit", "subscription")
# Keys of override specifiers that name other terms of the contract.
_TERM_REFERENCES = ("commit_ids", "recurring_commit_ids", "any_commit_or_credit_ids")


def _instant(text: str) -> dt.datetime:
    return parse_instant(text)


def _span(spans: list[tuple[dt.datetime, dt.datetime | None]]):
    starts = [start for start, _ in spans]
    ends = [end for _, end in spans if end is not None]
    return (min(starts) if starts else None, max(ends) if ends else None)


def _clip_points(schedule: dict | None, end: dt.datetime, spans: list) -> None:
    """Drop dated (invoice / charge) items at or after `end`, in place."""
    if not schedule or not schedule.get("schedule_items"):
        return
    kept = []
    for item in schedule["schedule_items"]:
        timestamp = _instant(item["timestamp"])
        if timestamp < end:
            kept.append(item)
            spans.append((timestamp, None))
    schedule["schedule_items"] = kept


def _clip_access(schedule: dict | None, end: dt.datetime, spans: list) -> None:
    """Drop access items starting at or after `end`, cut the others at it, in place."""
    if not schedule or not schedule.get("schedule_items"):
        return
    kept = []
    for item in schedule["schedule_items"]:
        starting_at, ending_before = _instant(item["starting_at"]), _instant(item["ending_before"])
        if starting_at >= end:
            continue
        if ending_before > end:
            item["ending_before"], ending_before = format_instant(end), end
        kept.append(item)
        spans.append((starting_at, ending_before))
    schedule["schedule_items"] = kept


def clipped(term: ContractTerm, end: dt.datetime) -> ContractTerm | None:
    """`term` ending no later than `end` (the same object, changed in place when it has to), or
    None when it starts at or after `end` and so never applies."""
    if term.kind == "spend_tracker":
        return term
    if term.starting_at is not None and term.starting_at >= end:
        return None
    if term.kind in _WINDOWED:
        if term.ending_before is None or term.ending_before > end:
            term.body = {**term.body, "ending_before": format_instant(end)}
            term.ending_before = end
        return term
    body = json_copy(term.body)
    spans: list = []
    if term.kind in ("commit", "credit"):
        _clip_access(body.get("access_schedule"), end, spans)
        _clip_points(body.get("invoice_schedule"), end, spans)
    elif term.kind == "scheduled_charge":
        _clip_points(body.get("schedule"), end, spans)
    if body != term.body:
        term.body = body
        term.starting_at, term.ending_before = _span(spans)
    return term


def _clip_all(
    terms: list[ContractTerm], end: dt.datetime
) -> tuple[list[ContractTerm], set[uuid.UUID]]:
    """(terms whose window changed, ids of terms to delete)."""
    changed, deleted = [], set()
    for term in terms:
        before = (term.starting_at, term.ending_before, term.body)
        kept = clipped(term, end)
        if kept is None:
            deleted.add(term.id)
        elif (kept.starting_at, kept.ending_before, kept.body) != before:
            changed.append(kept)
    # A recurrence period never outlives the recurring term it was generated from.
    deleted |= {t.id for t in terms if t.generated_from_id in deleted}
    return [t for t in changed if t.id not in deleted], deleted


# The same rule in SQL, for set-based callers (a cohort-migration batch deletes a whole batch's
# rows in one statement and never reads them): `term` is a ContractTerm row's alias, `end` an
# SQL expression. A row clipping deletes: it starts at or after the end (spend trackers never
# end), or its generator does (_clip_all).
def _starts_at_or_after(term: str, end: str) -> str:
    # Never NULL (a row without a start is not deleted), so the condition can be negated.
    return f"({term}.kind <> 'spend_tracker' AND COALESCE({term}.starting_at >= {end}, false))"


def clip_deletes_sql(term: str, end: str) -> str:
    """The rows clipped() and _clip_all delete at `end`, as an SQL condition on `term`."""
    table = connection.ops.quote_name(ContractTerm._meta.db_table)
    return (
        f"({_starts_at_or_after(term, end)} OR EXISTS (SELECT 1 FROM {table} generator "
        f"WHERE generator.id = {term}.generated_from_id "
        f"AND {_starts_at_or_after('generator', end)}))"
    )


def clip_windows_sql(term: str, end: str) -> str:
    """The rows clipped() ends by their window alone (a windowed kind reaching past `end`, not
    deleted), as an SQL condition on `term`: their new end is `end`, in the column and in the
    body's `ending_before` (format_instant)."""
    kinds = ", ".join(f"'{kind}'" for kind in _WINDOWED)
    return (
        f"({term}.kind IN ({kinds}) AND ({term}.ending_before IS NULL OR "
        f"{term}.ending_before > {end}) AND NOT {clip_deletes_sql(term, end)})"
    )


def clip_may_change_sql(term: str, end: str) -> str:
    """The rows whose dated items clipping at `end` may cut (a superset of those it does; never
    one it deletes, never a windowed one), as an SQL condition on `term`: what a set-based
    caller reads and clips with contract_end_clip, the rest done by the two conditions above."""
    return f"({term}.kind IN ('commit', 'credit', 'scheduled_charge') AND NOT {clip_deletes_sql(term, end)})"


def _items_sql(term: str, path: str) -> str:
    """A schedule's items, NULL when it has none (clipped() leaves such a schedule alone)."""
    items = f"{term}.body #> '{{{path},schedule_items}}'"
    return (
        f"CASE WHEN jsonb_typeof({items}) = 'array' AND jsonb_array_length({items}) > 0 "
        f"THEN {items} END"
    )


def clip_items_sql(term: str, end: str, end_text: str) -> str:
    """clipped() on a row clip_may_change_sql selects, in SQL: a subquery on `term` (for a
    LATERAL join) giving `changed` and, when changed, the row's new `body`, `starting_at` and
    `ending_before`. `end_text` is format_instant(end), as clipped() writes a cut item's end.

    As _clip_access: access items starting at or after the end are dropped, the others cut at
    it; as _clip_points: invoice (or charge) items dated at or after it are dropped; as _span:
    the new window runs from the first kept item to the last kept access item's end. Items
    keep their order. A set-based caller (a cohort-migration batch) clips a whole batch's rows
    this way without reading their bodies. An item without its dates (which the API's
    validation never lets in) is dropped here, where clipped() raises."""
    access = _items_sql(term, "access_schedule")
    points = (
        f"CASE WHEN {term}.kind = 'scheduled_charge' THEN {_items_sql(term, 'schedule')} "
        f"ELSE {_items_sql(term, 'invoice_schedule')} END"
    )
    points_path = (
        f"CASE WHEN {term}.kind = 'scheduled_charge' THEN '{{schedule,schedule_items}}'::text[] "
        "ELSE '{invoice_schedule,schedule_items}'::text[] END"
    )
    kept_access = f"a.starts < {end}"
    return (
        "SELECT a.changed OR p.changed AS changed, "
        f"CASE WHEN p.changed THEN jsonb_set(CASE WHEN a.changed THEN jsonb_set({term}.body, "
        f"'{{access_schedule,schedule_items}}', a.items) ELSE {term}.body END, {points_path}, "
        f"p.items) WHEN a.changed THEN jsonb_set({term}.body, "
        "'{access_schedule,schedule_items}', a.items) END AS body, "
        "LEAST(a.first_start, p.first_start) AS starting_at, a.last_end AS ending_before "
        "FROM (SELECT COALESCE(bool_or(a.starts >= "
        f"{end} OR a.ends > {end}), false) AS changed, "
        f"COALESCE(jsonb_agg(CASE WHEN a.ends > {end} THEN jsonb_set(a.item, '{{ending_before}}', "
        f"to_jsonb({end_text}::text)) ELSE a.item END ORDER BY a.n) FILTER (WHERE {kept_access}), "
        f"'[]') AS items, min(a.starts) FILTER (WHERE {kept_access}) AS first_start, "
        f"max(LEAST(a.ends, {end})) FILTER (WHERE {kept_access}) AS last_end "
        f"FROM (SELECT item, n, (item ->> 'starting_at')::timestamptz AS starts, "
        f"(item ->> 'ending_before')::timestamptz AS ends FROM jsonb_array_elements("
        f"CASE WHEN {term}.kind IN ('commit', 'credit') THEN {access} END) "
        "WITH ORDINALITY AS x(item, n)) a) a, "
        f"(SELECT COALESCE(bool_or(p.at >= {end}), false) AS changed, "
        f"COALESCE(jsonb_agg(p.item ORDER BY p.n) FILTER (WHERE p.at < {end}), '[]') AS items, "
        f"min(p.at) FILTER (WHERE p.at < {end}) AS first_start "
        "FROM (SELECT item, n, (item ->> 'timestamp')::timestamptz AS at "
        f"FROM jsonb_array_elements({points}) WITH ORDINALITY AS x(item, n)) p) p"
    )


def _clip_discounts(settings: dict, end: dt.datetime) -> dict:
    if not settings.get("discounts"):
        return settings
    discounts = json_copy(settings["discounts"])
    for discount in discounts:
        _clip_points(discount.get("schedule"), end, [])
    return {**settings, "discounts": discounts}


# --- a later end on a package contract: re-materialise, keeping ids -------------------------


def _identity(package_term_id, generated: bool, starting_at) -> tuple:
    """What makes a materialised row the same row across windows: its package term, and for a
    recurrence period also its start (period k always starts at origin + k periods)."""
    return ("period", package_term_id, starting_at) if generated else ("term", package_term_id)


def _item_key(item: dict) -> str:
    return item.get("starting_at") or item.get("timestamp") or ""


def _keep_item_ids(fresh: dict, existing: dict) -> None:
    """Schedule items of `fresh` that `existing` already had (same date) keep their ids."""
    for key in ("access_schedule", "invoice_schedule", "schedule"):
        old = {_item_key(i): i["id"] for i in (existing.get(key) or {}).get("schedule_items", [])}
        for item in (fresh.get(key) or {}).get("schedule_items") or []:
            item["id"] = old.get(_item_key(item), item["id"])


def _renamed(body: dict, ids: dict[str, str]) -> dict:
    """Term ids inside a fresh body (specifiers, parent links) as the kept rows' ids."""
    for specifier in body.get("override_specifiers") or []:
        for key in _TERM_REFERENCES:
            if specifier.get(key):
                specifier[key] = [ids.get(str(v), v) for v in specifier[key]]
    config = body.get("subscription_config")
    if config and config.get("subscription_id"):
        config["subscription_id"] = ids.get(
            str(config["subscription_id"]), config["subscription_id"]
        )
    for key in ("recurring_commit_id", "recurring_credit_id"):
        if body.get(key):
            body[key] = ids.get(body[key], body[key])
    return body


def _rematerialised(
    contract: Contract,
    terms: list[ContractTerm],
    package_terms: Iterable[Any],
    end: dt.datetime | None,
) -> tuple[list[ContractTerm], set[uuid.UUID], list[TermRow]]:
    """(rows to rewrite, ids to delete, rows to insert) turning `terms` into the package's
    terms for [contract start, end)."""
    usage = (contract.settings or {}).get("usage_statement_schedule") or {}
    fresh = materialise_package_terms(
        package_terms,
        contract_start=contract.starting_at,
        contract_end=end,
        usage_frequency=usage.get("frequency") or "MONTHLY",
    )
    # Only the package's own rows are re-materialised: terms an edit added (no package term),
    # and package terms an edit changed or archived (with their periods), stay as edited, like
    # a negotiated contract's.
    edited = {t.package_term_id for t in terms if t.edited_at is not None}
    ids: dict[str, str] = {}
    if edited:
        # References to an edited term (override specifiers, ...) keep naming its row.
        own_rows = {
            t.package_term_id: str(t.id)
            for t in terms
            if t.package_term_id in edited and t.generated_from_id is None
        }
        for row in fresh:
            if row.package_term_id in own_rows and row.generated_from_id is None:
                ids[str(row.id)] = own_rows[row.package_term_id]
        fresh = [row for row in fresh if row.package_term_id not in edited]
    existing = {
        _identity(t.package_term_id, t.generated_from_id is not None, t.starting_at): t
        for t in terms
        if t.package_term_id is not None and t.package_term_id not in edited
    }
    pairs: list[tuple[TermRow, ContractTerm | None]] = []
    for row in fresh:
        kept = existing.pop(
            _identity(row.package_term_id, row.generated_from_id is not None, row.starting_at),
            None,
        )
        pairs.append((row, kept))
        if kept is not None:
            ids[str(row.id)] = str(kept.id)
    # New rows go after every ordinal in use (deleted rows' included: one statement deletes
    # and another inserts, and (contract, kind, ordinal) is unique).
    next_ordinal = dict.fromkeys(PackageTerm.Kind.values, 0)
    for term in terms:
        next_ordinal[term.kind] = max(next_ordinal[term.kind], term.ordinal + 1)
    changed, inserted = [], []
    for row, kept in pairs:
        body = _renamed(row.body, ids)
        if kept is None:
            row.body = body
            if row.generated_from_id is not None:
                parent = str(row.generated_from_id)
                row.generated_from_id = uuid.UUID(ids.get(parent, parent))
            row.ordinal = next_ordinal[row.kind]
            next_ordinal[row.kind] += 1
            inserted.append(row)
            continue
        _keep_item_ids(body, kept.body)
        if (body, row.starting_at, row.ending_before) != (
            kept.body,
            kept.starting_at,
            kept.ending_before,
        ):
            kept.body, kept.starting_at, kept.ending_before = (
                body,
                row.starting_at,
                row.ending_before,
            )
            changed.append(kept)
    deleted = {t.id for t in existing.values()}
    deleted |= {t.id for t in terms if t.generated_from_id in deleted}
    return [t for t in changed if t.id not in deleted], deleted, inserted


# --- the move -------------------------------------------------------------------------------

# What clipping reads of a contract's terms.
CLIPPED_TERM_FIELDS = (
    "id",
    "kind",
    "ordinal",
    "product_id",
    "package_term_id",
    "generated_from_id",
    "starting_at",
    "ending_before",
    "body",
    "edited_at",
)


def contract_end_clip(
    *, contract: Contract, terms: list[ContractTerm], ending_before: dt.datetime
) -> tuple[dict, list[ContractTerm], set[uuid.UUID]]:
    """An earlier end, computed and not written: (the contract's new settings, the terms whose
    window changed, the ids of the terms to delete). `terms` (all of the contract's, with
    CLIPPED_TERM_FIELDS) are changed in place. contract_end_move writes one contract's; a
    cohort-migration batch writes a whole batch's with the same statements."""
    settings = contract.settings or {}
    negotiated = contract.package_id is None
    if negotiated:  # what a later end restores (no package to re-materialise from)
        as_negotiated = {str(t.id): term_dump(t) for t in terms}
    changed, deleted = _clip_all(terms, ending_before)
    if negotiated:
        settings = _remember_negotiated(
            settings, as_negotiated, {str(t.id) for t in changed} | {str(i) for i in deleted}
        )
    settings = _clip_discounts(settings, ending_before)
    return settings, changed, deleted


def contract_end_move(
    *, contract: Contract, ending_before: dt.datetime | None, audited: bool = True
) -> Contract:
    """Set the contract's end and bring its terms into the new window (module docstring).

    Statements: the contract's terms, the package's terms (later end of a package contract
    only), the contract row, one delete-and-rewrite of term rows, one insert of new rows (later
    end only). The passed instance is updated.
    """
    if contract.archived_at is not None:
        raise ValidationFailed("An archived contract cannot be changed", field="contract_id")
    if ending_before is not None and ending_before <= contract.starting_at:
        raise ValidationFailed(
            "ending_before must be after the contract's starting_at", field="ending_before"
        )
    previous_end = contract.ending_before
    if ending_before == previous_end:
        return contract
    earlier = ending_before is not None and (previous_end is None or ending_before < previous_end)
    negotiated = contract.package_id is None
    if not earlier and negotiated and not (contract.settings or {}).get(CLIPPED_TERMS):
        _save_end(
            contract,
            ending_before,
            _restored_discounts(contract.settings, ending_before),
            audited=audited,
        )
        return contract

    terms = list(ContractTerm.objects.filter(contract_id=contract.id).only(*CLIPPED_TERM_FIELDS))
    inserted: list[TermRow] = []
    if earlier:
        assert ending_before is not None
        settings, changed, deleted = contract_end_clip(
            contract=contract, terms=terms, ending_before=ending_before
        )
    elif negotiated:
        settings = _restored_discounts(contract.settings, ending_before)
        changed, inserted, settings = _restored_terms(contract, terms, settings, ending_before)
        deleted = set()
    else:
        settings = contract.settings
        package_terms = PackageTerm.objects.filter(package_id=contract.package_id).only(
            "id", "kind", "ordinal", "product_id", "body"
        )
        changed, deleted, inserted = _rematerialised(contract, terms, package_terms, ending_before)
    _save_end(contract, ending_before, settings, audited=audited)
    contract_terms_rewrite(changed=changed, deleted=deleted)
    contract_terms_write(contract=contract, rows=inserted)
    return contract


# --- a later end on a negotiated contract: restore what earlier clips took -------------------

CLIPPED_TERMS = "clipped_terms"
DISCOUNTS_AS_NEGOTIATED = "discounts_as_negotiated"


def _remember_negotiated(settings: dict, snapshots: dict[str, dict], touched: set[str]) -> dict:
    """Settings that also keep, for every term this clip touches, the term as negotiated (its
    first snapshot only: a second clip must not overwrite the original with a clipped one)."""
    kept = dict(settings.get(CLIPPED_TERMS) or {})
    for term_id in touched:
        kept.setdefault(term_id, snapshots[term_id])
    settings = {**settings, CLIPPED_TERMS: kept}
    if settings.get("discounts") and DISCOUNTS_AS_NEGOTIATED not in settings:
        settings[DISCOUNTS_AS_NEGOTIATED] = json_copy(settings["discounts"])
    return settings


def _restored_terms(
    contract: Contract, terms: list[ContractTerm], settings: dict, end: dt.datetime | None
) -> tuple[list[ContractTerm], list[TermRow], dict]:
    """(rows to rewrite, rows to insert, settings) bringing every clipped term back to what was
    negotiated, clipped to `end`."""
    snapshots = dict(settings.get(CLIPPED_TERMS) or {})
    current = {str(t.id): t for t in terms}
    contract_id = contract.id
    changed: list[ContractTerm] = []
    inserted: list[TermRow] = []
    still_clipped: dict[str, dict] = {}
    for term_id, snapshot in snapshots.items():
        original = term_load(snapshot, contract_id)
        restored = clipped(term_load(snapshot, contract_id), end) if end else original
        if restored is None:
            still_clipped[term_id] = snapshot  # still wholly after the end
            continue
        if (restored.starting_at, restored.ending_before, restored.body) != (
            original.starting_at,
            original.ending_before,
            original.body,
        ):
            still_clipped[term_id] = snapshot
        row = current.get(term_id)
        if row is None:
            inserted.append(
                TermRow(
                    kind=restored.kind,
                    ordinal=restored.ordinal,
                    body=restored.body,
                    id=restored.id,
                    product_id=restored.product_id,
                    package_term_id=restored.package_term_id,
                    generated_from_id=restored.generated_from_id,
                    starting_at=restored.starting_at,
                    ending_before=restored.ending_before,
                )
            )
        elif (row.starting_at, row.ending_before, row.body) != (
            restored.starting_at,
            restored.ending_before,
            restored.body,
        ):
            row.starting_at, row.ending_before, row.body = (
                restored.starting_at,
                restored.ending_before,
                restored.body,
            )
            changed.append(row)
    settings = {key: value for key, value in settings.items() if key != CLIPPED_TERMS}
    if still_clipped:
        settings[CLIPPED_TERMS] = still_clipped
    return changed, inserted, settings


def _restored_discounts(settings: dict | None, end: dt.datetime | None) -> dict:
    settings = dict(settings or {})
    negotiated = settings.pop(DISCOUNTS_AS_NEGOTIATED, None)
    if negotiated is None:
        return settings
    settings["discounts"] = negotiated
    if end is None:
        return settings
    clipped_settings = _clip_discounts(settings, end)
    if clipped_settings["discounts"] != negotiated:
        clipped_settings[DISCOUNTS_AS_NEGOTIATED] = negotiated
    return clipped_settings


def _save_end(
    contract: Contract, ending_before: dt.datetime | None, settings: dict, *, audited: bool
) -> None:
    previous_end = contract.ending_before
    contract.ending_before = ending_before
    contract.settings = settings
    try:
        contract.save(update_fields=["ending_before", "settings"])
    except IntegrityError as exc:
        if TIMELINE_CONSTRAINT in str(exc):
            raise Conflict(
                "The new end overlaps the next contract of the same subscription",
                field="ending_before",
            ) from None
        raise
    if not audited:  # the caller records the change as part of its own entry (an edit)
        return
    audit_record(
        action="update_end_date",
        resource_type="contract",
        resource_id=contract.pk,
        changes=changed_fields({"ending_before": previous_end}, {"ending_before": ending_before}),
    )
    events_record("contract.edited", {"id": contract.pk, "customer_id": contract.customer_id})
