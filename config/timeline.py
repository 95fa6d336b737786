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
    fitted: str = ""  # the whole label when it fits (inside the bar, or after it); never cut
    label_x: float = 0
    label_outside: bool = False  # drawn after the bar (dark text), not on it


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
    short: str = ""  # the label as drawn (cut to fit left of the plot; `label` is its tooltip)


@dataclass(frozen=True)
class Marker:
    """A vertical line at an instant with its label above the lanes, placed so that no two
    labels overlap and none is cut off at the edges."""

    x: float
    label: str
    label_x: float
    anchor: str  # start, middle, end
    y: float


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
    markers: list[Marker]
    start: dt.datetime
    end: dt.datetime

    @property
    def has_links(self) -> bool:
        """Whether a bar links somewhere: the SVG is then a group of links, not one image
        (an image's children are not interactive for assistive technology)."""
        return any(bar.href for lane in self.lanes for bar in lane.bars)


LANE_HEIGHT = 26
MARKER_ROW = 14  # one row of marker labels ("now", "start") above the first lane
MARKER_ROWS = 3  # at most; a label that finds no room keeps its line and tooltip only
LABEL_WIDTH = 230
# Widths of text per character, in the SVG's units, a little over the fonts' (the CSS: every
# timeline text is 12 px).
LANE_CHAR = 7.2
BAR_CHAR = 7.2
MARKER_CHAR = 7.2
GAP = 4


def fit_text(text: str, width: float, char: float) -> str:
    """`text` if it fits in `width`, else cut with "…" to fit (a lane label; its tooltip and
    the table beside the chart carry the whole)."""
    room = int(width / char)
    if len(text) <= room:
        return text
    return text[: max(room - 1, 1)] + "…"


def place_labels(
    items: list[tuple[float, str]], *, left: float, right: float, char: float, rows: int
) -> list[tuple[float, str, float, str, int]]:
    """Labels centred on their x, moved to start (or end) there when they would cross the
    `left` (`right`) edge, each in the first of `rows` rows where it overlaps no other:
    (x, label, label_x, anchor, row). A label with no room left is dropped."""
    taken: list[list[tuple[float, float]]] = [[] for _ in range(rows)]
    placed = []
    for x, label in sorted(items, key=lambda item: item[0]):
        width = len(label) * char
        anchor, x0 = "middle", x - width / 2
        if x0 < left:
            anchor, x0 = "start", max(x, left)
        elif x0 + width > right:
            anchor, x0 = "end", min(x, right) - width
        x1 = x0 + width
        for row, boxes in enumerate(taken):
            if all(x1 + GAP <= a or x0 >= b + GAP for a, b in boxes):
                boxes.append((x0, x1))
                label_x = {"start": x0, "middle": x, "end": x1}[anchor]
                placed.append((x, label, round(label_x, 1), anchor, row))
                break
    return placed


def _month_start(moment: dt.datetime) -> dt.datetime:
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


TICK_ROOM = 58  # pixels one "2027-01" label needs


def _ticks(start: dt.datetime, end: dt.datetime, plot_width: int) -> list[dt.datetime]:
    """Month starts, every 1, 2, 3, 6 or 12 months: the smallest step whose labels fit."""
    months = max((end.year - start.year) * 12 + end.month - start.month, 1)
    room = max(plot_width // TICK_ROOM, 2)  # labels never closer than TICK_ROOM
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

    placed = place_labels(
        [(x_of(at), label) for at, label in markers if start <= at <= end],
        left=0,
        right=width,
        char=MARKER_CHAR,
        rows=MARKER_ROWS,
    )
    rows_used = max((row for *_, row in placed), default=-1) + 1
    top = 6 + MARKER_ROW * max(rows_used, 1)
    placed_markers = [
        Marker(x=x, label=label, label_x=label_x, anchor=anchor, y=top - 5 - MARKER_ROW * row)
        for x, label, label_x, anchor, row in placed
    ]
    y = top
    for lane in lanes:
        lane.y = y
        lane.short = fit_text(lane.short or lane.label, label_width - 12, LANE_CHAR)
        _place_bars(lane, x_of, right_edge=plot_left + plot_width + 20, end=end)
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
        markers=placed_markers,
        start=start,
        end=end,
    )


def _place_bars(lane: Lane, x_of, *, right_edge: float, end: dt.datetime) -> None:
    """Each bar's x and width, and where its whole label goes: on the bar when it fits, else
    just after it when the room before the next bar (or the edge) holds it, else nowhere (its
    tooltip and the table have it). A label is never cut."""
    for bar in lane.bars:
        bar.x = x_of(bar.start)
        bar.open_ended = bar.end is None or bar.end > end
        right = x_of(bar.end) if bar.end and bar.end <= end else x_of(end)
        bar.width = max(round(right - bar.x, 1), 2)
    ordered = sorted(lane.bars, key=lambda b: b.x)
    for index, bar in enumerate(ordered):
        bar.fitted, bar.label_outside = "", False
        if not bar.label:
            continue
        need = len(bar.label) * BAR_CHAR + 2 * GAP
        if need <= bar.width:
            bar.fitted, bar.label_x = bar.label, round(bar.x + GAP, 1)
            continue
        after = bar.x + bar.width + (14 if bar.open_ended else GAP)
        following = ordered[index + 1].x if index + 1 < len(ordered) else right_edge
        if after + need - GAP <= following:
            bar.fitted, bar.label_x, bar.label_outside = bar.label, round(after, 1), True
