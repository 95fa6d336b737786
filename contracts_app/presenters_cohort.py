"""What the cohort pages show besides their rows: the filters in effect, the chart of cohort sizes
over time (one partial, `contracts_app/cohort_chart.html`, drawn on the package page and loaded
by htmx on the alias page) and the CSV's file name; a package's and an alias's cohort page
(`package_cohort`, `alias_cohort`: the filters, a keyset page of the rows, the counts). The
views (contracts_app/views_cohort.py) only declare."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils.text import slugify

from config.web import more_query, page_or_first, query_string
from contracts_app.forms import CohortChartForm, CohortFilterForm
from contracts_app.presenters import cohort_chart, cohort_chart_marks
from contracts_app.selectors.alias_cohorts import alias_cohort_page
from contracts_app.selectors.cohorts import (
    alias_package_history,
    cohort_counts,
    cohort_page,
    cohort_sizes_over_time,
    migrations_touching,
    packages_of,
)

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


def package_cohort(package, params, *, cursor, more: bool, now: dt.datetime, limit: int) -> dict:
    """`/packages/<id>/cohort/`: the filters, a keyset page of the contracts they select with
    the "Load more" query keeping them, and their count (not for "Load more" alone)."""
    context = cohort_filters(params, now)
    filters = context["filters"]
    page = page_or_first(
        lambda after: cohort_page(
            package=package, filters=filters, now=now, limit=limit, cursor=after
        ),
        cursor,
    )
    context.update(
        package=package, page=page, more_query=more_query(params, FILTER_KEYS, page.next_cursor)
    )
    if not more:
        counts = cohort_counts(package_ids=[package.id], filters=filters, now=now)
        context["count"] = counts[package.id]
    return context


def alias_cohort(alias_name, params, *, cursor, now: dt.datetime, limit: int) -> dict:
    """`/aliases/<id>/cohort/`: everyone on any package the alias has pointed at, grouped by
    package with each one's count, a keyset page at a time."""
    context = cohort_filters(params, now)
    filters = context["filters"]
    packages = packages_of(alias_package_history(alias_name=alias_name))
    counts = cohort_counts(package_ids=[p.id for p in packages], filters=filters, now=now)
    groups, next_cursor = alias_cohort_page(
        packages, counts, filters=filters, now=now, limit=limit, cursor=cursor
    )
    context.update(
        alias_name=alias_name,
        packages=[(p, counts[p.id]) for p in packages],
        count=sum(counts.values()),
        groups=groups,
        next_cursor=next_cursor,
        more_query=more_query(params, FILTER_KEYS, next_cursor),
        csv_query=query_string(params, FILTER_KEYS),
    )
    return context


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


def alias_chart_context(alias_name, params, *, now: dt.datetime) -> dict:
    """The alias page's chart (loaded by htmx): the packages the alias has pointed at, stacked
    by version, each move of the alias marked."""
    assignments = alias_package_history(alias_name=alias_name)
    return chart_context(
        params,
        packages=packages_of(assignments),
        assignments=assignments,
        title=f"Contracts on the packages of {alias_name.name} over time",
        page_url=reverse("packages:alias-detail", args=[alias_name.id]),
        chart_url=reverse("contracts:alias-cohort-chart", args=[alias_name.id]),
        now=now,
    )
