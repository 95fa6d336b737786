"""Cohort pages: who is on a package (or on any package an alias has pointed at) on a date, its
CSV export, and the alias page's cohort-size chart. Declared on the page toolkit: filters are a
GET form bound to the query string (bookmarkable; a bad date is an error beside its input),
pages are keyset pages of the API's own cohort selectors whose "Load more" carries the filters;
what they show beside the rows: contracts_app/presenters_cohort.py."""

from __future__ import annotations

from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.decorators import method_decorator
from django_htmx.http import push_url

from config.db_router import reads_from_replica
from config.web import (
    KeysetListView,
    csv_download,
    htmx_partial,
    invalid_filters,
    page_view,
    query_string,
)
from contracts_app.forms import CohortFilterForm
from contracts_app.presenters_cohort import (
    CHART_KEYS,
    alias_chart_context,
    alias_cohort,
    cohort_csv_filename,
    package_cohort,
)
from contracts_app.selectors.cohorts import cohort_export_csv
from packages_app.models import AliasName, Package

COHORT_PAGE_SIZE = 50


@method_decorator(reads_from_replica, name="get")  # after the login and permission checks
class _CohortView(KeysetListView):
    """A cohort: the filter form, the count, and a keyset page of contracts whose "Load more"
    carries the filters and the cursor."""

    permission_required = "contracts_app.view_contract"
    page_fragment = "cohort"


class PackageCohortView(_CohortView):
    """`/packages/<id>/cohort/`: the contracts the filters select, their count, load more."""

    template_name = "contracts_app/cohort.html"

    def get_context_data(self, *, cursor, more) -> dict:
        package = get_object_or_404(Package, pk=self.kwargs["package_id"])
        return package_cohort(
            package,
            self.request.GET,
            cursor=cursor,
            more=more,
            now=timezone.now(),
            limit=COHORT_PAGE_SIZE,
        )


class AliasCohortView(_CohortView):
    """`/aliases/<id>/cohort/`: everyone on any package the alias has pointed at."""

    template_name = "contracts_app/alias_cohort.html"

    def get_context_data(self, *, cursor, more) -> dict:
        alias_name = get_object_or_404(
            AliasName, pk=self.kwargs["alias_id"], kind=AliasName.Kind.PACKAGE
        )
        params, now = self.request.GET, timezone.now()
        return alias_cohort(alias_name, params, cursor=cursor, now=now, limit=COHORT_PAGE_SIZE)


@page_view("contracts_app.view_contract")
def package_cohort_csv(request, package_id):
    """`/packages/<id>/cohort.csv`: the same filters, every row, streamed as PostgreSQL's COPY
    writes it (memory stays flat at a million rows). Invalid filters: 400 naming them."""
    package = get_object_or_404(Package, pk=package_id)
    now, form = timezone.now(), CohortFilterForm(request.GET)
    if not form.is_valid():
        return invalid_filters(form)
    filters = form.filters()
    lines = cohort_export_csv(package=package, filters=filters, now=now)
    return csv_download(cohort_csv_filename(package, filters, now), lines)


@page_view("packages_app.view_aliasassignment")
@reads_from_replica
def alias_cohort_chart(request, alias_id):
    """The alias page's chart, stacked by package version, loaded by htmx."""
    alias_name = get_object_or_404(AliasName, pk=alias_id, kind=AliasName.Kind.PACKAGE)
    context = alias_chart_context(alias_name, request.GET, now=timezone.now())
    response = render(request, "contracts_app/cohort_chart.html", context)
    if htmx_partial(request) and request.GET.get("push"):
        page_url, query = context["chart_page_url"], query_string(request.GET, CHART_KEYS)
        push_url(response, f"{page_url}?{query}#cohort-chart" if query else page_url)
    return response
