"""What the cohort pages show besides their rows: the filters in effect, the chart of cohort sizes
over time (one partial, `contracts_app/cohort_chart.html`, drawn on the package page and loaded
by htmx on the alias page) and the CSV's file name. The views (contracts_app/views_cohort.py)
only declare."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils.text import slugify

from config.web import query_string
from contracts_app.forms import CohortChartForm, CohortFilterForm
from contracts_app.presenters import cohort_chart, cohort_chart_marks
from contracts_app.selectors.cohorts import cohort_sizes_over_time, migrations_touching

FILTER_KEYS = ("at", "starting_at", "archived", "q")
CHART_KEYS = ("chart_from", "chart_to", "bucket")


def cohort_filters(params, now: dt.datetime) -> dict:
    """The filter form bound to the query string `params`, the filters it selects (the default
    ones beside its errors when invalid), what they cover, and the query to keep them."""
    form = CohortFilterForm(params)
    filters = form.filters()
    return {
        "form": form,
        "filters": filters,
        "covering": filters.covering(now),
        "filter_query": query_string(params, FILTER_KEYS) if form.is_valid() else "",
        "now": now,
    }


def cohort_csv_filename(package, filters, now) -> str:
    """`cohort-<package name>-<the date asked for>.csv`: the `?at=` (or `?starting_at=`) date
    of the download, today only when the page asked for "now"."""
    day = filters.at or filters.starting_at or now
    name = slugify(package.name) or str(package.id)
    return f"cohort-{name}-{day:%Y-%m-%d}.csv"


def chart_context(
    params,
    *,
    packages: list,
    assignments,
    title: str,
    page_url: str,
    chart_url: str,
    now: dt.datetime,
) -> dict:
    """What `contracts_app/cohort_chart.html` needs: the chart of these packages' cohorts over
    the range the query's `chart_from`/`chart_to`/`bucket` choose (one query for the sizes,
    one for the migrations), with `assignments` (in-force rows already read, with their alias
    name and package) marked where they start."""
    form = CohortChartForm(params, now=now)
    start, end, bucket = form.range()
    ids = [p.id for p in packages]
    sizes = cohort_sizes_over_time(package_ids=ids, start=start, end=end, bucket=bucket)
    migrations = migrations_touching(package_ids=ids, start=start, end=end)
    chart = cohort_chart(
        sizes,
        labels={p.id: p.name for p in packages},
        hrefs={p.id: reverse("contracts:package-detail", args=[p.id]) for p in packages},
        marks=cohort_chart_marks(assignments, migrations),
        title=title,
        now=now,
    )
    return {
        "chart_keep": [
            (key, value)
            for key, value in params.items()
            if key not in (*CHART_KEYS, "push") and value
        ],
        "chart": chart,
        "chart_form": form,
        "chart_bucket": bucket,
        "chart_page_url": page_url,
        "chart_url": chart_url,
    }
