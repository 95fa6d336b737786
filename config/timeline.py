"""Timelines drawn as server-rendered SVG: Python computes every x and width from dates, the
template (`core/timeline.html`) only places rectangles, points and text (STYLE.md: no chart JS).

Used for a package materialised for an example start, alias schedules and a customer's
subscriptions. Open-ended bars run to the right edge and say so.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from config.core.billing_periods import add_months


@dataclass
class Bar:
    start: dt.datetime
    end: dt.datetime | None
    label: str = ""
    title: str = ""
    tone: str = "term"  # css class suffix: term, period, contract, alias, current, muted
    href: str = ""
    x: float = 0
    width: float = 0
    open_ended: bool = False
    fitted: str = ""  # the label cut to the bar's width ("" when it does not fit)


@dataclass
class Point:
    at: dt.datetime
    title: str = ""
    tone: str = "point"
    x: float = 0


@dataclass
class Lane:
    label: str
    bars: list[Bar] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    y: float = 0
    href: str = ""


@dataclass
class Timeline:
    lanes: list[Lane]
    title: str
    width: int
    height: int
    plot_left: int
    plot_width: int
    axis_y: int
    ticks: list[tuple[float, str]]
    markers: list[tuple[float, str]]
    start: dt.datetime
    end: dt.datetime

    @property
    def has_links(self) -> bool:
        """Whether a bar links somewhere: the SVG is then a group of links, not one image
        (an image's children are not interactive for assistive technology)."""
        return any(bar.href for lane in self.lanes for bar in lane.bars)


LANE_HEIGHT = 26
TOP = 16  # room above the first lane for marker labels ("now", "start")
LABEL_WIDTH = 230


def _month_start(moment: dt.datetime) -> dt.datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


TICK_ROOM = 58  # pixels one "2027-01" label needs


def _ticks(start: dt.datetime, end: dt.datetime, plot_width: int) -> list[dt.datetime]:
    """Month starts, every 1, 2, 3, 6 or 12 months: the smallest step whose labels fit."""
    months = max((end.year - start.year) * 12 + end.month - start.month, 1)
    room = max(plot_width // TICK_ROOM, 2)
    step = next(
        (s for s in (1, 2, 3, 6, 12) if months / s <= room), 12 * (months // (12 * room) + 1)
    )
    tick = _month_start(start)
    if step % 12 == 0:
        tick = tick.replace(month=1)
    else:
        tick = tick.replace(month=1 + (tick.month - 1) // step * step)
    ticks = []
    while tick <= end:
        if tick >= start:
            ticks.append(tick)
        tick = add_months(tick, step)
    return ticks


def build_timeline(
    lanes: list[Lane],
    *,
    title: str,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    markers: list[tuple[dt.datetime, str]] = (),
    width: int = 1000,
    label_width: int = LABEL_WIDTH,
) -> Timeline:
    """Place every bar and point of `lanes` on one date axis from `start` to `end` (by default
    the span of everything drawn, open-ended bars getting a quarter of it more)."""
    instants = [b.start for lane in lanes for b in lane.bars]
    instants += [b.end for lane in lanes for b in lane.bars if b.end]
    instants += [p.at for lane in lanes for p in lane.points]
    instants += [at for at, _ in markers]
    if start is None:
        start = min(instants, default=None) or dt.datetime.now(dt.UTC)
    if end is None:
        end = max(instants, default=start)
        if any(b.end is None for lane in lanes for b in lane.bars) or end <= start:
            end = end + max((end - start) / 4, dt.timedelta(days=90))
    span = (end - start).total_seconds() or 1
    plot_left = label_width
    plot_width = width - label_width - 28

    def x_of(moment: dt.datetime) -> float:
        fraction = (moment - start).total_seconds() / span
        return round(plot_left + plot_width * min(max(fraction, 0), 1), 1)

    y = TOP
    for lane in lanes:
        lane.y = y
        for bar in lane.bars:
            bar.x = x_of(bar.start)
            bar.open_ended = bar.end is None or bar.end > end
            right = x_of(bar.end) if bar.end else plot_left + plot_width
            bar.width = max(round(right - bar.x, 1), 2)
            room = int(bar.width / 7.2) - 1  # characters of 12 px text (the CSS's .tl-barlabel)
            if room >= len(bar.label):
                bar.fitted = bar.label
            elif room >= 4:
                bar.fitted = bar.label[: room - 1] + "…"
        for point in lane.points:
            point.x = x_of(point.at)
        y += LANE_HEIGHT
    axis_y = y + 4
    return Timeline(
        lanes=lanes,
        title=title,
        width=width,
        height=axis_y + 22,
        plot_left=plot_left,
        plot_width=plot_width,
        axis_y=axis_y,
        ticks=[(x_of(t), t.strftime("%Y-%m")) for t in _ticks(start, end, plot_width)],
        markers=[(x_of(at), label) for at, label in markers if start <= at <= end],
        start=start,
        end=end,
    )
