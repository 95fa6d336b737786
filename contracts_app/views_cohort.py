"""Cohort pages: who is on a package (or on any package an alias has pointed at) on a date, its
CSV export, and the cohort-size-over-time chart shown on the package and alias pages.

Filters are a GET form bound to the query string (bookmarkable; a bad date is an error beside
its input). Pages are keyset pages of the API's own cohort selectors; "Load more" carries the
filters and the cursor. The chart is one partial (`contracts_app/cohort_chart.html`) rendered
inline on the package page and loaded by htmx on the alias page (packages_app never imports
contracts_app).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.text import slugify
from django_htmx.http import push_url

from config.core.errors import ValidationFailed
from config.core.pagination import cursor_for, cursor_values
from config.db_router import reads_from_replica
from config.web import KeysetListView, htmx_partial, page_or_first
from contracts_app.forms import CohortChartForm, CohortFilterForm
from contracts_app.presenters import cohort_chart, cohort_chart_marks
from contracts_app.selectors.cohorts import (
    CohortFilter,
    alias_package_history,
    cohort_counts,
    cohort_export_csv,
    cohort_page,
    cohort_sizes_over_time,
    migrations_touching,
    packages_of,
)
from packages_app.models import AliasName, Package

COHORT_PAGE_SIZE = 50
FILTER_KEYS = ("at", "starting_at", "archived", "q")
CHART_KEYS = ("chart_from", "chart_to", "bucket")


def _query(request, keys, **extra) -> str:
    """The query string of `keys` present in the request (empty ones dropped), plus `extra`."""
    values = {key: request.GET[key] for key in keys if request.GET.get(key)}
    values.update({key: value for key, value in extra.items() if value})
    return urlencode(values)


def _filter_context(request, form: CohortFilterForm, now: dt.datetime) -> dict:
    filters = form.filters()
    return {
        "form": form,
        "filters": filters,
        "covering": filters.covering(now),
        "filter_query": _query(request, FILTER_KEYS) if form.is_valid() else "",
        "now": now,
    }


class _CohortView(KeysetListView):
    """A cohort: the filter form (a GET form bound to the query string), the count, and a
    keyset page of contracts whose "Load more" carries the filters and the cursor."""

    permission_required = "contracts_app.view_contract"
    page_fragment = "cohort"

    @method_decorator(reads_from_replica)  # after the login and permission checks
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def filter_context(self) -> dict:
        self.now = timezone.now()
        return _filter_context(self.request, CohortFilterForm(self.request.GET), self.now)


class PackageCohortView(_CohortView):
    """`/packages/<id>/cohort/`: the contracts the filters select, their count, load more."""

    template_name = "contracts_app/cohort.html"

    def get_context_data(self, *, cursor, more) -> dict:
        package = get_object_or_404(Package, pk=self.kwargs["package_id"])
        context = self.filter_context()
        filters, now = context["filters"], self.now
        page = page_or_first(
            lambda after: cohort_page(
                package=package, filters=filters, now=now, limit=COHORT_PAGE_SIZE, cursor=after
            ),
            cursor,
        )
        more_query = _query(self.request, FILTER_KEYS, after=page.next_cursor)
        context.update(
            package=package, page=page, more_query=more_query if page.next_cursor else ""
        )
        if not more:
            context["count"] = cohort_counts(package_ids=[package.id], filters=filters, now=now)[
                package.id
            ]
        return context


@login_required
@permission_required("contracts_app.view_contract", raise_exception=True)
def package_cohort_csv(request, package_id):
    """`/packages/<id>/cohort.csv`: the same filters, every row, streamed as PostgreSQL's COPY
    writes it (memory stays flat at a million rows). Invalid filters: 400 naming them."""
    package = get_object_or_404(Package, pk=package_id)
    now = timezone.now()
    form = CohortFilterForm(request.GET)
    if not form.is_valid():
        fields = "; ".join(f"{field}: {' '.join(e)}" for field, e in form.errors.items())
        return HttpResponseBadRequest(f"Invalid filters. {fields}", content_type="text/plain")
    response = StreamingHttpResponse(
        cohort_export_csv(package=package, filters=form.filters(), now=now),
        content_type="text/csv; charset=utf-8",
    )
    response["Content-Disposition"] = (
        f'attachment; filename="{cohort_csv_filename(package, form.filters(), now)}"'
    )
    return response


def cohort_csv_filename(package, filters, now) -> str:
    """`cohort-<package name>-<the date asked for>.csv`: the `?at=` (or `?starting_at=`) date
    of the download, today only when the page asked for "now"."""
    day = filters.at or filters.starting_at or now
    name = slugify(package.name) or str(package.id)
    return f"cohort-{name}-{day:%Y-%m-%d}.csv"


# --- the alias cohort ---------------------------------------------------------------------------
#
# One table, grouped by package in the order the alias first pointed at each, each group a
# keyset walk of that package's cohort. The cursor is (package position, the package page's
# cursor); a page that ends a package's group continues with the next non-empty one, so a page
# reads at most as many packages as it shows (the counts, one aggregate, say which are empty).


def _alias_cursor(raw: str | None) -> tuple[int, str | None]:
    if not raw:
        return 0, None
    try:
        position, inner = cursor_values(raw, 2, "after")
        return int(position), inner or None
    except (ValidationFailed, ValueError):
        return 0, None


def _alias_page(packages, counts, *, filters: CohortFilter, now, cursor: str | None):
    """[(package, contracts)], the next cursor."""
    position, inner = _alias_cursor(cursor)
    groups, room = [], COHORT_PAGE_SIZE
    for index in range(position, len(packages)):
        package = packages[index]
        if not counts.get(package.id):
            inner = None
            continue
        page = page_or_first(
            lambda c, package=package, room=room: cohort_page(
                package=package, filters=filters, now=now, limit=room, cursor=c
            ),
            inner,
        )
        groups.append((package, page.items))
        room -= len(page.items)
        inner = None
        if page.next_cursor:
            return groups, cursor_for([index, page.next_cursor])
        if room == 0:
            rest = [p for p in packages[index + 1 :] if counts.get(p.id)]
            return groups, cursor_for([index + 1, ""]) if rest else None
    return groups, None


class AliasCohortView(_CohortView):
    """`/aliases/<id>/cohort/`: everyone on any package the alias has pointed at."""

    template_name = "contracts_app/alias_cohort.html"

    def get_context_data(self, *, cursor, more) -> dict:
        alias_name = get_object_or_404(
            AliasName, pk=self.kwargs["alias_id"], kind=AliasName.Kind.PACKAGE
        )
        context = self.filter_context()
        filters, now = context["filters"], self.now
        packages = packages_of(alias_package_history(alias_name=alias_name))
        counts = cohort_counts(package_ids=[p.id for p in packages], filters=filters, now=now)
        groups, next_cursor = _alias_page(packages, counts, filters=filters, now=now, cursor=cursor)
        more_query = _query(self.request, FILTER_KEYS, after=next_cursor)
        context.update(
            alias_name=alias_name,
            packages=[(p, counts[p.id]) for p in packages],
            count=sum(counts.values()),
            groups=groups,
            next_cursor=next_cursor,
            more_query=more_query if next_cursor else "",
            csv_query=_query(self.request, FILTER_KEYS),
        )
        return context


# --- the chart ----------------------------------------------------------------------------------


def chart_context(
    request,
    *,
    packages: list[Package],
    assignments,
    title: str,
    page_url: str,
    chart_url: str,
    now: dt.datetime,
) -> dict:
    """What `contracts_app/cohort_chart.html` needs: the chart of these packages' cohorts over
    the range the request's `chart_from`/`chart_to`/`bucket` choose (one query for the sizes,
    one for the migrations), with `assignments` (in-force rows already read, with their alias
    name and package) marked where they start."""
    form = CohortChartForm(request.GET, now=now)
    start, end, bucket = form.range()
    ids = [p.id for p in packages]
    sizes = cohort_sizes_over_time(package_ids=ids, start=start, end=end, bucket=bucket)
    names = {p.id: p.name for p in packages}
    migrations = migrations_touching(package_ids=ids, start=start, end=end)
    marks = cohort_chart_marks(assignments, migrations)
    chart = cohort_chart(
        sizes,
        labels=names,
        hrefs={p.id: reverse("contracts:package-detail", args=[p.id]) for p in packages},
        marks=marks,
        title=title,
    )
    return {
        "chart_keep": [
            (key, value)
            for key, value in request.GET.items()
            if key not in (*CHART_KEYS, "push") and value
        ],
        "chart": chart,
        "chart_form": form,
        "chart_bucket": bucket,
        "chart_page_url": page_url,
        "chart_url": chart_url,
    }


@login_required
@permission_required("packages_app.view_aliasassignment", raise_exception=True)
@reads_from_replica
def alias_cohort_chart(request, alias_id):
    """The alias page's chart, stacked by package version, loaded by htmx."""
    alias_name = get_object_or_404(AliasName, pk=alias_id, kind=AliasName.Kind.PACKAGE)
    page_url = reverse("packages:alias-detail", args=[alias_name.id])
    assignments = alias_package_history(alias_name=alias_name)
    packages = packages_of(assignments)
    context = chart_context(
        request,
        packages=packages,
        assignments=assignments,
        title=f"Contracts on the packages of {alias_name.name} over time",
        page_url=page_url,
        chart_url=reverse("contracts:alias-cohort-chart", args=[alias_name.id]),
        now=timezone.now(),
    )
    response = render(request, "contracts_app/cohort_chart.html", context)
    if htmx_partial(request) and request.GET.get("push"):
        query = _query(request, CHART_KEYS)
        push_url(response, f"{page_url}?{query}#cohort-chart" if query else page_url)
    return response
