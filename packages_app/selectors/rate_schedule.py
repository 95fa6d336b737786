"""A rate card's schedule: which rate prices a product at each instant.

The one rule (issue 17 defect 5, Metronome's "schedule a rate change" with addRates): rates of
one card for the same product, pricing-group values and billing frequency form one schedule; at
any instant the rate in force is, of those whose window holds the instant, the one that started
last. So a later rate supersedes an earlier one from its start (the earlier one's segment ends
there), and a bounded later rate hands back to the earlier one when it ends. Rows keep the
windows they were added with; the schedule is derived here, and everything that asks "what is
the rate of X at t" (getRates, getRateSchedule, the rate-card page) reads it from here.
Same key and same start is one rate: the write service replaces it (a unique constraint holds it).
"""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from config.core.errors import ValidationFailed
from config.core.instants import parse_instant
from config.core.pagination import CursorPage, cursor_for, cursor_values
from packages_app.models import Rate, RateCard
from packages_app.selectors.catalog import rates_matching


def schedule_key(
    *, product_id: Any, pricing_group_values: dict | None, details: dict | None
) -> tuple:
    """What makes two rates compete for the same instants."""
    return (
        str(product_id),
        json.dumps(pricing_group_values or {}, sort_keys=True, default=str),
        (details or {}).get("billing_frequency") or "",
    )


def rate_schedule_key(rate: Rate) -> tuple:
    return schedule_key(
        product_id=rate.product_id,
        pricing_group_values=rate.pricing_group_values,
        details=rate.details,
    )


def _covers(rate: Rate, instant: dt.datetime) -> bool:
    return rate.starting_at <= instant and (
        rate.ending_before is None or instant < rate.ending_before
    )


def _segment(rate: Rate, starting_at: dt.datetime, ending_before: dt.datetime | None) -> Rate:
    """The rate as one segment of the schedule: an unsaved copy carrying the segment's window."""
    segment = copy.copy(rate)
    segment.starting_at, segment.ending_before = starting_at, ending_before
    return segment


def _segments_of_one_key(rates: list[Rate]) -> list[Rate]:
    bounds = sorted(
        {rate.starting_at for rate in rates}
        | {rate.ending_before for rate in rates if rate.ending_before is not None}
    )
    segments: list[Rate] = []
    for index, start in enumerate(bounds):
        end = bounds[index + 1] if index + 1 < len(bounds) else None
        covering = [rate for rate in rates if _covers(rate, start)]
        if not covering:
            continue
        winner = max(covering, key=lambda rate: rate.starting_at)
        last = segments[-1] if segments else None
        if last is not None and last.pk == winner.pk and last.ending_before == start:
            last.ending_before = end
        else:
            segments.append(_segment(winner, start, end))
    return segments


def schedule_segments(rates: Iterable[Rate]) -> list[Rate]:
    """The schedule `rates` make, segment by segment, ordered by (starting_at, rate id)."""
    by_key: dict[tuple, list[Rate]] = defaultdict(list)
    for rate in rates:
        by_key[rate_schedule_key(rate)].append(rate)
    segments = [segment for group in by_key.values() for segment in _segments_of_one_key(group)]
    return sorted(segments, key=lambda segment: (segment.starting_at, str(segment.pk)))


def segments_in_force(segments: Iterable[Rate], at: dt.datetime) -> list[Rate]:
    """The segments holding `at`: at most one per schedule key."""
    return [segment for segment in segments if _covers(segment, at)]


def rate_schedule(
    *,
    rate_card: RateCard,
    at: dt.datetime | None = None,
    starting_at: dt.datetime | None = None,
    ending_before: dt.datetime | None = None,
    selectors: list[dict[str, Any]] | None = None,
) -> list[Rate]:
    """Segments of the card's schedule in force at `at`, or overlapping [starting_at,
    ending_before); all of them with neither. One query (two with product_tags selectors).

    Every selector key (product, pricing-group values, billing frequency, product tags) is part
    of the schedule key or a function of it, so filtering rates by selectors first keeps every
    rate a matching segment competes with.
    """
    rates = rates_matching(rate_card=rate_card, selectors=selectors, tags_at=at or starting_at)
    segments = schedule_segments(rates)
    if at is not None:
        return segments_in_force(segments, at)
    if starting_at is not None:
        segments = [s for s in segments if s.ending_before is None or s.ending_before > starting_at]
    if ending_before is not None:
        segments = [s for s in segments if s.starting_at < ending_before]
    return segments


def rate_schedule_page(
    segments: list[Rate], *, limit: int, cursor: str | None, cursor_field: str = "next_page"
) -> CursorPage:
    """A keyset page of `segments` (ordered by starting_at, rate id), cursors as for SQL pages."""
    if cursor:
        raw_start, raw_id = cursor_values(cursor, 2, cursor_field)
        try:
            after = (parse_instant(raw_start), raw_id)
        except ValueError:
            raise ValidationFailed(
                f"{cursor_field} is not a valid cursor", field=cursor_field
            ) from None
        if after[0].tzinfo is None:
            raise ValidationFailed(f"{cursor_field} is not a valid cursor", field=cursor_field)
        segments = [s for s in segments if (s.starting_at, str(s.pk)) > after]
    if len(segments) <= limit:
        return CursorPage(items=segments, next_cursor=None)
    items = segments[:limit]
    last = items[-1]
    return CursorPage(items=items, next_cursor=cursor_for([last.starting_at, str(last.pk)]))


@dataclass
class RateCardSchedule:
    """The rate-card page's reading of the schedule at `at` (one query): every segment, the
    segments in force at `at` (one per schedule key), and the rates whose own window holds `at`
    but which a later rate supersedes there, each with the segment that supersedes it."""

    at: dt.datetime
    segments: list[Rate]
    in_force: list[Rate]
    superseded: list[tuple[Rate, Rate]]


def rate_card_schedule_at(*, rate_card: RateCard, at: dt.datetime) -> RateCardSchedule:
    rates = list(rates_matching(rate_card=rate_card))
    segments = schedule_segments(rates)
    in_force = segments_in_force(segments, at)
    winners = {rate_schedule_key(segment): segment for segment in in_force}
    superseded = []
    for rate in rates:
        winner = winners.get(rate_schedule_key(rate))
        if _covers(rate, at) and winner is not None and winner.pk != rate.pk:
            superseded.append((rate, winner))
    by_product = lambda rate: (rate.product.name, rate.starting_at, str(rate.pk))  # noqa: E731
    return RateCardSchedule(
        at=at,
        segments=sorted(segments, key=by_product),
        in_force=sorted(in_force, key=by_product),
        superseded=sorted(superseded, key=lambda pair: by_product(pair[0])),
    )
