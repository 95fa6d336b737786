"""A forecast (contracts_app/services/forecasts.py) as a page shows it: a table per period and
in total, per credit type, and a small bar chart drawn as server-rendered SVG (Python computes
every coordinate, `packages_app/_forecast.html` only places them; STYLE.md: no chart JS).
Money through `packages_app/describe.py` `money` (USD cents as dollars, other credit types with
their name), dates as ISO dates. `forecast_panel`: what the package page's forecast fragment and
the builder's preview (`builder_forecast`) show, with the expected usage typed in."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.http import Http404, QueryDict
from django.urls import reverse

from config.core.errors import ApplicationError
from config.core.money import exact_sum, totals_by_credit_type
from contracts_app.services.forecasts import (
    CHARGE_KINDS,
    GRANT_KINDS,
    Forecast,
    forecast_usage_products,
    package_forecast,
    preview_forecast,
)
from contracts_app.services.previews import ContractPreview
from packages_app.describe import money
from packages_app.models import USD_CENTS_ID

CHART_WIDTH, CHART_HEIGHT = 640, 180
PLOT_LEFT, PLOT_TOP, PLOT_BOTTOM = 8, 22, 24  # room for the values above, the months below
USAGE_PREFIX = "forecast_usage-"  # an expected-usage input: forecast_usage-<product id>


@dataclass
class ForecastColumn:
    credit_type_id: str
    heading: str
    kinds: tuple[str, ...]


@dataclass
class ForecastRow:
    starting_at: object
    ending_before: object
    cells: list[str]


@dataclass
class ChartBar:
    x: float
    y: float
    width: float
    height: float
    cx: float  # the bar's middle, where its texts are centred
    label: str  # the period's month, YYYY-MM
    value: str  # the amount above the bar ("" when it does not fit)
    title: str


@dataclass
class ForecastChart:
    width: int
    height: int
    baseline: float
    bars: list[ChartBar] = field(default_factory=list)
    title: str = ""


@dataclass
class ForecastView:
    columns: list[ForecastColumn]
    rows: list[ForecastRow]
    totals: list[str]
    chart: ForecastChart
    notes: list[str]
    months: int


def forecast_view(forecast: Forecast, *, credit_type_names: Mapping[str, str]) -> ForecastView:
    """The table's columns (charges per credit type, the fiat one first, then grants of
    commits and credits), a row per period, the totals, and the chart of the fiat charges."""
    names = {**credit_type_names}
    for credit_type_id, sums in forecast.credit_types.items():
        names.setdefault(credit_type_id, sums.get("name") or "units")
    # USD cents are shown as dollars (describe.money), so their columns say USD.
    headings = {**names, str(USD_CENTS_ID): "USD"}
    columns = [
        ForecastColumn(ct, f"Charges ({headings.get(ct, 'units')})", CHARGE_KINDS)
        for ct, sums in forecast.credit_types.items()
        if ct == forecast.fiat_credit_type_id or sums["charges"]
    ] + [
        ForecastColumn(ct, f"Granted ({headings.get(ct, 'units')})", GRANT_KINDS)
        for ct, sums in forecast.credit_types.items()
        if sums["grants"]
    ]
    rows, sums_by_column = [], [[] for _ in columns]
    for period in forecast.periods:
        per_kind = {
            kinds: totals_by_credit_type(
                (line.credit_type_id, line.amount) for line in period.lines if line.kind in kinds
            )
            for kinds in (CHARGE_KINDS, GRANT_KINDS)
        }
        cells = []
        for index, column in enumerate(columns):
            amount = per_kind[column.kinds].get(column.credit_type_id, Decimal(0))
            sums_by_column[index].append(amount)
            cells.append(money(amount, column.credit_type_id, names))
        rows.append(ForecastRow(period.starting_at, period.ending_before, cells))
    totals = [
        money(exact_sum(amounts), column.credit_type_id, names)
        for column, amounts in zip(columns, sums_by_column, strict=True)
    ]
    fiat = forecast.fiat_credit_type_id
    chart = forecast_chart(
        [(period.starting_at, period.ending_before, period.total) for period in forecast.periods],
        credit_type_id=fiat,
        names=names,
        title=f"Charges per period ({headings.get(fiat, 'units')})",
    )
    months = round((forecast.ending_before - forecast.starting_at).days / 30.4)
    return ForecastView(columns, rows, totals, chart, forecast.notes, months)


def forecast_chart(
    periods: list[tuple], *, credit_type_id: str, names: Mapping[str, str], title: str
) -> ForecastChart:
    """One bar per period, heights proportional to the amount (the largest fills the plot)."""
    chart = ForecastChart(
        width=CHART_WIDTH, height=CHART_HEIGHT, baseline=CHART_HEIGHT - PLOT_BOTTOM, title=title
    )
    if not periods:
        return chart
    top = max((amount for _, _, amount in periods), default=Decimal(0))
    plot_height = CHART_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    slot = (CHART_WIDTH - 2 * PLOT_LEFT) / len(periods)
    width = max(slot * 0.7, 1)
    # A month label ("2027-03") is ~55 units wide at the page's 12 px: every month when the
    # slots are that wide, else every second or third one (labels never touch).
    every = 1 if slot >= 60 else 2 if slot >= 30 else 3 if slot >= 20 else 0
    for index, (start, end, amount) in enumerate(periods):
        height = float(amount / top) * plot_height if top > 0 else 0
        words = money(amount, credit_type_id, names)
        chart.bars.append(
            ChartBar(
                x=round(PLOT_LEFT + index * slot + (slot - width) / 2, 1),
                y=round(chart.baseline - height, 1),
                width=round(width, 1),
                height=round(height, 1),
                cx=round(PLOT_LEFT + index * slot + slot / 2, 1),
                label=f"{start:%Y-%m}" if every and index % every == 0 else "",
                value=words if slot >= 7 * len(words) else "",
                title=f"{start:%Y-%m-%d} to {end:%Y-%m-%d}: {words}",
            )
        )
    return chart


def _usage(data: QueryDict) -> tuple[list[dict], dict[str, str], str]:
    """The expected usage typed in (`forecast_usage-<product id>`, per month; blanks skipped):
    (the forecast's `usage`, the raw values to show again, an error)."""
    usage, raw, error = [], {}, ""
    for key, value in data.items():
        if not key.startswith(USAGE_PREFIX) or not value.strip():
            continue
        product_id = key.removeprefix(USAGE_PREFIX)
        raw[product_id] = value
        try:
            quantity = Decimal(value.strip().replace(",", ""))
        except InvalidOperation:
            error = error or "Expected usage must be a number of units per month."
            continue
        if not quantity.is_finite():
            error = error or "Expected usage must be a number of units per month."
            continue
        usage.append({"product_id": product_id, "quantity_per_month": quantity})
    return usage, raw, error


def forecast_panel(compute, data: QueryDict, **extra) -> dict:
    """The include's context: the forecast as a table and chart, the usage inputs (with what
    was typed), or the error that stopped it."""
    usage, raw, error = _usage(data)  # an entry that is not a number is left out, and said
    forecast = None
    try:
        forecast = compute(usage)
    except ApplicationError as exc:
        error = exc.message
        if exc.field and exc.field.startswith("usage["):
            error = "Expected usage must be 0 or more units per month."
        if usage:  # show the forecast without the usage that failed
            try:
                forecast = compute(())
            except ApplicationError:
                forecast = None
    panel = {"error": error, "usage_inputs": [], "view": None, "unpriced": False, **extra}
    if forecast is not None:
        panel["usage_inputs"] = [
            {
                "name": f"{USAGE_PREFIX}{product.id}",
                "id": f"forecast-usage-{product.id}",
                "label": product.name,
                "value": raw.get(str(product.id), ""),
            }
            for product in forecast_usage_products(forecast)
        ]
        # Nothing charged or granted in any period and no usage to price: the package has no
        # prices, said as such (no table of zeros, no chart of "$0.00" bars).
        panel["unpriced"] = not panel["usage_inputs"] and not any(
            period.lines for period in forecast.periods
        )
        # The forecast names its credit types itself (no second query for the names).
        if not panel["unpriced"]:
            panel["view"] = forecast_view(forecast, credit_type_names={})
    return {"forecast_panel": panel}


def package_forecast_context(package_id, data: QueryDict, *, start, standalone: bool) -> dict:
    """The package page's forecast (its fragment, or its page `standalone`) for a contract
    starting `start`, with the expected usage in `data`; an unknown package is a 404."""

    def compute(usage):
        try:
            return package_forecast(package_id=str(package_id), starting_at=start, usage=usage)
        except ApplicationError as exc:
            if exc.field == "package_id":
                raise Http404(exc.message) from exc
            raise

    return forecast_panel(
        compute,
        data,
        refresh_url=reverse("contracts:package-forecast", args=[package_id]),
        in_builder=False,
        start=start,
        standalone=standalone,
    )


def builder_forecast(preview: ContractPreview | None, data: QueryDict, *, refresh_url: str) -> dict:
    """The builder's forecast of the package being built (its rolled-back preview), with the
    expected usage posted with the builder's form; {} when there is no preview."""
    if preview is None:
        return {}
    return forecast_panel(
        lambda usage: preview_forecast(preview, usage=usage),
        data,
        refresh_url=refresh_url,
        in_builder=True,
        start=preview.starting_at,
    )
