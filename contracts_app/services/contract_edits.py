"""Editing a provisioned contract (Metronome's v2 contracts/edit, commits/edit, credits/edit and
v1 contracts/amend): one edit is one transaction, all of it or nothing.

A constant number of statements whatever the number of terms: the contract and its subscription
locked, the terms the edit names read once (never the whole contract), the first free ordinal
per kind read once, the named products read once, then one rewrite of changed term rows, one insert of new rows, the contract row and
the edit row (plus contract_ends' own constant statements when the end date moves).

Added terms go through the provisioning code (materialise.materialise_negotiated_terms), so a
recurring commit or credit added by an edit is expanded into its periods exactly as at
provisioning. The contract keeps its package: edited terms sit beside the package's ones
(`package_term` empty), and `listContractsOnPackage` still lists it.

Acted on: every add_* of terms (commits, credits, recurring commits and credits, overrides,
scheduled charges, subscriptions, spend trackers), archive_* and remove_overrides, update_commits /
update_credits (schedule items and fields), update_recurring_* (amounts, end: periods re-expanded),
update_scheduled_charges, update_subscriptions (end, name), update_contract_end_date (terms
clipped or re-materialised as updateEndDate does), update_contract_name,
update_net_payment_terms_days, and the threshold configurations (added, or merged by update_*),
which the contract then returns. Stored and returned, not acted on (no invoicing engine here):
add_discounts, add_professional_services, add_reseller_royalties, the billing-provider and
revenue-system configuration updates, subscription quantity / seat updates,
allow_contract_ending_before_finalized_invoice.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import uuid
from collections.abc import Iterable
from typing import Any, NoReturn

from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q
from django.utils import timezone

from config.audit.services import audit_record, changed_fields
from config.core import jsonutil
from config.core.errors import ApplicationError, Conflict, NotFound, ValidationFailed
from config.core.ids import parse_uuid
from config.webhooks.services import events_record
from contracts_app.models import Contract, ContractEdit, ContractTerm
from contracts_app.services.contract_edit_terms import (
    commit_or_credit_updated,
    in_contract_window,
    outside_window_field,
    recurring_updated,
    scheduled_charge_updated,
    subscription_updated,
)
from contracts_app.services.contract_ends import contract_end_move
from contracts_app.services.materialise import (
    KIND_FIELDS,
    TermRow,
    json_copy,
    json_dates,
    materialise_negotiated_terms,
)
from contracts_app.services.provisioning import as_utc, stored_with_ids
from contracts_app.services.term_rows import contract_terms_write
from contracts_app.services.timeline_locks import lock_timelines
from packages_app.amounts import amounts_check
from packages_app.models import Product

# One audit entry per edit, named by how it was made.
AUDIT_ACTIONS = {
    ContractEdit.Kind.EDIT: "edit",
    ContractEdit.Kind.EDIT_COMMIT: "edit_commit",
    ContractEdit.Kind.EDIT_CREDIT: "edit_credit",
    ContractEdit.Kind.AMENDMENT: "amend",
}
# Edit field → term kind it adds.
ADD_FIELDS = {f"add_{field}": kind for kind, field in KIND_FIELDS.items()}
# Edit field → (term kinds it may name, key of the id in each entry).
ARCHIVE_FIELDS = {
    "archive_commits": (("commit",), "id"),
    "archive_credits": (("credit",), "id"),
    "archive_scheduled_charges": (("scheduled_charge",), "id"),
    "remove_overrides": (("override",), "id"),
}
UPDATE_FIELDS = {
    "update_commits": ("commit", "commit_id"),
    "update_credits": ("credit", "credit_id"),
    "update_scheduled_charges": ("scheduled_charge", "scheduled_charge_id"),
    "update_subscriptions": ("subscription", "subscription_id"),
    "update_recurring_commits": ("recurring_commit", "recurring_commit_id"),
    "update_recurring_credits": ("recurring_credit", "recurring_credit_id"),
}
# Contract-level fields an edit stores (settings) and returns without acting on them.
STORED_LISTS = {
    "add_discounts": "discounts",
    "add_professional_services": "professional_services",
    "add_reseller_royalties": "reseller_royalties",
}
STORED_UPDATES = {
    "add_billing_provider_configuration_update": "billing_provider_configuration_updates",
    "add_revenue_system_configuration_update": "revenue_system_configuration_updates",
}
THRESHOLDS = ("spend_threshold_configuration", "prepaid_balance_threshold_configuration")
_OVERRIDE_REFERENCES = ("commit_ids", "recurring_commit_ids", "any_commit_or_credit_ids")


def _lock(contract: Contract) -> Contract:
    """The contract as of its timeline's lock (timeline_locks), refused if archived."""
    current = lock_timelines([contract.id])[contract.id]
    if current.archived_at is not None:
        raise ValidationFailed("An archived contract cannot be edited", field="contract_id")
    return current


def _named_term_ids(data: dict) -> tuple[set[uuid.UUID], set[uuid.UUID]]:
    """(ids of the terms the edit names, ids of the recurring terms it updates)."""
    named: set[uuid.UUID] = set()
    recurring: set[uuid.UUID] = set()
    for field, (_, key) in ARCHIVE_FIELDS.items():
        named |= {pk for entry in data.get(field) or [] if (pk := parse_uuid(entry[key]))}
    for field, (kind, key) in UPDATE_FIELDS.items():
        ids = {pk for entry in data.get(field) or [] if (pk := parse_uuid(entry[key]))}
        named |= ids
        if kind.startswith("recurring_"):
            recurring |= ids
    for override in data.get("add_overrides") or []:
        for specifier in override.get("override_specifiers") or []:
            for key in _OVERRIDE_REFERENCES:
                named |= {pk for value in specifier.get(key) or [] if (pk := parse_uuid(value))}
    return named, recurring


def _terms(contract: Contract, data: dict) -> dict[str, ContractTerm]:
    """The terms the edit names (and the periods of recurring terms it updates, and the spend
    trackers when it archives one): one query, whatever the size of the contract."""
    named, recurring = _named_term_ids(data)
    wanted = Q(id__in=named) | Q(generated_from_id__in=recurring)
    if data.get("archive_spend_trackers"):
        wanted |= Q(kind="spend_tracker")
    if not named and not data.get("archive_spend_trackers"):
        return {}
    return {
        str(term.id): term for term in ContractTerm.objects.filter(wanted, contract_id=contract.id)
    }


def _next_ordinals(contract: Contract, data: dict) -> dict[str, int]:
    """Per kind, the first free ordinal (one aggregate over the (contract, kind, ordinal) index),
    when the edit adds rows."""
    adds = any(data.get(field) for field in ADD_FIELDS) or any(
        data.get(field) for field in ("update_recurring_commits", "update_recurring_credits")
    )
    ordinals = dict.fromkeys(KIND_FIELDS, 0)
    if adds:
        rows = (
            ContractTerm.objects.filter(contract_id=contract.id)
            .order_by()
            .values("kind")
            .annotate(last=Max("ordinal"))
        )
        for row in rows:
            ordinals[row["kind"]] = row["last"] + 1
    return ordinals


def _named_products(data: dict) -> dict[str, Product]:
    """Every product the edit names must exist: one query for all of them."""
    wanted: dict[str, str] = {}
    for field, kind in ADD_FIELDS.items():
        for index, term in enumerate(data.get(field) or []):
            if kind == "subscription":
                wanted.setdefault(
                    str(term["subscription_rate"]["product_id"]),
                    f"{field}[{index}].subscription_rate.product_id",
                )
            elif term.get("product_id") is not None:
                wanted.setdefault(str(term["product_id"]), f"{field}[{index}].product_id")
    for field in ("update_commits", "update_credits", *STORED_LISTS):
        for index, term in enumerate(data.get(field) or []):
            if term.get("product_id") is not None:
                wanted.setdefault(str(term["product_id"]), f"{field}[{index}].product_id")
    if not wanted:
        return {}
    valid = [pk for pk in (parse_uuid(key) for key in wanted) if pk]
    found = {str(p.id): p for p in Product.objects.filter(id__in=valid)}
    for product_id, field in wanted.items():
        if product_id not in found:
            raise ValidationFailed(f"Unknown product {product_id}", field=field)
    return found


def _term_named(
    terms: dict[str, ContractTerm], term_id: Any, kinds: tuple[str, ...], field: str
) -> ContractTerm:
    term = terms.get(str(parse_uuid(term_id))) if parse_uuid(term_id) else None
    if term is None or term.kind not in kinds:
        raise ValidationFailed(
            f"No {kinds[0].replace('_', ' ')} of this contract has the id {term_id}", field=field
        )
    if term.archived_at is not None:
        raise ValidationFailed(
            f"The {kinds[0].replace('_', ' ')} {term_id} is archived", field=field
        )
    return term


class _EditWriter:
    """Collects what an edit changes, then writes it with a fixed number of statements."""

    def __init__(
        self,
        contract: Contract,
        terms: dict[str, ContractTerm],
        next_ordinal: dict[str, int],
        now: dt.datetime,
    ):
        self.contract = contract
        self.now = now
        self.terms = terms
        self.changed: dict[uuid.UUID, ContractTerm] = {}
        self.deleted: set[uuid.UUID] = set()
        self.inserted: list[TermRow] = []
        self.next_ordinal = next_ordinal

    def change(self, term: ContractTerm) -> None:
        term.edited_at = self.now
        self.changed[term.id] = term

    def in_window(self, term, *, field: str):
        """`term` cut to the contract's window; a term left with nothing inside it is a 400
        naming `field` (contract_edit_terms.in_contract_window)."""
        kept = in_contract_window(
            term, start=self.contract.starting_at, end=self.contract.ending_before
        )
        if kept is None:
            raise ValidationFailed(
                _outside(self.contract),
                field=field,
            )
        return kept

    def flush(self) -> None:
        changed = [t for t in self.changed.values() if t.id not in self.deleted]
        _terms_rewrite(changed=changed, deleted=self.deleted)
        contract_terms_write(contract=self.contract, rows=self.inserted)


@functools.cache
def _rewrite_sql() -> str:
    table = connection.ops.quote_name(ContractTerm._meta.db_table)
    columns = ("starting_at", "ending_before", "body", "archived_at", "edited_at", "product_id")
    fields = [ContractTerm._meta.get_field(name) for name in ("id", *columns)]
    record = ", ".join(
        f"{connection.ops.quote_name(f.column)} {f.db_type(connection)}" for f in fields
    )
    assignments = ", ".join(
        f"{connection.ops.quote_name(f.column)} = v.{connection.ops.quote_name(f.column)}"
        for f in fields[1:]
    )
    return (
        f"WITH gone AS (DELETE FROM {table} WHERE id = ANY(%s::uuid[]) RETURNING 1) "
        f"UPDATE {table} AS t SET {assignments} "
        f"FROM jsonb_to_recordset(%s::jsonb) AS v({record}) WHERE t.id = v.id"
    )


def _terms_rewrite(*, changed: Iterable[ContractTerm], deleted: Iterable[uuid.UUID]) -> None:
    """Delete some term rows and rewrite others (window, body, archive and edit marks, product):
    one statement."""

    def column(value):
        if isinstance(value, dt.datetime):
            return value.isoformat()
        if isinstance(value, uuid.UUID):
            return str(value)
        return value

    deleted_ids = [str(term_id) for term_id in deleted]
    payload = [
        {
            "id": str(term.id),
            "starting_at": column(term.starting_at),
            "ending_before": column(term.ending_before),
            "body": term.body,
            "archived_at": column(term.archived_at),
            "edited_at": column(term.edited_at),
            "product_id": column(term.product_id),
        }
        for term in changed
    ]
    if deleted_ids or payload:
        with connection.cursor() as cursor:
            cursor.execute(_rewrite_sql(), [deleted_ids, jsonutil.dumps(payload)])


def _outside(contract: Contract) -> str:
    end = contract.ending_before.date().isoformat() if contract.ending_before else "open-ended"
    return (
        f"Outside the contract ({contract.starting_at.date().isoformat()} → {end}, end "
        "exclusive): nothing of this term would apply"
    )


def _usage_frequency(contract: Contract) -> str:
    return ((contract.settings or {}).get("usage_statement_schedule") or {}).get(
        "frequency"
    ) or "MONTHLY"


def _apply_archives(data: dict, writer: _EditWriter, now: dt.datetime) -> dict:
    out: dict[str, Any] = {}
    for field, (kinds, key) in ARCHIVE_FIELDS.items():
        for index, entry in enumerate(data.get(field) or []):
            term = _term_named(writer.terms, entry[key], kinds, f"{field}[{index}].{key}")
            term.archived_at = now
            writer.change(term)
            out.setdefault(field, []).append({"id": str(term.id)})
    aliases = data.get("archive_spend_trackers") or []
    if aliases:
        trackers = {
            t.body.get("alias"): t
            for t in writer.terms.values()
            if t.kind == "spend_tracker" and t.archived_at is None
        }
        for index, alias in enumerate(aliases):
            term = trackers.pop(alias, None)
            if term is None:
                raise ValidationFailed(
                    f"No active spend tracker of this contract has the alias {alias!r}",
                    field=f"archive_spend_trackers[{index}]",
                )
            term.archived_at = now
            writer.change(term)
        out["archive_spend_trackers"] = list(aliases)
    return out


def _apply_updates(data: dict, writer: _EditWriter) -> dict:
    out: dict[str, Any] = {}
    frequency = _usage_frequency(writer.contract)
    updated: set[uuid.UUID] = set()
    for field, (kind, key) in UPDATE_FIELDS.items():
        for index, change in enumerate(data.get(field) or []):
            prefix = f"{field}[{index}]"
            term = _term_named(writer.terms, change[key], (kind,), f"{prefix}.{key}")
            if term.id in updated:
                # Two changes of one term would otherwise silently keep only the last.
                raise ValidationFailed(
                    f"The {kind.replace('_', ' ')} {term.id} is already updated earlier in "
                    "this edit; give each term's changes in one entry",
                    field=f"{prefix}.{key}",
                )
            updated.add(term.id)
            if kind in ("commit", "credit"):
                schedule = (
                    "access_schedule" if change.get("access_schedule") else "invoice_schedule"
                )
                term = commit_or_credit_updated(term, change, field=prefix)
                writer.change(writer.in_window(term, field=f"{prefix}.{schedule}"))
            elif kind == "scheduled_charge":
                term = scheduled_charge_updated(term, change, field=prefix)
                writer.change(writer.in_window(term, field=f"{prefix}.invoice_schedule"))
            elif kind == "subscription":
                term = subscription_updated(term, change, field=prefix)
                writer.change(writer.in_window(term, field=f"{prefix}.ending_before"))
            else:
                child_kind = "commit" if kind == "recurring_commit" else "credit"
                children = [t for t in writer.terms.values() if t.generated_from_id == term.id]
                changed, deleted, inserted = recurring_updated(
                    term,
                    children,
                    change,
                    field=prefix,
                    usage_frequency=frequency,
                    next_ordinal=writer.next_ordinal[child_kind],
                )
                writer.next_ordinal[child_kind] += len(inserted)
                writer.in_window(changed[0], field=f"{prefix}.ending_before")
                for row in changed[1:]:
                    if in_contract_window(
                        row, start=writer.contract.starting_at, end=writer.contract.ending_before
                    ):
                        writer.change(row)
                    else:
                        deleted.append(row.id)
                writer.change(changed[0])
                writer.deleted |= set(deleted)
                writer.inserted += [
                    row
                    for row in inserted
                    if in_contract_window(
                        row, start=writer.contract.starting_at, end=writer.contract.ending_before
                    )
                ]
            entry = {"id": str(term.id), **{k: v for k, v in change.items() if k != key}}
            out.setdefault(field, []).append(json_dates(entry))
    return out


def _check_override_references(data: dict, terms: dict[str, ContractTerm]) -> None:
    """Override specifiers name commits of this contract (or temporary ids of this edit)."""
    temporary = {
        str(term["temporary_id"])
        for field in ("add_commits", "add_recurring_commits", "add_recurring_credits")
        for term in data.get(field) or []
        if term.get("temporary_id")
    }
    for index, override in enumerate(data.get("add_overrides") or []):
        for s_index, specifier in enumerate(override.get("override_specifiers") or []):
            for key in _OVERRIDE_REFERENCES:
                for value in specifier.get(key) or []:
                    term = terms.get(str(value))
                    if str(value) in temporary or (term is not None and term.archived_at is None):
                        continue
                    raise ValidationFailed(
                        f"No active commit or credit of this contract has the id {value}",
                        field=f"add_overrides[{index}].override_specifiers[{s_index}].{key}",
                    )


def _apply_adds(data: dict, writer: _EditWriter) -> list[TermRow]:
    """add_* terms materialised by the provisioning code, numbered after the existing rows."""
    wanted = {kind: data.get(field) or [] for field, kind in ADD_FIELDS.items()}
    if not any(wanted.values()):
        return []
    _check_override_references(data, writer.terms)
    try:
        rows = materialise_negotiated_terms(
            wanted,
            contract_start=writer.contract.starting_at,
            contract_end=writer.contract.ending_before,
            usage_frequency=_usage_frequency(writer.contract),
        )
    except ValidationFailed as exc:
        field = f"add_{exc.field}" if exc.field else None
        raise ValidationFailed(exc.message, field=field) from None
    kept: list[TermRow] = []
    for row in rows:
        if in_contract_window(
            row, start=writer.contract.starting_at, end=writer.contract.ending_before
        ):
            kept.append(row)
        elif row.generated_from_id is None:
            field = f"add_{KIND_FIELDS[row.kind]}"
            after_end = writer.contract.ending_before is not None and (
                row.starting_at is not None and row.starting_at >= writer.contract.ending_before
            )
            raise ValidationFailed(
                _outside(writer.contract),
                field=outside_window_field(
                    row.kind,
                    f"{field}[{row.ordinal}]",
                    data[field][row.ordinal],
                    after_end=after_end,
                ),
            )
        # else a period of a term cut at the window's edge: dropped, as the end move drops it
    for row in kept:
        row.ordinal += writer.next_ordinal[row.kind]
    for kind in KIND_FIELDS:  # counted before dropping: kept ordinals keep their gaps
        writer.next_ordinal[kind] += sum(1 for row in rows if row.kind == kind)
    writer.inserted += kept
    return kept


def _apply_contract_fields(
    data: dict, contract: Contract, products: dict[str, Product], now: dt.datetime, render_term
) -> dict:
    """Contract-level changes: name, payment terms, thresholds and the stored-only fields."""
    out: dict[str, Any] = {}
    settings = dict(contract.settings or {})
    if "update_contract_name" in data:
        contract.name = data["update_contract_name"]
        out["update_contract_name"] = data["update_contract_name"]
    if "update_net_payment_terms_days" in data:
        contract.net_payment_terms_days = data["update_net_payment_terms_days"]
        out["update_net_payment_terms_days"] = data["update_net_payment_terms_days"]
    for key in THRESHOLDS:
        if data.get(f"add_{key}") is not None:
            settings[key] = json_dates(data[f"add_{key}"])
            out[f"add_{key}"] = settings[key]
        if data.get(f"update_{key}") is not None:
            if not settings.get(key):
                raise ValidationFailed(
                    f"The contract has no {key.replace('_', ' ')} to update",
                    field=f"update_{key}",
                )
            merged = json_copy(settings[key])
            for name, value in json_dates(data[f"update_{key}"]).items():
                if isinstance(value, dict) and isinstance(merged.get(name), dict):
                    merged[name] = {**merged[name], **value}
                elif value is None:
                    merged.pop(name, None)
                else:
                    merged[name] = value
            settings[key] = merged
            out[f"update_{key}"] = json_dates(data[f"update_{key}"])
    for field, key in STORED_LISTS.items():
        if data.get(field):
            added = stored_with_ids(data[field], products, field)
            settings[key] = [*settings.get(key, []), *added]
            wire = "add_pro_services" if field == "add_professional_services" else field
            if field == "add_discounts" and render_term is not None:
                out[wire] = [render_term(discount) for discount in added]
            else:
                out[wire] = [{k: v for k, v in a.items() if k != "product_name"} for a in added]
    for field, key in STORED_UPDATES.items():
        if data.get(field):
            update = {**json_dates(data[field]), "requested_at": now.isoformat()}
            settings[key] = [*settings.get(key, []), update]
            out[field] = json_dates(data[field])
    if "allow_contract_ending_before_finalized_invoice" in data:
        out["allow_contract_ending_before_finalized_invoice"] = data[
            "allow_contract_ending_before_finalized_invoice"
        ]
    contract.settings = settings
    return out


def _rendered_terms(
    rows: list[TermRow], contract: Contract, products: dict[str, Product], render
) -> dict:
    """The added terms in the response form (edit history shows them as added)."""
    out: dict[str, list] = {}
    for row in rows:
        if row.generated_from_id is not None:
            continue
        term = ContractTerm(
            id=row.id,
            contract=contract,
            kind=row.kind,
            ordinal=row.ordinal,
            product_id=row.product_id,
            starting_at=row.starting_at,
            ending_before=row.ending_before,
            body=row.body,
        )
        term.product = products.get(str(row.product_id)) if row.product_id else None
        out.setdefault(f"add_{KIND_FIELDS[row.kind]}", []).append(render(term))
    return out


def _term_state(term: ContractTerm) -> tuple:
    return (
        json_copy(term.body),
        term.starting_at,
        term.ending_before,
        term.archived_at,
        str(term.product_id) if term.product_id else None,
    )


def _changes_anything(
    writer: _EditWriter,
    terms_before: dict[str, tuple],
    before: dict,
    contract: Contract,
    settings_before: dict,
) -> bool:
    """Whether the edit changes the contract at all: an edit that does not is refused rather
    than recorded (it would still count as an edit, e.g. to migrations, which skip edited
    contracts)."""
    if writer.inserted or writer.deleted:
        return True
    if any(getattr(contract, key) != value for key, value in before.items()):
        return True
    if (contract.settings or {}) != settings_before:
        return True
    return any(
        _term_state(term) != terms_before.get(str(pk)) for pk, term in writer.changed.items()
    )


def _refuse_a_retry(contract: Contract, data: dict) -> None:
    """A retried edit (its uniqueness_key used already) answers 409 as any retry does, even
    when the first attempt left nothing for the retry to change; one query, on that path only."""
    key = data.get("uniqueness_key")
    if key and ContractEdit.objects.filter(contract=contract, uniqueness_key=key).exists():
        raise Conflict(
            "An edit with this uniqueness_key was already made to this contract",
            field="uniqueness_key",
        )


def _save_edit(
    *,
    contract: Contract,
    kind: str,
    wire: dict,
    uniqueness_key: str | None,
    created_by: str,
    starting_at: dt.datetime | None = None,
) -> ContractEdit:
    edit = ContractEdit(
        id=uuid.uuid4(),
        contract=contract,
        kind=kind,
        created_by=created_by,
        uniqueness_key=uniqueness_key,
        starting_at=starting_at,
        edit=wire,
    )
    try:
        edit.save(force_insert=True)
    except IntegrityError as exc:
        if "contract_edit_uniqueness_key" in str(exc):
            raise Conflict(
                "An edit with this uniqueness_key was already made to this contract",
                field="uniqueness_key",
            ) from None
        raise
    return edit


def _move_end_date(contract: Contract, data: dict) -> None:
    """Moves the contract's end to `update_contract_end_date` (unaudited: the edit is); an
    error on the end is named by this request's field."""
    try:
        contract_end_move(
            contract=contract,
            ending_before=as_utc(data["update_contract_end_date"]),
            audited=False,
        )
    except ApplicationError as exc:  # named by this request's field, not updateEndDate's
        if exc.field == "ending_before":
            exc.field = "update_contract_end_date"
        raise


def _refuse_unchanged(contract: Contract, data: dict) -> NoReturn:
    """Refuses an edit that changes nothing (a retry of a stored edit is refused as such)."""
    _refuse_a_retry(contract, data)
    requested = [key for key in data if key not in ("contract_id", "customer_id", "uniqueness_key")]
    raise ValidationFailed(
        "This edit changes nothing: the contract already has it"
        if requested
        else "This edit names no change",
        field=requested[0] if requested else None,
    )


def _show_added_terms(
    wire: dict[str, Any],
    added: list[TermRow],
    contract: Contract,
    products: dict[str, Product],
    render_term,
) -> None:
    """Adds the added terms to the edit's `wire`: in their response form when a renderer is
    given, else as stored (generated terms left out)."""
    if render_term is not None:
        wire.update(_rendered_terms(added, contract, products, render_term))
    else:
        for row in added:
            if row.generated_from_id is None:
                field = f"add_{KIND_FIELDS[row.kind]}"
                wire.setdefault(field, []).append({"id": str(row.id), **row.body})


def _record_edited(
    contract: Contract, edit: ContractEdit, *, kind: str, wire: dict[str, Any], before: dict
) -> None:
    """The edit's audit entry (what it touched, how many of each, the fields it changed) and
    the `contract.edited` event."""
    after = {key: getattr(contract, key) for key in before}
    audit_record(
        action=AUDIT_ACTIONS[kind],
        resource_type="contract",
        resource_id=contract.pk,
        description=f"{AUDIT_ACTIONS[kind].replace('_', ' ').capitalize()} {edit.id}: "
        + ", ".join(sorted(key for key in wire if key != "uniqueness_key")),
        changes={
            "edit_id": str(edit.id),
            "counts": {key: len(v) for key, v in wire.items() if isinstance(v, list)},
            **changed_fields(before, after),
        },
    )
    events_record("contract.edited", {"id": contract.pk, "customer_id": contract.customer_id})


@transaction.atomic
def contract_edit(
    *,
    contract: Contract,
    data: dict,
    created_by: str = "",
    kind: str = ContractEdit.Kind.EDIT,
    render_term=None,
    starting_at: dt.datetime | None = None,
    recorded: dict | None = None,
) -> ContractEdit:
    """Apply one edit (validated v2 contracts/edit body) to `contract`, all of it or nothing.

    `render_term(term) -> dict` gives an added term's (or discount's) response form for the
    edit history (the API's renderer; services do not import the API). Unknown or archived term ids are a 400
    naming the field; a reused `uniqueness_key` is a 409.
    """
    amounts_check(data)
    contract = _lock(contract)
    now = timezone.now()
    before = {
        "name": contract.name,
        "ending_before": contract.ending_before,
        "net_payment_terms_days": contract.net_payment_terms_days,
    }
    settings_before = json_copy(contract.settings or {})
    if "update_contract_end_date" in data:
        _move_end_date(contract, data)
    terms = _terms(contract, data)
    terms_before = {pk: _term_state(term) for pk, term in terms.items()}
    products = _named_products(data)
    writer = _EditWriter(contract, terms, _next_ordinals(contract, data), now)
    wire: dict[str, Any] = {}
    wire.update(_apply_archives(data, writer, now))
    wire.update(_apply_updates(data, writer))
    added = _apply_adds(data, writer)
    wire.update(_apply_contract_fields(data, contract, products, now, render_term))
    if not _changes_anything(writer, terms_before, before, contract, settings_before):
        _refuse_unchanged(contract, data)
    if "update_contract_end_date" in data:
        wire["update_contract_end_date"] = json_dates(as_utc(data["update_contract_end_date"]))
    contract.save(update_fields=["name", "net_payment_terms_days", "settings"])
    writer.flush()
    _show_added_terms(wire, added, contract, products, render_term)
    if data.get("uniqueness_key"):
        wire["uniqueness_key"] = data["uniqueness_key"]
    wire.update(recorded or {})
    edit = _save_edit(
        contract=contract,
        kind=kind,
        wire=wire,
        uniqueness_key=data.get("uniqueness_key"),
        created_by=created_by,
        starting_at=as_utc(starting_at),
    )
    _record_edited(contract, edit, kind=kind, wire=wire, before=before)
    return edit


# v1 amend field → the v2 edit field that does the same.
AMEND_FIELDS = {
    "commits": "add_commits",
    "credits": "add_credits",
    "overrides": "add_overrides",
    "scheduled_charges": "add_scheduled_charges",
    "discounts": "add_discounts",
    "professional_services": "add_professional_services",
    "reseller_royalties": "add_reseller_royalties",
}
# v1 amend fields recorded on the amendment, not acted on.
AMEND_RECORDED = (
    "custom_fields",
    "netsuite_sales_order_id",
    "salesforce_opportunity_id",
    "total_contract_value",
)


def contract_amend(
    *, contract: Contract, data: dict, created_by: str = "", render_term=None
) -> ContractEdit:
    """v1 contracts/amend: terms added to the contract (each with its own dates) as an
    amendment effective from `starting_at`, through the same path as a v2 edit."""
    amounts_check(data)  # named by the amend request's own field paths
    starting_at = as_utc(data["starting_at"])
    if starting_at < contract.starting_at:
        raise ValidationFailed(
            "An amendment cannot start before the contract starts", field="starting_at"
        )
    edit = {AMEND_FIELDS[key]: value for key, value in data.items() if key in AMEND_FIELDS}
    recorded = {key: json_dates(data[key]) for key in AMEND_RECORDED if key in data}
    with _fields_renamed({edit_field: key for key, edit_field in AMEND_FIELDS.items()}):
        return contract_edit(
            contract=contract,
            data=edit,
            created_by=created_by,
            kind=ContractEdit.Kind.AMENDMENT,
            render_term=render_term,
            starting_at=starting_at,
            recorded=recorded,
        )


@contextlib.contextmanager
def _fields_renamed(names: dict[str, str]):
    """Errors of the v2 edit a v1 or single-term request became, named by that request's own
    fields (`add_credits[0].x` → `credits[0].x`; `update_commits[0].x` → `x`)."""
    try:
        yield
    except ApplicationError as exc:
        for edit_field, own in names.items():
            if exc.field == edit_field or (exc.field or "").startswith(
                (edit_field + ".", edit_field + "[")
            ):
                rest = exc.field[len(edit_field) :]
                exc.field = (own + rest if own else rest.lstrip(".")) or None
                break
        raise


@transaction.atomic
def contract_commit_edit(
    *, customer_id, term_id, kind: str, data: dict, created_by: str = ""
) -> ContractEdit:
    """v2 contracts/commits/edit or credits/edit: one commit (credit) of the customer, found by
    its id alone, changed as update_commits would, recorded in its contract's edit history."""
    amounts_check(data)  # named by the commits/edit request's own field paths
    field = "commit_id" if kind == "commit" else "credit_id"
    customer_pk, term_pk = parse_uuid(customer_id), parse_uuid(term_id)
    term = (
        ContractTerm.objects.select_related("contract")
        .filter(id=term_pk, kind=kind, contract__customer_id=customer_pk)
        .first()
        if customer_pk and term_pk
        else None
    )
    if term is None:
        raise NotFound(f"No {kind} of this customer has that id", field=field)
    update_field = "update_commits" if kind == "commit" else "update_credits"
    change = {field: str(term.id), **{k: v for k, v in data.items() if k != field}}
    with _fields_renamed({f"{update_field}[0]": "", update_field: ""}):
        return contract_edit(
            contract=term.contract,
            data={update_field: [change]},
            created_by=created_by,
            kind=ContractEdit.Kind.EDIT_COMMIT
            if kind == "commit"
            else ContractEdit.Kind.EDIT_CREDIT,
        )
