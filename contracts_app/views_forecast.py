"""The forecast on the package pages (issue 21): what a customer on the package would be
billed per period over 12 months, with an "expected usage" row to fill in. The package page
loads it from `package_forecast_panel` (an htmx fragment, re-rendered when a usage input
changes; opened without htmx, the same URL is a page of its own in the site's layout, with the
start date to choose and a plain form); the builder and the new-version page get it inside
their live preview (`builder_forecast`, called by views_packages.package_builder_preview).
Thin: the figures are the forecast service's, the table and chart the presenter's."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, QueryDict
from django.urls import reverse

from config.core.errors import ApplicationError
from config.web.forms import utc_day
from config.web.htmx import htmx_partial, render_page
from contracts_app.presenters_forecast import forecast_view
from contracts_app.services.forecasts import (
    forecast_usage_products,
    package_forecast,
    preview_forecast,
)
from contracts_app.services.previews import ContractPreview
from packages_app.selectors.browse import package_for_page

TEMPLATE = "packages_app/forecast_page.html"  # its `forecast` partial is the fragment
USAGE_PREFIX = "forecast_usage-"


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


def _panel(compute, data: QueryDict, **extra) -> dict:
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
    panel = {"error": error, "usage_inputs": [], "view": None, **extra}
    if forecast is not None:
        # The forecast names its credit types itself (no second query for the names).
        panel["view"] = forecast_view(forecast, credit_type_names={})
        panel["usage_inputs"] = [
            {
                "name": f"{USAGE_PREFIX}{product.id}",
                "id": f"forecast-usage-{product.id}",
                "label": product.name,
                "value": raw.get(str(product.id), ""),
            }
            for product in forecast_usage_products(forecast)
        ]
    return {"forecast_panel": panel}


def builder_forecast(preview: ContractPreview | None, data: QueryDict, *, refresh_url: str) -> dict:
    """The builder's forecast of the package being built (its rolled-back preview), with the
    expected usage posted with the builder's form; {} when there is no preview."""
    if preview is None:
        return {}
    return _panel(
        lambda usage: preview_forecast(preview, usage=usage),
        data,
        refresh_url=refresh_url,
        in_builder=True,
        start=preview.starting_at,
    )


@login_required
@permission_required("packages_app.view_package", raise_exception=True)
def package_forecast_panel(request, package_id):
    """The package page's forecast for a contract starting `start` (today by default): the
    fragment for htmx, else a page (the link of the package page without JavaScript)."""
    start = utc_day(request.GET.get("start"))
    standalone = not htmx_partial(request)

    def compute(usage):
        try:
            return package_forecast(package_id=str(package_id), starting_at=start, usage=usage)
        except ApplicationError as exc:
            if exc.field == "package_id":
                raise Http404(exc.message) from exc
            raise

    context = _panel(
        compute,
        request.GET,
        refresh_url=reverse("contracts:package-forecast", args=[package_id]),
        in_builder=False,
        start=start,
        standalone=standalone,
    )
    if standalone:
        context["package"] = package_for_page(package_id=package_id)
    return render_page(request, TEMPLATE, context, default="forecast")
