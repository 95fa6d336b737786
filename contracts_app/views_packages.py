"""The package pages that need contracts: the builder's live preview (materialised by the
provisioning code, written nowhere), the package page with its cohort, and its forecast (issue
21). The builder's form and the archive page are the catalog's: packages_app/views_packages.py
(same URLs and names). What they show: contracts_app/presenters_packages.py and
presenters_forecast.py.
"""

from __future__ import annotations

from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from config.web import ObjectDetailView, htmx_partial, page_view, render_page
from config.web.forms import submit_through, utc_day
from contracts_app.presenters_cohort import chart_context
from contracts_app.presenters_forecast import builder_forecast, package_forecast_context
from contracts_app.presenters_packages import builder_preview, package_page, saved_package_preview
from contracts_app.selectors.cohorts import package_cohort_summary
from contracts_app.selectors.contracts import credit_type_names
from packages_app.api.package_serializers import PackageCreateInput
from packages_app.forms.builder import BuilderForms
from packages_app.models import Package
from packages_app.selectors.aliases import alias_schedules_of
from packages_app.selectors.browse import package_for_page


@page_view("packages_app.add_package")
def package_builder_preview(request, package_id=None):
    """The live preview beside the builder: the package the form describes, materialised for
    an example start by the provisioning code, written nowhere; for a new version, its diff
    against the saved one. Always 200 (htmx swaps it)."""
    source = package_for_page(package_id=package_id) if package_id else None
    forms = BuilderForms(request.POST)
    # The create body checked by the API's serializer (its errors go onto the inputs), or None.
    body = forms.is_valid() and submit_through(forms, PackageCreateInput, forms.body(), dict)
    start = utc_day(request.POST.get("preview_start") or request.GET.get("preview_start"))
    context = builder_preview(forms, body or None, start=start, source=source)
    context.update(builder_forecast(context.get("preview"), request.POST, refresh_url=request.path))
    return render(request, "packages_app/builder.html#preview", context)


class PackageDetailView(ObjectDetailView):
    """The package: its cohort (counts and chart), terms in words, aliases, and what a contract
    starting on a chosen date gets (the `package-preview` panel)."""

    model = Package
    panels = ("package-preview", "cohort-chart")
    panel_templates = {"cohort-chart": "contracts_app/cohort_chart.html"}

    def get_object(self):
        self.now, self.credit_types = timezone.now(), credit_type_names()
        return package_for_page(package_id=self.kwargs["package_id"])

    def get_context_data(self, package) -> dict:
        return {
            **package_page(
                package,
                schedule=self._schedule(package),
                now=self.now,
                credit_types=self.credit_types,
            ),
            "cohort": package_cohort_summary(package=package, now=self.now),
        }

    def panel_cohort_chart(self, package) -> dict:
        page_url = reverse("contracts:package-detail", args=[package.id])
        return chart_context(
            self.request.GET,
            packages=[package],
            assignments=self._schedule(package),
            title=f"Contracts on {package.name} over time",
            page_url=page_url,
            chart_url=page_url,
            now=self.now,
        )

    def panel_package_preview(self, package) -> dict:
        start = utc_day(self.request.GET.get("start"))
        return saved_package_preview(package, start=start, credit_types=self.credit_types)

    def _schedule(self, package) -> list:
        """Every interval of this package's aliases (drawn as a timeline, and marked on the
        chart where an alias moves onto or off this package); read once per request."""
        if not hasattr(self, "_alias_schedule"):
            names = {a.alias_name_id for a in package.alias_assignments.all()}
            self._alias_schedule = alias_schedules_of(alias_name_ids=names)
        return self._alias_schedule


@page_view("packages_app.view_package")
def package_forecast_panel(request, package_id):
    """The package page's forecast for a contract starting `start` (today by default): the
    fragment for htmx, else a page (the link of the package page without JavaScript)."""
    start, standalone = utc_day(request.GET.get("start")), not htmx_partial(request)
    context = package_forecast_context(package_id, request.GET, start=start, standalone=standalone)
    if standalone:
        context["package"] = package_for_page(package_id=package_id)
    return render_page(request, "packages_app/forecast_page.html", context, default="forecast")
