"""What the contract-side pages draw: a package materialised for an example start (the
builder's live preview, the package page) and a customer's subscriptions, as timelines and as
plain tables. Pure composition over rows already in memory; no queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.urls import reverse

from config.core.instants import parse_instant
from config.core.money import line_amount
from config.timeline import Bar, Lane, Point, Timeline, build_timeline, place_labels
from config.web.lists import Link
from contracts_app.services.materialise import TermRow, shift, statement_boundaries
from contracts_app.services.previews import contract_preview_of
from packages_app.describe import KIND_WORDS, describe_term, length_words, money
from packages_app.templatetags.ui import iso

MAX_STATEMENT_POINTS = 60


@dataclass
class PeriodRow:
    """One line of the preview's table: what a lane's bar or point means, with its dates."""

    lane: str
    what: str
    starting_at: dt.datetime | None
    ending_before: dt.datetime | None
    amount: str = ""


def _lane_label(row: TermRow, product_names: Mapping[str, str]) -> str:
    name = row.body.get("name") or product_names.get(str(row.product_id or ""), "")
    return f"{KIND_WORDS.get(row.kind, row.kind).capitalize()}: {name}".rstrip(": ")


def _dates(item: Mapping) -> tuple[dt.datetime, dt.datetime]:
    return parse_instant(item["starting_at"]), parse_instant(item["ending_before"])


def _recurring_lanes(row: TermRow, label: str, periods: list[TermRow], names) -> tuple:
    """A recurring commit or credit: its window (labelled with what each period gives, whole)
    and, in a lane of its own below, every period."""
    table = [PeriodRow(label, "window", row.starting_at, row.ending_before)]
    bars, amounts = [], []
    for index, child in enumerate(periods):
        schedule = child.body.get("access_schedule") or {}
        for item in schedule.get("schedule_items") or []:
            start, end = _dates(item)
            amount = money(item.get("amount"), schedule.get("credit_type_id"), names)
            amounts.append(amount)
            bars.append(
                Bar(
                    start=start,
                    end=end,
                    tone="period" if index % 2 == 0 else "period-alt",
                    title=f"{label}: period {index + 1}, {amount}",
                    label=amount,
                )
            )
            table.append(PeriodRow(label, f"period {index + 1}", start, end, amount))
    if amounts and len(set(amounts)) == 1:
        each = f"{amounts[0]} each period, {len(amounts)} periods"
    elif amounts:
        each = f"{len(amounts)} periods, {amounts[0]} first"
    else:
        each = "no period yet"
    window = Lane(
        label=label,
        bars=[
            Bar(
                start=row.starting_at,
                end=row.ending_before,
                tone="window",
                title=f"{label}: window",
                label=each,
            )
        ],
    )
    return [window, Lane(label=f"{label}: periods", short="↳ each period", bars=bars)], table


def _access_lane(row: TermRow, label: str, names) -> tuple:
    """A commit or credit: its access windows as bars, its invoices as points."""
    lane, table = Lane(label=label), []
    schedule = row.body.get("access_schedule") or {}
    for item in schedule.get("schedule_items") or []:
        start, end = _dates(item)
        amount = money(item.get("amount"), schedule.get("credit_type_id"), names)
        lane.bars.append(
            Bar(start=start, end=end, tone="term", title=f"{label}: {amount}", label=amount)
        )
        table.append(PeriodRow(label, "access", start, end, amount))
    invoices = row.body.get("invoice_schedule") or {}
    for at, amount in _charges(invoices, names):
        lane.points.append(Point(at=at, title=f"{label}: invoice {amount}", tone="invoice"))
        table.append(PeriodRow(label, "invoice", at, None, amount))
    return [lane], table


def _charges(schedule: Mapping, names) -> list[tuple[dt.datetime, str]]:
    """(when, amount) of each item of an invoice or charge schedule."""
    return [
        (
            parse_instant(item["timestamp"]),
            money(
                item.get("amount")
                or line_amount(item.get("unit_price", 0), item.get("quantity", 1)),
                schedule.get("credit_type_id"),
                names,
            ),
        )
        for item in schedule.get("schedule_items") or []
    ]


def _term_lanes(row: TermRow, label: str, periods: list[TermRow], names) -> tuple:
    """The lanes and table rows of one term (not a generated period)."""
    if row.kind in ("recurring_commit", "recurring_credit"):
        return _recurring_lanes(row, label, periods, names)
    if row.kind in ("commit", "credit"):
        return _access_lane(row, label, names)
    if row.kind == "scheduled_charge":
        lane, table = Lane(label=label), []
        for at, amount in _charges(row.body.get("schedule") or {}, names):
            lane.points.append(Point(at=at, title=f"{label}: charge {amount}", tone="invoice"))
            table.append(PeriodRow(label, "charge", at, None, amount))
        return [lane], table
    # subscription, override, spend tracker: a window
    lane = Lane(label=label)
    if row.starting_at is None:
        return [lane], []
    lane.bars.append(Bar(start=row.starting_at, end=row.ending_before, tone="term", title=label))
    what = KIND_WORDS.get(row.kind, row.kind)
    return [lane], [PeriodRow(label, what, row.starting_at, row.ending_before)]


def _statements_lane(preview, horizon: dt.datetime) -> tuple:
    boundaries = statement_boundaries(
        preview.starting_at,
        preview.ending_before,
        preview.usage_statement_schedule,
        horizon=horizon,
        max_points=MAX_STATEMENT_POINTS,
    )
    lane = Lane(
        label="Usage statements",
        points=[
            Point(at=at, title=f"statement boundary {at:%Y-%m-%d}", tone="statement")
            for at in boundaries
        ],
    )
    return lane, [PeriodRow("Usage statements", "boundary", at, None) for at in boundaries]


def preview_timeline(
    preview,
    *,
    product_names: Mapping[str, str],
    credit_type_names: Mapping[str, str],
    width: int = 1000,
    label_width: int = 230,
    now: dt.datetime | None = None,
) -> tuple[Timeline, list[PeriodRow]]:
    """The contract span, each term's window, every recurring period, charges and invoices as
    points, subscriptions and usage-statement boundaries, a "now" line when now is inside;
    with the same facts as a table."""
    start, end = preview.starting_at, preview.ending_before
    name = preview.package.contract_name or preview.package.name
    lanes = [Lane(label="Contract", bars=[Bar(start=start, end=end, label=name, tone="contract")])]
    table = [PeriodRow("Contract", "contract", start, end)]
    periods: dict[str, list[TermRow]] = {}
    for row in preview.rows:
        if row.generated_from_id is not None:
            periods.setdefault(str(row.generated_from_id), []).append(row)
    for row in preview.rows:
        if row.generated_from_id is None:
            label = _lane_label(row, product_names)
            more, rows = _term_lanes(row, label, periods.get(str(row.id), []), credit_type_names)
            lanes += more
            table += rows
    horizon = end or shift(start, ("YEARS", 1))
    statements, rows = _statements_lane(preview, horizon)
    lanes.append(statements)
    table += rows
    now = now or dt.datetime.now(dt.UTC)
    timeline = build_timeline(
        lanes,
        title=f"{preview.package.name} materialised for a contract starting {start:%Y-%m-%d}",
        start=start,
        end=end or horizon,
        markers=[(start, "start"), (now, "now")],
        width=width,
        label_width=label_width,
    )
    return timeline, table


def subscription_timeline(contracts: Iterable, *, now: dt.datetime, title: str) -> Timeline:
    """One lane per subscription, one bar per contract (linked to its page)."""
    lanes: dict[str, Lane] = {}
    for contract in contracts:
        key = str(contract.subscription_id or contract.id)
        lane = lanes.setdefault(key, Lane(label=f"Subscription {len(lanes) + 1}"))
        running = contract.starting_at <= now and (
            contract.ending_before is None or contract.ending_before > now
        )
        lane.bars.append(
            Bar(
                start=contract.starting_at,
                end=contract.ending_before,
                label=contract.package.name if contract.package_id else contract.name,
                title=f"{contract.name}: {contract.starting_at:%Y-%m-%d} → "
                + (
                    f"{contract.ending_before:%Y-%m-%d}" if contract.ending_before else "open-ended"
                ),
                tone="current" if running else "contract",
                href=reverse("contracts:contract-detail", args=[contract.id]),
            )
        )
    return build_timeline(list(lanes.values()), title=title, markers=[(now, "now")])


# --- cohort migrations in words ---------------------------------------------------------------

REASON_WORDS = {
    "TARGET_ARCHIVED": "the target package is archived",
    "TARGET_ALIAS_UNRESOLVED": "the target alias points at no package then",
    "NO_BILLING_CONFIGURATION": "the customer has no billing-provider configuration",
    "AMBIGUOUS_BILLING_CONFIGURATION": "the customer has several matching billing configurations",
    "ALREADY_ON_TARGET": "already on the target package",
    "ENDS_BEFORE_EFFECTIVE": "the contract ends before it would move",
    "STARTS_AFTER_EFFECTIVE": "the contract starts after it would move",
    "OPEN_ENDED": "open-ended: it has no end of term",
    "SUCCESSOR_EXISTS": "a later contract already follows it",
    "IN_OTHER_MIGRATION": "pending in another migration",
    "CONTRACT_ARCHIVED": "the contract is archived",
    "HAS_EDITS": "edited since it was provisioned (edited contracts are skipped)",
    # Why a revert left a moved contract on the new package (REVERT_BLOCKED).
    "CHANGED_SINCE_MOVE": "the old or the new contract was changed after the move; a revert "
    "would undo that change",
    "ARCHIVED_SINCE_MOVE": "the old or the new contract was archived after the move",
    "TOOK_EFFECT": "the move had already taken effect",
}
# Counter names a page shows as words (the others are words already).
COUNT_WORDS = {"revert_blocked": "not reverted"}
FIELD_WORDS = {
    "rate_card_id": "Rate card",
    "rate_card_alias": "Rate card alias",
    "duration": "Length",
    "billing_provider": "Billing provider",
    "delivery_method": "Delivery method",
    "net_payment_terms_days": "Payment terms",
    "usage_statement_schedule": "Usage statements",
}


def reason_words(code: str | None) -> str:
    return REASON_WORDS.get(code or "", (code or "").replace("_", " ").lower())


def timing_words(timing: str, at: dt.datetime | None) -> str:
    """`AT` / `NEXT_BILLING_PERIOD` / `END_OF_TERM` with its date, in words (ISO 8601, UTC)."""
    if timing == "AT":
        return f"at {iso(at)}"
    if timing == "NEXT_BILLING_PERIOD":
        return f"at each contract's next billing period on or after {iso(at)}"
    return "at the end of each contract's term"


def _field_value(name: str, value, rate_card_names: Mapping[str, str]) -> str:
    if value in (None, "", {}):
        return "—" if name != "duration" else "open-ended"
    if name == "rate_card_id":
        return rate_card_names.get(str(value), str(value))
    if name == "duration":
        return length_words(value)
    if name == "net_payment_terms_days":
        return f"net {value} days"
    if isinstance(value, dict):
        return ", ".join(f"{k.replace('_', ' ')} {str(v).lower()}" for k, v in value.items())
    return str(value)


def package_diff_words(
    diff: Mapping | None,
    *,
    product_names: Mapping[str, str],
    credit_type_names: Mapping[str, str],
    rate_card_names: Mapping[str, str],
) -> dict | None:
    """The preview's package diff (packages_app.selectors.package_diff) as sentences:
    terms added and removed (kind on product), changed terms before → after, fields changed.
    Each line ends with how many customers it touches: the migration preview's
    `customers` on the line, None where the diff has none (the new-version page: no cohort).
    `counted` says whether any line has a count (the settings table's column)."""
    if not diff:
        return None

    def where(entry) -> str:
        kind = KIND_WORDS.get(entry["kind"], entry["kind"])
        product = product_names.get(str(entry.get("product_id") or ""), "")
        return f"{kind.capitalize()} on {product}" if product else kind.capitalize()

    def words(kind, bodies) -> list[str]:
        return [
            describe_term(
                kind, body, product_names=product_names, credit_type_names=credit_type_names
            )
            for body in bodies
        ]

    def counted(entry) -> str:
        n = entry.get("count", 1)
        return f"{where(entry)}" + (f" ({n} terms)" if n != 1 else "")

    fields = (diff.get("fields_changed") or {}).items()
    lines = {
        "added": [(counted(e), e.get("customers")) for e in diff.get("terms_added", [])],
        "removed": [(counted(e), e.get("customers")) for e in diff.get("terms_removed", [])],
        "changed": [
            (
                where(e),
                words(e["kind"], e["source"]),
                words(e["kind"], e["target"]),
                e.get("customers"),
            )
            for e in diff.get("terms_changed", [])
        ],
        "fields": [
            (
                FIELD_WORDS.get(name, name),
                _field_value(name, sides.get("source"), rate_card_names),
                _field_value(name, sides.get("target"), rate_card_names),
                sides.get("customers"),
            )
            for name, sides in fields
        ],
    }
    lines["counted"] = any(line[-1] is not None for entries in lines.values() for line in entries)
    return lines


# --- edit history in words ----------------------------------------------------------------------

_ADDED_WORDS = {
    "add_commits": "commit",
    "add_credits": "credit",
    "add_recurring_commits": "recurring commit",
    "add_recurring_credits": "recurring credit",
    "add_overrides": "override",
    "add_scheduled_charges": "scheduled charge",
    "add_subscriptions": "subscription",
    "add_spend_trackers": "spend tracker",
    "add_discounts": "discount (stored)",
    "add_pro_services": "professional service (stored)",
    "add_reseller_royalties": "reseller royalty (stored)",
}
_CHANGED_WORDS = {
    "archive_commits": "Archived commit",
    "archive_credits": "Archived credit",
    "archive_scheduled_charges": "Archived scheduled charge",
    "remove_overrides": "Removed override",
    "update_commits": "Changed commit",
    "update_credits": "Changed credit",
    "update_scheduled_charges": "Changed scheduled charge",
    "update_subscriptions": "Changed subscription",
    "update_recurring_commits": "Changed recurring commit",
    "update_recurring_credits": "Changed recurring credit",
}
_QUIET_KEYS = {"id", "timestamp", "created_by", "uniqueness_key"}


def _day(value) -> str:
    from packages_app.templatetags.ui import iso

    return iso(value)


def _window(item: Mapping) -> str:
    start, end = item.get("starting_at"), item.get("ending_before")
    return f"{_day(start)} → {_day(end) if end else 'open-ended'}"


def _amount_in(schedule: Mapping, amount) -> str:
    credit_type = schedule.get("credit_type") or {}
    names = {str(credit_type.get("id")): credit_type.get("name") or "units"}
    return money(amount, credit_type.get("id"), names)


def _added_term(field: str, term: Mapping) -> str:
    product = (term.get("product") or {}).get("name") or ""
    if field in ("add_commits", "add_credits"):
        access = term.get("access_schedule") or {}
        windows = "; ".join(
            f"{_amount_in(access, item.get('amount'))}, usable {_window(item)}"
            for item in access.get("schedule_items") or []
        )
        what = (
            f"{str(term.get('type', 'prepaid')).lower()} commit"
            if field == "add_commits"
            else "credit"
        )
        text = f"Added {what} on {product or 'a product'}: {windows or 'no access schedule'}"
        invoices = (term.get("invoice_schedule") or {}).get("schedule_items") or []
        if invoices:
            text += "; invoiced " + ", ".join(
                f"{_amount_in(term['invoice_schedule'], i.get('amount'))} on {_day(i.get('timestamp'))}"
                for i in invoices
            )
        if term.get("priority") is not None:
            text += f"; priority {term['priority']}"
        return text
    if field == "add_overrides":
        targets = [product] if product else []
        for specifier in term.get("override_specifiers") or []:
            targets += [f"tag {tag}" for tag in specifier.get("product_tags") or []]
        targets += [f"tag {tag}" for tag in term.get("applicable_product_tags") or []]
        if term.get("multiplier") is not None:
            change = f"rates multiplied by {term['multiplier']}"
        elif term.get("overwrite_rate"):
            change = "rate overwritten"
        else:
            change = str(term.get("type") or "changed").lower()
        return (
            f"Added override on {', '.join(targets) or 'every product'}: {change}, {_window(term)}"
        )
    words = _ADDED_WORDS.get(field, field.removeprefix("add_").replace("_", " "))
    on = f" on {product}" if product else ""
    window = f", {_window(term)}" if term.get("starting_at") else ""
    return f"Added {words}{on}{window}"


def changed_term_ids(entries: Iterable[Mapping]) -> set[str]:
    """Ids of the terms these edit-history entries archive, remove or change."""
    return {
        str(item["id"])
        for entry in entries
        for field, value in entry.items()
        if field in _CHANGED_WORDS
        for item in value or []
        if isinstance(item, Mapping) and item.get("id")
    }


def edit_in_words(entry: Mapping, *, term_names: Mapping[str, str] | None = None) -> list[str]:
    """One line per change an edit-history entry (getEditHistory's form) records: what it
    added, changed, archived or removed, with ISO dates. Pure; the entry carries the names of
    what it added, `term_names` (id → name) those of the terms it archived or changed."""
    term_names = term_names or {}
    lines: list[str] = []
    for field, value in entry.items():
        if field in _QUIET_KEYS:
            continue
        if field.startswith("add_") and isinstance(value, list):
            lines += [_added_term(field, term) for term in value if isinstance(term, Mapping)]
        elif field in _CHANGED_WORDS:
            for item in value or []:
                changed = sorted(k for k in item if k != "id")
                detail = f" ({', '.join(k.replace('_', ' ') for k in changed)})" if changed else ""
                term = str(item.get("id", ""))
                name = f"“{term_names[term]}”" if term_names.get(term) else term[:8]
                lines.append(f"{_CHANGED_WORDS[field]} {name}{detail}")
        elif field == "update_contract_end_date":
            lines.append(
                f"End date moved to {_day(value)}" if value else "End date cleared: open-ended"
            )
        elif field == "update_contract_name":
            lines.append(f"Renamed to “{value}”")
        elif field == "update_net_payment_terms_days":
            lines.append(f"Payment terms set to {value} days")
        elif field == "archive_spend_trackers":
            lines.append("Archived spend trackers " + ", ".join(map(str, value or [])))
        else:
            lines.append(field.replace("_", " ").capitalize())
    return lines or ["No changes recorded"]


# --- cohort size over time --------------------------------------------------------------------

CHART_TONES = 8  # css classes cc-0 … cc-7, cycled


@dataclass
class ChartSeries:
    label: str
    href: str
    tone: int
    total: int  # size at the last point
    path: str = ""  # the stacked area, as SVG path data


@dataclass
class ChartMark:
    at: dt.datetime
    label: str
    title: str
    kind: str  # "alias", "migration" or "now"
    x: float = 0
    y: float = 0
    label_x: float = 0
    anchor: str = "middle"


@dataclass
class CohortChart:
    title: str
    width: int
    height: int
    plot_left: int
    plot_top: int
    plot_width: int
    plot_height: int
    series: list[ChartSeries]
    x_ticks: list[tuple[float, str, str]]
    y_ticks: list[tuple[float, int]]
    marks: list[ChartMark]
    rows: list[tuple[dt.datetime, list[int], int]]  # the numbers, for the table under it
    empty: bool

    @property
    def mark_kinds(self) -> set[str]:
        """The kinds of marks shown (the legend lists only those)."""
        return {mark.kind for mark in self.marks}


MARK_ROW = 14  # a row of mark labels (12 px) above the plot
MARK_ROWS = 3


def _place_marks(marks, points, *, left, top, plot_width, width) -> list[ChartMark]:
    """The marks inside the chart's range at their x, each label in the first row above the
    plot where it overlaps no other and inside the chart (config.timeline.place_labels); a
    mark whose label finds no room keeps its line and tooltip."""
    if not points:
        return []
    first, last = points[0], points[-1]
    span = (last - first).total_seconds() or 1
    inside = [m for m in sorted(marks, key=lambda m: m.at) if first <= m.at <= last]
    for mark in inside:
        offset = (mark.at - first).total_seconds() / span
        mark.x = round(left + plot_width * offset, 1) if len(points) > 1 else left + plot_width / 2
    by_x: dict[tuple[float, str], list[ChartMark]] = {}
    for mark in inside:
        by_x.setdefault((mark.x, mark.label), []).append(mark)
    placed = []
    for x, label, label_x, anchor, row in place_labels(
        list(by_x), left=0, right=width, char=7.2, rows=MARK_ROWS
    ):
        for mark in by_x.pop((x, label)):
            mark.label_x, mark.anchor, mark.y = label_x, anchor, top - 5 - MARK_ROW * row
            placed.append(mark)
    for unplaced in by_x.values():  # no room for the label: the line only
        for mark in unplaced:
            mark.label, mark.y, mark.label_x = "", top, mark.x
            placed.append(mark)
    return placed


def _y_tick_values(y_top: int) -> list[int]:
    """Whole numbers from 0 to `y_top` (a `_nice_ceiling`) in steps of 1, 2 or 5 times 10^k,
    at most 6 of them: every label is the count at its line (quarters of 5 would be 1.25,
    2.5 … labelled 1, 2 …, and a cohort of 3 would sit between "2" and "4")."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if y_top // (factor * step) <= 5:
                return list(range(0, y_top + 1, factor * step))
        step *= 10


X_TICK_CHAR = 7.2  # the width of a date label's character at the chart's 12 px


def _x_ticks(points, x_of, plot_width: float) -> list[tuple[float, str, str]]:
    """(x, ISO date, anchor): at most one label per ~90 px, always the first and the last
    point; the first label starts at its point, the last one ends there; a label that would
    touch the one before it (a start-anchored first label reaches further right) is left out."""
    every = max(1, -(-len(points) * 90 // max(plot_width, 1)))
    shown = sorted({*range(0, len(points), every), len(points) - 1} if points else set())
    if len(shown) > 1 and shown[-1] - shown[-2] < every:
        shown.pop(-2)
    ticks = [
        (
            x_of(i),
            points[i].strftime("%Y-%m-%d"),
            "start" if i == 0 and len(shown) > 1 else "end" if i == shown[-1] else "middle",
        )
        for i in shown
    ]

    def box(tick) -> tuple[float, float]:
        x, label, anchor = tick
        width = len(label) * X_TICK_CHAR
        x0 = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
        return x0, x0 + width

    kept: list[tuple[float, str, str]] = []
    for tick in ticks:
        if kept and box(kept[-1])[1] + 8 > box(tick)[0]:
            if tick is not ticks[-1] or len(kept) == 1:
                continue
            kept.pop()  # the last label stays; the one before it goes
        kept.append(tick)
    return kept


def _nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times 10^k at least `value` (the y axis' top)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if factor * step >= value:
                return factor * step
        step *= 10


def cohort_chart(
    sizes,
    *,
    labels: Mapping,
    hrefs: Mapping,
    marks: Iterable[ChartMark],
    title: str,
    width: int = 960,
    height: int = 300,
    now: dt.datetime | None = None,
) -> CohortChart:
    """Stacked areas (one per package, in `sizes.sizes` order) of the cohort's size at each
    point, with ISO-date ticks and vertical marks; every coordinate computed here."""
    left, top, right, bottom = 64, 6 + MARK_ROW * MARK_ROWS, 16, 34
    plot_width, plot_height = width - left - right, height - top - bottom
    points = sizes.points
    totals = sizes.totals() if points else []
    peak = max(totals, default=0)
    y_top = _nice_ceiling(max(peak, 1))

    def x_of(index: int) -> float:
        if len(points) < 2:
            return left + plot_width / 2
        return round(left + plot_width * index / (len(points) - 1), 1)

    def y_of(value: float) -> float:
        return round(top + plot_height * (1 - value / y_top), 1)

    series, below = [], [0] * len(points)
    for tone, (package_id, values) in enumerate(sizes.sizes.items()):
        above = [b + v for b, v in zip(below, values, strict=True)]
        if len(points) == 1:  # one point: a column rather than an area
            x0, x1 = left + plot_width / 2 - 20, left + plot_width / 2 + 20
            path = (
                f"M{x0},{y_of(below[0])} L{x0},{y_of(above[0])} L{x1},{y_of(above[0])} "
                f"L{x1},{y_of(below[0])} Z"
            )
        else:
            upper = " L".join(f"{x_of(i)},{y_of(v)}" for i, v in enumerate(above))
            lower = " L".join(f"{x_of(i)},{y_of(v)}" for i, v in reversed(list(enumerate(below))))
            path = f"M{upper} L{lower} Z"
        series.append(
            ChartSeries(
                label=labels.get(package_id, str(package_id)),
                href=hrefs.get(package_id, ""),
                tone=tone % CHART_TONES,
                total=values[-1] if values else 0,
                path=path,
            )
        )
        below = above

    x_ticks = _x_ticks(points, x_of, plot_width)
    y_ticks = [(y_of(value), value) for value in _y_tick_values(y_top)]

    marks = list(marks)
    if now is not None:
        marks.append(ChartMark(at=now, label="now", title=f"Now: {iso(now)}", kind="now"))
    placed = _place_marks(marks, points, left=left, top=top, plot_width=plot_width, width=width)
    rows = [
        (at, [values[i] for values in sizes.sizes.values()], totals[i])
        for i, at in enumerate(points)
    ]
    return CohortChart(
        title=title,
        width=width,
        height=height,
        plot_left=left,
        plot_top=top,
        plot_width=plot_width,
        plot_height=plot_height,
        series=series,
        x_ticks=x_ticks,
        y_ticks=y_ticks,
        marks=placed,
        rows=rows,
        empty=peak == 0,
    )


@dataclass(frozen=True)
class Phrase:
    """A piece of a sentence on a page, a link when `url` is set."""

    text: str
    url: str = ""


def transition_phrases(transitions, *, previous, following) -> list[Phrase]:
    """The contract page's "Transition" line: the links into the contract (else the contract it
    follows, else "first of its subscription"), then the one that follows it."""

    def name(contract) -> str:
        return contract.package.name if contract.package_id else contract.name

    def page(contract_id) -> str:
        return reverse("contracts:contract-detail", args=[contract_id])

    phrases = []
    for transition in transitions:
        phrases += [
            Phrase(f"{transition['type'].lower()} from "),
            Phrase("the previous contract", page(transition["from_contract_id"])),
        ]
    if not transitions and previous:
        phrases += [Phrase("follows "), Phrase(name(previous[0]), page(previous[0].id))]
    elif not transitions:
        phrases.append(Phrase("first of its subscription"))
    if following:
        nxt = following[0]
        phrases += [
            Phrase("; followed by "),
            Phrase(name(nxt), page(nxt.id)),
            Phrase(f" from {iso(nxt.starting_at)}"),
        ]
    return phrases


def _mark_label(alias: str, target: str) -> str:
    """ "Alias → target" when short enough to sit above the chart whole, else the alias alone
    (the tooltip names the target)."""
    both = f"{alias} → {target}"
    return both if len(both) <= 40 else alias


def cohort_chart_marks(assignments, migrations) -> list[ChartMark]:
    """The cohort chart's marks: where each in-force alias interval starts (`assignments`, with
    their alias name, package and rate card read) and each migration's effective time."""

    def target(assignment) -> str:
        return assignment.package.name if assignment.package_id else assignment.rate_card.name

    marks = [
        ChartMark(
            at=a.starting_at,
            label=_mark_label(a.alias_name.name, target(a)),
            title=f"{a.alias_name.name} points at {target(a)} from {a.starting_at:%Y-%m-%dT%H:%MZ}",
            kind="alias",
        )
        for a in assignments
        if a.superseded_at is None
    ]
    for migration in migrations:
        at = migration.effective_at or migration.run_at
        destination = (
            migration.target_package.name
            if migration.target_package_id
            else f"alias {migration.target_alias}"
        )
        marks.append(
            ChartMark(
                at=at,
                label=f"migration ({migration.status.lower()})",
                title=f"Migration {migration.source_package.name} → {destination}, "
                f"{migration.status.lower()}, effective {at:%Y-%m-%dT%H:%MZ}",
                kind="migration",
            )
        )
    return marks


def subscription_choices(contracts) -> list[tuple[str, str]]:
    """A customer's subscriptions (from its contracts, in start order, packages read) as select
    choices: each named by its last two contracts, "Plan v1 (2027-01-01) → Plan v2 (…)"."""
    chains: dict = {}
    for contract in contracts:
        if contract.subscription_id:
            chains.setdefault(contract.subscription_id, []).append(contract)
    return [
        (
            str(key),
            " → ".join(
                f"{c.package.name if c.package_id else c.name} ({c.starting_at:%Y-%m-%d})"
                for c in chain[-2:]
            ),
        )
        for key, chain in chains.items()
    ]


# --- the contract page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AddedTerm:
    """A term an edit added, as the contract page lists it (with its archive button)."""

    id: str
    kind: str
    what: str
    starting_at: dt.datetime | None
    ending_before: dt.datetime | None
    archived_at: dt.datetime | None
    archive_words: str  # the button: "Archive this credit", "Remove this discount"


_ARCHIVE_WORDS = {
    "commit": "Archive this commit",
    "credit": "Archive this credit",
    "scheduled_charge": "Archive this charge",
    "override": "Remove this override",
}


def contract_page(contract, reads, *, credit_type_names: Mapping[str, str], can_edit: bool) -> dict:
    """The contract page's facts from `reads` (selectors.contracts.contract_page_reads): its
    timeline and every date (archived terms left out), how it follows its subscription, the
    alias it was provisioned through and the terms its edits added."""
    live = [t for t in reads.terms if t.archived_at is None]
    names = {str(t.product_id): t.product.name for t in reads.terms if t.product_id}
    timeline, periods = preview_timeline(
        contract_preview_of(contract, live),
        product_names=names,
        credit_type_names=credit_type_names,
    )
    neighbours = reads.neighbours
    transitions = [
        t
        for t in (contract.settings or {}).get("transitions") or []
        if t.get("to_contract_id") == str(contract.id)
    ]
    added = [
        AddedTerm(
            id=str(t.id),
            kind=t.get_kind_display(),
            what=(t.body.get("name") or names.get(str(t.product_id or ""), "")),
            starting_at=t.starting_at,
            ending_before=t.ending_before,
            archived_at=t.archived_at,
            archive_words=_ARCHIVE_WORDS.get(t.kind, "") if can_edit else "",
        )
        for t in reads.terms
        if str(t.id) in reads.edit_added and t.generated_from_id is None
    ]
    return {
        "terms": [t for t in reads.terms if t.generated_from_id is None],
        "timeline": timeline,
        "periods": periods,
        "periods_open": True,
        # The links into this contract; its link out is its successor ("followed by").
        "transition": transition_phrases(
            transitions,
            previous=[c for c in neighbours if c.starting_at < contract.starting_at],
            following=[c for c in neighbours if c.starting_at > contract.starting_at],
        ),
        "provisioned_alias": reads.alias,
        "added_terms": added,
    }


def customer_list_cell(customer, attr: str, *, now: dt.datetime):
    """A cell of the customer list (selectors.customers.customers_with_current_package): the
    current package and its alias as links, a later start said."""
    if attr == "current_package":
        if not customer.current_package_id:
            return "—"
        starts = customer.current_from
        return Link(
            customer.current_package_name,
            reverse("contracts:package-detail", args=[customer.current_package_id]),
            note=f"from {iso(starts)}" if starts and starts > now else "",
        )
    if attr == "current_alias":
        if not customer.current_alias:
            return ""
        if not customer.current_alias_id:
            return customer.current_alias
        return Link(
            customer.current_alias,
            reverse("packages:alias-detail", args=[customer.current_alias_id]),
        )
    value = getattr(customer, attr)
    return "" if value is None else value


# --- the customer page ---------------------------------------------------------------------------


def contract_state(contract, *, now: dt.datetime) -> str:
    """ "upcoming", "running" or "ended" at `now`."""
    if contract.starting_at > now:
        return "upcoming"
    if contract.ending_before is not None and contract.ending_before <= now:
        return "ended"
    return "running"


def customer_page(customer, contracts, configurations, *, now: dt.datetime) -> dict:
    """The customer page's facts from its reads (selectors.customers): its contracts with their
    state in words, its configurations, its subscriptions' timeline and choices."""
    return {
        "customer": customer,
        "contracts": contracts,
        "contract_rows": [(c, contract_state(c, now=now)) for c in contracts],
        "configurations": configurations,
        "timeline": subscription_timeline(
            contracts, now=now, title=f"{customer.name}: subscriptions"
        )
        if contracts
        else None,
        "subscriptions": subscription_choices(contracts),
        "now": now,
    }
