"""Materialisation: package terms (relative offsets) → contract terms (absolute dates).

Pure functions, no database: they take plain term bodies and return `TermRow`s that the
provisioning service bulk-inserts. Every date is calendar arithmetic from the contract start
(DESIGN.md §4). A term's end is computed as start + (starting_at_offset + duration) in one step
when both offsets are in the same family (days/weeks, or months/years), so Jan 31 + 1 month
+ 1 month is Mar 31, not Mar 28. Offsets of different families are applied in order.

Recurring commits and credits are stored once with their window and once per period. An
open-ended one (no end of its own, contract without end) is expanded OPEN_ENDED_HORIZON ahead
of its start and no further: see that constant.

Invoice `recurring_schedule`s of negotiated terms become schedule items (expand_recurring_schedule).

The stored body of a contract term is the contract-create REQUEST form of that term with
absolute dates (`access_schedule.schedule_items[].starting_at/ending_before`,
`invoice_schedule.schedule_items[].timestamp`, `starting_at`/`ending_before`, ...) and a server
`id` on the term and on each schedule item, so package contracts and negotiated contracts are
stored, and rendered, the same way.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from config.core.billing_periods import PERIOD_BY_FREQUENCY, months_per_period, period_of
from config.core.errors import ValidationFailed
from config.core.instants import format_instant, parse_instant
from config.core.money import line_amount, split_evenly
from packages_app.time_offsets import add_offset

Offset = tuple[str, int]

# Without an end (open-ended contract, no duration) a recurring term is expanded this far ahead
# of ITS START when the contract is provisioned (or re-materialised: a later end, a moved
# start). A beat task (services/recurring_horizon.py) then keeps the periods of the next
# RECURRING_HORIZON from today materialised, appending generated rows after the last ordinal.
# A guard against runaway expansion bounds every term.
OPEN_ENDED_HORIZON: Offset = ("YEARS", 1)
MAX_PERIODS_PER_TERM = 1000

# Keys that pointed at other terms of the same payload (temporary ids or package term ids).
_SPECIFIER_ID_LISTS = ("commit_ids", "recurring_commit_ids", "any_commit_or_credit_ids")
# Schedules that materialisation rebuilds (with absolute dates) for each kind of package term.
_REBUILT_SCHEDULES = {
    "commit": ("access_schedule", "invoice_schedule"),
    "credit": ("access_schedule", "invoice_schedule"),
    "scheduled_charge": ("schedule",),
}


def _family(unit: str) -> str:
    return "months" if unit in ("MONTHS", "YEARS") else "days"


def _normalised(unit: str, value: int) -> Offset:
    if unit == "YEARS":
        return "MONTHS", 12 * value
    if unit == "WEEKS":
        return "DAYS", 7 * value
    return unit, value


def as_offset(value: Any) -> Offset:
    if isinstance(value, tuple):
        return value
    return value["unit"], int(value["value"])


def shift(origin: dt.datetime, *offsets: Any) -> dt.datetime:
    """`origin` moved by each offset in turn; consecutive offsets of one family are summed first,
    so a date is always computed from the origin in one step when it can be."""
    merged: list[Offset] = []
    for offset in offsets:
        if offset is None:
            continue
        unit, value = _normalised(*as_offset(offset))
        if merged and _family(merged[-1][0]) == _family(unit):
            merged[-1] = (merged[-1][0], merged[-1][1] + value)
        else:
            merged.append((unit, value))
    moment = origin
    for unit, value in merged:
        moment = add_offset(moment, unit, value)
    return moment


@dataclass
class TermRow:
    kind: str
    ordinal: int
    body: dict
    id: uuid.UUID = field(default_factory=uuid.uuid4)
    product_id: str | None = None
    package_term_id: uuid.UUID | None = None
    generated_from_id: uuid.UUID | None = None
    starting_at: dt.datetime | None = None
    ending_before: dt.datetime | None = None


def json_copy(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists, immutable leaves such as str, Decimal,
    datetime): what copy.deepcopy does for it, several times faster (no memo, no dispatch)."""
    if isinstance(value, dict):
        return {key: json_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [json_copy(item) for item in value]
    return value


def new_id() -> str:
    return str(uuid.uuid4())


def term_product_id(kind: str, body: dict) -> str | None:
    if kind == "subscription":
        return (body.get("subscription_rate") or {}).get("product_id")
    return body.get("product_id")


def _span(rows: Iterable[tuple[dt.datetime | None, dt.datetime | None]]):
    starts = [s for s, _ in rows if s is not None]
    ends = [e for _, e in rows if e is not None]
    return (min(starts) if starts else None, max(ends) if ends else None)


# --- package term (relative) → contract term body (absolute) ---------------------------------


def _absolute_access_schedule(schedule: dict, origin: dt.datetime) -> tuple[dict, list]:
    out = {k: json_copy(v) for k, v in schedule.items() if k != "schedule_items"}
    items, spans = [], []
    for item in schedule.get("schedule_items") or []:
        starting_at = shift(origin, item["starting_at_offset"])
        ending_before = shift(origin, item["starting_at_offset"], item["duration"])
        items.append(
            {
                "id": new_id(),
                "amount": item["amount"],
                "starting_at": format_instant(starting_at),
                "ending_before": format_instant(ending_before),
            }
        )
        spans.append((starting_at, ending_before))
    out["schedule_items"] = items
    return out, spans


def _absolute_point_schedule(schedule: dict, origin: dt.datetime) -> tuple[dict, list]:
    out = {k: json_copy(v) for k, v in schedule.items() if k != "schedule_items"}
    items, spans = [], []
    for item in schedule.get("schedule_items") or []:
        timestamp = shift(origin, item["date_offset"])
        entry = {k: json_copy(v) for k, v in item.items() if k not in ("id", "date_offset")}
        entry.update({"id": new_id(), "timestamp": format_instant(timestamp)})
        items.append(entry)
        spans.append((timestamp, None))
    out["schedule_items"] = items
    return out, spans


def absolute_from_package_term(
    kind: str, package_body: dict, *, contract_start: dt.datetime, contract_end: dt.datetime | None
) -> tuple[dict, dt.datetime | None, dt.datetime | None]:
    """(absolute body, starting_at, ending_before) of one package term for one contract start."""
    # The schedules rebuilt below are read from the package body, not copied first.
    rebuilt = _REBUILT_SCHEDULES.get(kind, ())
    body = {
        key: value if key in rebuilt and value else json_copy(value)
        for key, value in package_body.items()
        if key not in ("id", "temporary_id")
    }
    start = end = None
    if kind in ("commit", "credit"):
        spans: list = []
        if body.get("access_schedule"):
            body["access_schedule"], access = _absolute_access_schedule(
                body["access_schedule"], contract_start
            )
            spans += access
        if body.get("invoice_schedule"):
            body["invoice_schedule"], points = _absolute_point_schedule(
                body["invoice_schedule"], contract_start
            )
            spans += points
        start, end = _span(spans)
    elif kind == "scheduled_charge":
        body["schedule"], points = _absolute_point_schedule(body["schedule"], contract_start)
        start, end = _span(points)
    elif kind in ("override", "recurring_commit", "recurring_credit", "subscription"):
        offset = body.pop("starting_at_offset", None)
        duration = body.pop("duration", None)
        start = shift(contract_start, offset)
        if duration is not None:
            end = shift(contract_start, offset, duration)
        elif kind != "override":
            end = contract_end
        body["starting_at"] = format_instant(start)
        if end is not None:
            body["ending_before"] = format_instant(end)
    return body, start, end


# --- recurring commits / credits → one commit / credit per period ----------------------------


def recurrence_period(body: dict, usage_frequency: str) -> Offset:
    # Without recurrence_frequency, Metronome creates recurring commits on the usage statement
    # frequency; each one lasts commit_duration.value periods.
    return period_of(body.get("recurrence_frequency") or usage_frequency)


def _whole_periods(body: dict, field_name: str) -> int:
    raw = (body.get("commit_duration") or {}).get("value", 1)
    value = Decimal(str(raw))
    if value != value.to_integral_value() or value < 1:
        raise ValidationFailed(
            "commit_duration.value must be a whole number of periods (1 or more)",
            field=f"{field_name}.commit_duration.value",
        )
    return int(value)


# What a generated commit (or credit) copies from its recurring term, as it is.
_PERIOD_CHILD_COPIED_KEYS = (
    "name",
    "description",
    "priority",
    "rate_type",
    "applicable_product_ids",
    "applicable_product_tags",
    "specifiers",
    "rollover_fraction",
    "subscription_config",
    "hierarchy_configuration",
)


def _period_access_schedule(access: dict, start_text: str, end_text: str) -> dict:
    """One period's access schedule: one item of the recurring term's access amount."""
    credit_type_id = access.get("credit_type_id")
    schedule = {
        "schedule_items": [
            {
                "id": new_id(),
                "amount": line_amount(access["unit_price"], access.get("quantity")),
                "starting_at": start_text,
                "ending_before": end_text,
            }
        ]
    }
    if credit_type_id:
        schedule["credit_type_id"] = credit_type_id
    if access.get("access_type"):
        schedule["access_type"] = access["access_type"]
    return schedule


def _period_invoice_schedule(invoice: dict, start_text: str) -> dict:
    """One period's invoice schedule: the recurring commit's invoice amount, at its start."""
    return {
        "credit_type_id": invoice["credit_type_id"],
        "schedule_items": [
            {
                "id": new_id(),
                "timestamp": start_text,
                "quantity": invoice["quantity"],
                "unit_price": invoice["unit_price"],
            }
        ],
    }


def _period_child_body(
    row: TermRow, child_kind: str, access: dict, start_text: str, end_text: str
) -> dict:
    """The body of the commit (or credit) a recurring term generates for one period."""
    body = row.body
    child = {
        "product_id": body["product_id"],
        "access_schedule": _period_access_schedule(access, start_text, end_text),
        f"recurring_{child_kind}_id": str(row.id),
    }
    if child_kind == "commit":
        child["type"] = "PREPAID"
        invoice = body.get("invoice_amount")
        if invoice:
            child["invoice_schedule"] = _period_invoice_schedule(invoice, start_text)
    for key in _PERIOD_CHILD_COPIED_KEYS:
        if key in body and not (key == "rollover_fraction" and child_kind == "credit"):
            child[key] = json_copy(body[key])
    return child


def expand_recurring(
    row: TermRow,
    *,
    origin: dt.datetime,
    base_offsets: list,
    usage_frequency: str,
    first_ordinal: int,
    field_name: str,
    first_period: int = 0,
    open_ended_until: dt.datetime | None = None,
) -> list[TermRow]:
    """The commits (or credits) a recurring term generates, one per period.

    Period k starts at `origin + base_offsets + k periods`, computed directly (never from period
    k-1), and each lasts `commit_duration.value` periods, clipped to the recurring term's end.
    Without an end, periods starting before `open_ended_until` (default: OPEN_ENDED_HORIZON after
    the term's start) are generated; `first_period` skips the periods already stored.
    """
    body = row.body
    unit, size = recurrence_period(body, usage_frequency)
    periods_each = _whole_periods(body, field_name)
    start = row.starting_at
    end = row.ending_before
    open_ended_until = open_ended_until or shift(start, OPEN_ENDED_HORIZON)
    horizon = end if end is not None else open_ended_until
    child_kind = "commit" if row.kind == "recurring_commit" else "credit"
    access = body.get("access_amount") or {}
    generated: list[TermRow] = []
    boundaries: dict[int, tuple[dt.datetime, str]] = {}

    def boundary(n: int) -> tuple[dt.datetime, str]:
        # Start of period n, and as text; one period's end is a later one's start, so each
        # is computed once.
        if n not in boundaries:
            moment = shift(origin, *base_offsets, (unit, size * n))
            boundaries[n] = (moment, format_instant(moment))
        return boundaries[n]

    k = first_period
    while True:
        period_start, start_text = boundary(k)
        if period_start >= horizon:
            break
        if len(generated) >= MAX_PERIODS_PER_TERM:
            raise ValidationFailed(
                f"a recurring term would generate more than {MAX_PERIODS_PER_TERM} periods",
                field=field_name,
            )
        period_end, end_text = boundary(k + periods_each)
        if end is not None and period_end > end:
            period_end, end_text = end, format_instant(end)
        child = _period_child_body(row, child_kind, access, start_text, end_text)
        generated.append(
            TermRow(
                kind=child_kind,
                ordinal=first_ordinal + len(generated),
                body=child,
                product_id=body["product_id"],
                package_term_id=row.package_term_id,
                generated_from_id=row.id,
                starting_at=period_start,
                ending_before=period_end,
            )
        )
        k += 1
    return generated


# --- whole contracts ---------------------------------------------------------------------------

KIND_ORDER = (
    "commit",
    "credit",
    "recurring_commit",
    "recurring_credit",
    "override",
    "scheduled_charge",
    "subscription",
    "spend_tracker",
)
# Contract-create field name of each kind (also the error field prefix).
KIND_FIELDS = {
    "commit": "commits",
    "credit": "credits",
    "recurring_commit": "recurring_commits",
    "recurring_credit": "recurring_credits",
    "override": "overrides",
    "scheduled_charge": "scheduled_charges",
    "subscription": "subscriptions",
    "spend_tracker": "spend_trackers",
}


def _remap_references(rows: list[TermRow], id_map: dict[str, str]) -> None:
    """Point override specifiers and subscription configs at the new term ids."""
    for row in rows:
        if row.kind == "override":
            for specifier in row.body.get("override_specifiers") or []:
                for key in _SPECIFIER_ID_LISTS:
                    if specifier.get(key):
                        specifier[key] = [id_map.get(str(v), v) for v in specifier[key]]
        config = row.body.get("subscription_config")
        if config and config.get("subscription_id"):
            config["subscription_id"] = id_map.get(
                str(config["subscription_id"]), config["subscription_id"]
            )


def _finish(
    rows: list[TermRow],
    *,
    origins: dict[uuid.UUID, tuple[dt.datetime, list]],
    usage_frequency: str,
    id_map: dict[str, str],
) -> list[TermRow]:
    """Expand recurring rows (appending generated commits/credits) and remap references."""
    next_ordinal = {
        kind: 1 + max((r.ordinal for r in rows if r.kind == kind), default=-1)
        for kind in KIND_ORDER
    }
    generated: list[TermRow] = []
    for row in rows:
        if row.kind in ("recurring_commit", "recurring_credit"):
            origin, base_offsets = origins[row.id]
            child_kind = "commit" if row.kind == "recurring_commit" else "credit"
            children = expand_recurring(
                row,
                origin=origin,
                base_offsets=base_offsets,
                usage_frequency=usage_frequency,
                first_ordinal=next_ordinal[child_kind],
                field_name=f"{KIND_FIELDS[row.kind]}[{row.ordinal}]",
            )
            next_ordinal[child_kind] += len(children)
            generated += children
    all_rows = rows + generated
    _remap_references(all_rows, id_map)
    return all_rows


def materialise_package_terms(
    package_terms: Iterable[Any],
    *,
    contract_start: dt.datetime,
    contract_end: dt.datetime | None,
    usage_frequency: str = "MONTHLY",
) -> list[TermRow]:
    """Contract term rows for package terms (objects with kind, ordinal, id, product_id, body)."""
    rows: list[TermRow] = []
    origins: dict[uuid.UUID, tuple[dt.datetime, list]] = {}
    id_map: dict[str, str] = {}
    ordinals: dict[str, int] = {}
    for term in sorted(package_terms, key=lambda t: (KIND_ORDER.index(t.kind), t.ordinal)):
        body, start, end = absolute_from_package_term(
            term.kind, term.body, contract_start=contract_start, contract_end=contract_end
        )
        ordinal = ordinals.get(term.kind, 0)
        ordinals[term.kind] = ordinal + 1
        row = TermRow(
            kind=term.kind,
            ordinal=ordinal,
            body=body,
            product_id=str(term.product_id)
            if term.product_id
            else term_product_id(term.kind, body),
            package_term_id=term.id,
            starting_at=start,
            ending_before=end,
        )
        rows.append(row)
        for old in (term.body.get("id"), term.body.get("temporary_id"), term.id):
            if old:
                id_map[str(old)] = str(row.id)
        if term.kind in ("recurring_commit", "recurring_credit"):
            origins[row.id] = (contract_start, [term.body.get("starting_at_offset")])
    return _finish(rows, origins=origins, usage_frequency=usage_frequency, id_map=id_map)


def json_dates(value: Any) -> Any:
    """Datetimes anywhere inside `value` as RFC 3339 strings (JSON storage form)."""
    if isinstance(value, dt.datetime):
        return format_instant(value)
    if isinstance(value, dict):
        return {key: json_dates(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_dates(item) for item in value]
    return value


def expand_recurring_schedule(schedule: dict, *, field_name: str) -> dict:
    """A dated schedule (invoice schedule, scheduled-charge or discount schedule) with its
    `recurring_schedule` spelled out as schedule items, which is what the response shows.

    One item at `starting_at + k * frequency` (each from the start, never chained) for every k
    that falls before `ending_before`. The charge (`amount`, or `quantity` x `unit_price`) goes
    on every item with EACH; DIVIDED splits it evenly and DIVIDED_ROUNDED splits it into whole
    units of the credit type (cents for USD), the last item taking the remainder in both, so
    the items always add up to the charge exactly.
    """
    recurring = schedule.get("recurring_schedule")
    if not recurring:
        return schedule
    start = recurring["starting_at"]
    months = months_per_period(recurring["frequency"])
    timestamps = []
    while (moment := shift(start, ("MONTHS", months * len(timestamps)))) < recurring[
        "ending_before"
    ]:
        if len(timestamps) >= MAX_PERIODS_PER_TERM:
            raise ValidationFailed(
                f"a recurring schedule would generate more than {MAX_PERIODS_PER_TERM} items",
                field=f"{field_name}.recurring_schedule",
            )
        timestamps.append(moment)
    items = [dict(item) for item in schedule.get("schedule_items") or []]
    if recurring["amount_distribution"] == "EACH":
        charge = {
            key: recurring[key] for key in ("amount", "quantity", "unit_price") if key in recurring
        }
        items += [{"timestamp": moment, **charge} for moment in timestamps]
    else:
        total = (
            Decimal(str(recurring["amount"]))
            if "amount" in recurring
            else line_amount(recurring["unit_price"], recurring["quantity"])
        )
        shares = split_evenly(
            total,
            len(timestamps),
            whole_units=recurring["amount_distribution"] == "DIVIDED_ROUNDED",
        )
        items += [
            {"timestamp": moment, "amount": amount}
            for moment, amount in zip(timestamps, shares, strict=True)
        ]
    return {
        **{key: value for key, value in schedule.items() if key != "recurring_schedule"},
        "schedule_items": items,
    }


def _with_item_ids(schedule: dict | None, *, field_name: str) -> tuple[dict | None, list]:
    if not schedule:
        return schedule, []
    schedule = expand_recurring_schedule(dict(schedule), field_name=field_name)
    items, spans = [], []
    for item in schedule.get("schedule_items") or []:
        entry = json_dates(dict(item))
        entry["id"] = new_id()
        items.append(entry)
        if "timestamp" in item:
            spans.append((item["timestamp"], None))
        else:
            spans.append((item.get("starting_at"), item.get("ending_before")))
    schedule["schedule_items"] = items
    return schedule, spans


def materialise_negotiated_terms(
    terms: dict[str, list[dict]],
    *,
    contract_start: dt.datetime,
    contract_end: dt.datetime | None,
    usage_frequency: str = "MONTHLY",
) -> list[TermRow]:
    """Contract term rows for absolute-dated terms sent on contracts/create (validated data:
    datetimes are `datetime` objects), keyed by kind."""
    rows: list[TermRow] = []
    origins: dict[uuid.UUID, tuple[dt.datetime, list]] = {}
    id_map: dict[str, str] = {}
    for kind in KIND_ORDER:
        for ordinal, data in enumerate(terms.get(kind) or []):
            body = json_copy(data)
            temporary_id = body.pop("temporary_id", None)
            spans: list = []
            for key in ("access_schedule", "invoice_schedule", "schedule"):
                if body.get(key):
                    body[key], item_spans = _with_item_ids(
                        body[key], field_name=f"{KIND_FIELDS[kind]}[{ordinal}].{key}"
                    )
                    spans += item_spans
            if kind in ("override", "recurring_commit", "recurring_credit", "subscription"):
                start = body.get("starting_at") or contract_start
                end = body.get("ending_before")
                if end is None and kind != "override":
                    end = contract_end
                spans = [(start, end)]
            start, end = _span(spans)
            body = json_dates(body)
            if kind == "subscription":
                body["starting_at"] = format_instant(start)
                if end is not None:
                    body["ending_before"] = format_instant(end)
            if kind in ("recurring_commit", "recurring_credit") and end is not None:
                body["ending_before"] = format_instant(end)
            row = TermRow(
                kind=kind,
                ordinal=ordinal,
                body=body,
                product_id=term_product_id(kind, body),
                starting_at=start,
                ending_before=end,
            )
            rows.append(row)
            if temporary_id:
                id_map[str(temporary_id)] = str(row.id)
            if kind in ("recurring_commit", "recurring_credit"):
                origins[row.id] = (start, [])
    return _finish(rows, origins=origins, usage_frequency=usage_frequency, id_map=id_map)


def billing_anchor_date(contract_start: dt.datetime, schedule: dict) -> dt.datetime:
    """Where usage statement periods are anchored: the contract start, a custom date, or (the
    default) the first first-of-month on or after the contract start."""
    day = schedule.get("day") or "FIRST_OF_MONTH"
    if schedule.get("billing_anchor_date"):
        return schedule["billing_anchor_date"]
    if day == "FIRST_OF_MONTH":
        first = contract_start.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        return first if first == contract_start else shift(first, ("MONTHS", 1))
    return contract_start


def statement_boundaries(
    start: dt.datetime,
    end: dt.datetime | None,
    usage: dict,
    *,
    horizon: dt.datetime,
    max_points: int = MAX_PERIODS_PER_TERM,
) -> list[dt.datetime]:
    """Usage-statement boundaries (an absolute usage statement schedule: `frequency`,
    `billing_anchor_date`) from the contract start up to its end (or `horizon`): the start,
    when the anchor is later, then anchor + n periods, each computed from the anchor (month ends
    clamp: Jan 31, Feb 28, Mar 31)."""
    anchor = parse_instant(usage.get("billing_anchor_date")) or start
    unit, value = PERIOD_BY_FREQUENCY.get(usage.get("frequency") or "MONTHLY", ("MONTHS", 1))
    limit = end or horizon
    points = [start] if anchor > start else []
    for n in range(max_points):
        moment = shift(anchor, (unit, value * n))
        if moment > limit:
            break
        points.append(moment)
    return points


def absolute_usage_statement_schedule(
    contract_start: dt.datetime, schedule: dict | None
) -> dict[str, Any]:
    schedule = dict(schedule or {})
    result: dict[str, Any] = {
        "frequency": schedule.get("frequency") or "MONTHLY",
        "day": schedule.get("day") or "FIRST_OF_MONTH",
        "billing_anchor_date": format_instant(billing_anchor_date(contract_start, schedule)),
    }
    if schedule.get("invoice_generation_starting_at_offset"):
        result["invoice_generation_starting_at"] = format_instant(
            shift(contract_start, schedule["invoice_generation_starting_at_offset"])
        )
    elif schedule.get("invoice_generation_starting_at"):
        result["invoice_generation_starting_at"] = json_dates(
            schedule["invoice_generation_starting_at"]
        )
    return result
