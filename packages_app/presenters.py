"""What the catalog pages draw: alias schedules as timelines, terms in plain words. Pure
composition over rows the selectors fetched; no queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal

from django.urls import reverse

from config.core.instants import format_day_or_minute
from config.timeline import Bar, Lane, Timeline, build_timeline
from packages_app.describe import describe_term
from packages_app.models import AliasAssignment, PackageTerm


def assignment_target(assignment: AliasAssignment) -> tuple[str, str]:
    """(name, url) of what an assignment points at."""
    if assignment.package_id:
        return assignment.package.name, reverse(
            "contracts:package-detail", args=[assignment.package_id]
        )
    return assignment.rate_card.name, reverse(
        "packages:ratecard-detail", args=[assignment.rate_card_id]
    )


def interval_state(assignment: AliasAssignment, now: dt.datetime) -> tuple[str, str]:
    """(state, words) of one alias interval at `now`: the one rule every alias table and
    timeline label uses. Only the interval covering now is "in force"; a later one is
    "scheduled from <date>", an earlier one "ended <date>"; a row replaced by a later
    assignment is "superseded <date>" (history, never in force)."""
    if assignment.superseded_at is not None:
        return "superseded", f"superseded {format_day_or_minute(assignment.superseded_at)}"
    if assignment.starting_at > now:
        return "scheduled", f"scheduled from {format_day_or_minute(assignment.starting_at)}"
    if assignment.ending_before is not None and assignment.ending_before <= now:
        return "ended", f"ended {format_day_or_minute(assignment.ending_before)}"
    return "in-force", "in force"


def alias_timeline(
    assignments: Iterable[AliasAssignment],
    *,
    title: str,
    now: dt.datetime,
    lane_label=None,
    highlight_package_id=None,
    new_interval_start: dt.datetime | None = None,
) -> Timeline:
    """One lane per alias name (or per target with `lane_label`), one bar per interval;
    superseded intervals are drawn muted and say so."""
    lanes: dict[str, Lane] = {}
    for assignment in assignments:
        label = lane_label(assignment) if lane_label else assignment.alias_name.name
        lane = lanes.setdefault(label, Lane(label=label))
        target, href = assignment_target(assignment)
        state, words = interval_state(assignment, now)
        superseded = state == "superseded"
        in_force_now = state == "in-force"
        tone = "muted" if superseded else "current" if in_force_now else "alias"
        if (
            highlight_package_id
            and assignment.package_id == highlight_package_id
            and not superseded
        ):
            tone = "current"
        lane.bars.append(
            Bar(
                start=assignment.starting_at,
                end=assignment.ending_before,
                label=target,
                title=f"{assignment.alias_name.name} → {target} ({words})",
                tone=tone,
                href=href,
            )
        )
    return build_timeline(list(lanes.values()), title=title, markers=[(now, "now")])


def terms_in_words(
    terms: Iterable[PackageTerm], *, credit_type_names: Mapping[str, str]
) -> list[tuple[PackageTerm, str]]:
    """Each term with its sentence; product names come from the prefetched `term.product`
    and, for products named elsewhere in a body, from the same prefetch."""
    terms = list(terms)
    product_names = {str(t.product_id): t.product.name for t in terms if t.product_id}
    return [
        (
            term,
            describe_term(
                term.kind,
                term.body,
                product_names=product_names,
                credit_type_names=credit_type_names,
            ),
        )
        for term in terms
    ]


def alias_row(name, now: dt.datetime, *, upcoming_days: int) -> dict:
    """What an alias (with its in-force `.intervals`) points at now and what changes in the next
    `upcoming_days` days: the alias list's row."""
    soon = now + dt.timedelta(days=upcoming_days)
    current = next(
        (
            i
            for i in name.intervals
            if i.starting_at <= now and (i.ending_before is None or i.ending_before > now)
        ),
        None,
    )
    changes = []
    for interval in name.intervals:
        if now < interval.starting_at <= soon:
            changes.append((interval.starting_at, assignment_target(interval)[0]))
        if interval.ending_before and now < interval.ending_before <= soon:
            following = any(i.starting_at == interval.ending_before for i in name.intervals)
            if not following:
                changes.append((interval.ending_before, "nothing"))
    return {
        "name": name,
        "current": assignment_target(current) if current else None,
        "changes": sorted(changes),
    }


def _number(value) -> str:
    return format(Decimal(str(value)).normalize(), "f") if value is not None else ""


def rate_price_words(rate) -> str:
    """A rate's price as the rate-card page says it: the price and credit type, or each tier
    ("first 1000 at 3 · then 2"), never just the word "tiered"."""
    unit = rate.credit_type.name if rate.credit_type_id else ""
    percent = rate.rate_type in ("PERCENTAGE", "TIERED_PERCENTAGE")
    if rate.price is not None:
        return f"{_number(rate.price)} {'(fraction)' if percent else unit}".strip()
    tiers = (rate.details or {}).get("tiers") or []
    if not tiers:
        return "custom" if rate.rate_type == "CUSTOM" else "—"
    parts = []
    for index, tier in enumerate(tiers):
        price = _number(tier.get("price"))
        size = tier.get("size")
        if size is None:
            parts.append(f"{'then' if index else 'every unit'} at {price}")
        else:
            parts.append(f"{'first' if index == 0 else 'next'} {_number(size)} at {price}")
    return " · ".join(parts) + ("" if percent else f" {unit}")


def unpriced_words(product_names: list[str]) -> str:
    """The warning for subscriptions the rate card has no price for ("" when none)."""
    if not product_names:
        return ""
    names = ", ".join(f"“{name}”" for name in product_names)
    return (
        f"No price on the rate card for the subscription{'s' if len(product_names) > 1 else ''} "
        f"{names}: contracts on this package would bill "
        f"{'them' if len(product_names) > 1 else 'it'} at no price. Add a rate for "
        f"{'them' if len(product_names) > 1 else 'it'} on the rate card."
    )


def package_list_row(package, entry: dict, running: int | None, now: dt.datetime) -> dict:
    """One row of the package list: the package, its rate card, the aliases pointing at it
    (with their state now), its place in each alias's line of versions, its cohort now."""
    return {
        "package": package,
        "url": reverse("contracts:package-detail", args=[package.pk]),
        "aliases": [
            {
                "name": a.alias_name.name,
                "url": reverse("packages:alias-detail", args=[a.alias_name_id]),
                "state": interval_state(a, now),
            }
            for a in entry.get("aliases", [])
        ],
        "lineage": [
            {
                "alias": alias_name.name,
                "versions": [
                    {
                        "label": f"v{number}",
                        "name": version.name,
                        "url": reverse("contracts:package-detail", args=[version.pk]),
                        "this": version.pk == package.pk,
                    }
                    for number, version in enumerate(versions, start=1)
                ],
            }
            for alias_name, versions in entry.get("lineage", [])
            if len(versions) > 1
        ],
        "running": running,
    }


# --- page compositions (what a catalog page shows, from rows its view read) -------------------


def rates_at_panel(schedule, *, at: dt.datetime, page, new_form, bound=None) -> dict:
    """The rate card page's "rates at a date" panel: the rates in force at `at`, each priced
    in words with its end/replace form (`new_form(rate)`; `bound`, (rate id, form), is one
    posted back invalid: open on its row, or its errors above the table when its rate is not
    in force at `at`), the superseded ones with what supersedes them, and one `page` of the
    whole schedule."""
    bound_id, bound_form = bound or (None, None)
    rows = []
    for segment in schedule.in_force:
        shown = str(segment.pk) == bound_id
        form = bound_form if shown else new_form(segment)
        rows.append(
            {"rate": segment, "price": rate_price_words(segment), "form": form, "open": shown}
        )
    shown_anywhere = any(row["open"] for row in rows)
    for segment in page.object_list:
        segment.price_words = rate_price_words(segment)
    superseded = [
        {"rate": rate, "price": rate_price_words(rate), "by": by, "by_price": rate_price_words(by)}
        for rate, by in schedule.superseded
    ]
    return {
        "at": at,
        "in_force": rows,
        "superseded": superseded,
        "page": page,
        "change_errors": [] if bound_form is None or shown_anywhere else bound_form.error_summary(),
    }


def alias_list_page(page, now: dt.datetime, *, upcoming_days: int) -> dict:
    """The alias list: one row per alias of the `page` (what it points at now, what changes
    soon) and the page's intervals as one timeline."""
    intervals = [interval for name in page.object_list for interval in name.intervals]
    return {
        "page": page,
        "rows": [alias_row(name, now, upcoming_days=upcoming_days) for name in page.object_list],
        "upcoming_days": upcoming_days,
        "timeline": alias_timeline(intervals, title="Aliases on this page", now=now)
        if intervals
        else None,
    }


def alias_page(alias_name, history: list[AliasAssignment], now: dt.datetime) -> dict:
    """An alias's page: every interval with its state, the schedule in force as a timeline (one
    lane per state) and the superseded intervals as another."""
    in_force = [row for row in history if row.superseded_at is None]
    superseded = [row for row in history if row.superseded_at is not None]
    return {
        "history": [(row, *interval_state(row, now)) for row in history],
        "timeline": alias_timeline(
            in_force,
            title=f"{alias_name.name}: schedule",
            now=now,
            lane_label=lambda a: interval_state(a, now)[1],
        )
        if history
        else None,
        "history_timeline": alias_timeline(
            superseded,
            title=f"{alias_name.name}: superseded intervals",
            now=now,
            lane_label=lambda a: "superseded",
        )
        if superseded
        else None,
    }


def alias_preview(result: list[AliasAssignment], *, name: str, starting_at, now) -> dict:
    """The alias schedule form's preview: the intervals not yet ended after the change, and
    all of them as a timeline with the new interval marked."""
    return {
        "result": [r for r in result if r.ending_before is None or r.ending_before > now],
        "result_timeline": alias_timeline(
            result, title=f"{name} after this change", now=now, new_interval_start=starting_at
        ),
        "starting_at": starting_at,
    }
