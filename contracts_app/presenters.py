"""What the contract-side pages draw: a package materialised for an example start (the
builder's live preview, the package page) and a customer's subscriptions, as timelines and as
plain tables. Pure composition over rows already in memory; no queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.urls import reverse

from config.timeline import Bar, Lane, Point, Timeline, build_timeline
from contracts_app.services.materialise import PERIODS, TermRow, shift
from packages_app.describe import KIND_WORDS, money

MAX_STATEMENT_POINTS = 60


@dataclass
class PeriodRow:
    """One line of the preview's table: what a lane's bar or point means, with its dates."""

    lane: str
    what: str
    starting_at: dt.datetime | None
    ending_before: dt.datetime | None
    amount: str = ""


def _instant(value) -> dt.datetime | None:
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _lane_label(row: TermRow, product_names: Mapping[str, str]) -> str:
    name = row.body.get("name") or product_names.get(str(row.product_id or ""), "")
    return f"{KIND_WORDS.get(row.kind, row.kind).capitalize()}: {name}".rstrip(": ")


def statement_boundaries(
    start: dt.datetime, end: dt.datetime | None, usage: Mapping, *, horizon: dt.datetime
) -> list[dt.datetime]:
    """Usage-statement boundaries from the billing anchor up to the contract end (or horizon)."""
    anchor = _instant(usage.get("billing_anchor_date")) or start
    unit, value = PERIODS.get(usage.get("frequency") or "MONTHLY", ("MONTHS", 1))
    limit = end or horizon
    points = [start] if anchor > start else []
    for n in range(MAX_STATEMENT_POINTS):
        moment = shift(anchor, (unit, value * n))
        if moment > limit:
            break
        points.append(moment)
    return points


def preview_timeline(
    preview,
    *,
    product_names: Mapping[str, str],
    credit_type_names: Mapping[str, str],
    width: int = 1000,
    label_width: int = 230,
) -> tuple[Timeline, list[PeriodRow]]:
    """The contract span, each term's window, every recurring period, charges and invoices as
    points, subscriptions and usage-statement boundaries; with the same facts as a table."""
    start, end = preview.starting_at, preview.ending_before
    table: list[PeriodRow] = []
    contract = Lane(
        label="Contract",
        bars=[
            Bar(
                start=start,
                end=end,
                label=preview.package.contract_name or preview.package.name,
                tone="contract",
            )
        ],
    )
    table.append(PeriodRow("Contract", "contract", start, end))
    children: dict[str, list[TermRow]] = {}
    for row in preview.rows:
        if row.generated_from_id is not None:
            children.setdefault(str(row.generated_from_id), []).append(row)
    lanes = [contract]
    for row in preview.rows:
        if row.generated_from_id is not None:
            continue
        label = _lane_label(row, product_names)
        lane = Lane(label=label)
        body = row.body
        if row.kind in ("recurring_commit", "recurring_credit"):
            lane.bars.append(
                Bar(
                    start=row.starting_at,
                    end=row.ending_before,
                    tone="window",
                    title=f"{label}: window",
                )
            )
            table.append(PeriodRow(label, "window", row.starting_at, row.ending_before))
            for index, child in enumerate(children.get(str(row.id), [])):
                for item in (child.body.get("access_schedule") or {}).get("schedule_items") or []:
                    item_start, item_end = (
                        _instant(item["starting_at"]),
                        _instant(item["ending_before"]),
                    )
                    amount = money(
                        item.get("amount"),
                        (child.body.get("access_schedule") or {}).get("credit_type_id"),
                        credit_type_names,
                    )
                    lane.bars.append(
                        Bar(
                            start=item_start,
                            end=item_end,
                            tone="period" if index % 2 == 0 else "period-alt",
                            title=f"{label}: period {index + 1}, {amount}",
                            label=amount,
                        )
                    )
                    table.append(
                        PeriodRow(label, f"period {index + 1}", item_start, item_end, amount)
                    )
        elif row.kind in ("commit", "credit"):
            schedule = body.get("access_schedule") or {}
            for item in schedule.get("schedule_items") or []:
                item_start, item_end = (
                    _instant(item["starting_at"]),
                    _instant(item["ending_before"]),
                )
                amount = money(
                    item.get("amount"), schedule.get("credit_type_id"), credit_type_names
                )
                lane.bars.append(
                    Bar(
                        start=item_start,
                        end=item_end,
                        tone="term",
                        title=f"{label}: {amount}",
                        label=amount,
                    )
                )
                table.append(PeriodRow(label, "access", item_start, item_end, amount))
            invoices = body.get("invoice_schedule") or {}
            for item in invoices.get("schedule_items") or []:
                at = _instant(item["timestamp"])
                amount = money(
                    item.get("amount") or (item.get("unit_price", 0) * item.get("quantity", 1)),
                    invoices.get("credit_type_id"),
                    credit_type_names,
                )
                lane.points.append(Point(at=at, title=f"{label}: invoice {amount}", tone="invoice"))
                table.append(PeriodRow(label, "invoice", at, None, amount))
        elif row.kind == "scheduled_charge":
            schedule = body.get("schedule") or {}
            for item in schedule.get("schedule_items") or []:
                at = _instant(item["timestamp"])
                amount = money(
                    item.get("amount") or (item.get("unit_price", 0) * item.get("quantity", 1)),
                    schedule.get("credit_type_id"),
                    credit_type_names,
                )
                lane.points.append(Point(at=at, title=f"{label}: charge {amount}", tone="invoice"))
                table.append(PeriodRow(label, "charge", at, None, amount))
        else:  # subscription, override, spend tracker: a window
            if row.starting_at is not None:
                lane.bars.append(
                    Bar(start=row.starting_at, end=row.ending_before, tone="term", title=label)
                )
                table.append(
                    PeriodRow(
                        label,
                        KIND_WORDS.get(row.kind, row.kind),
                        row.starting_at,
                        row.ending_before,
                    )
                )
        lanes.append(lane)
    horizon = end or shift(start, ("YEARS", 1))
    boundaries = statement_boundaries(start, end, preview.usage_statement_schedule, horizon=horizon)
    statements = Lane(
        label="Usage statements",
        points=[
            Point(at=at, title=f"statement boundary {at:%Y-%m-%d}", tone="statement")
            for at in boundaries
        ],
    )
    lanes.append(statements)
    for at in boundaries:
        table.append(PeriodRow("Usage statements", "boundary", at, None))
    timeline = build_timeline(
        lanes,
        title=f"{preview.package.name} materialised for a contract starting {start:%Y-%m-%d}",
        start=start,
        end=end or horizon,
        markers=[(start, "start")],
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
