"""The package pages that need contracts: the builder's live preview (materialised by the
provisioning code, written nowhere) and the package page with its cohort. The builder's form
and the archive page are the catalog's: packages_app/views_packages.py (same URLs and names).
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from config.core.errors import ApplicationError
from config.web import ObjectDetailView
from config.web.forms import add_errors, checked_body, utc_day
from contracts_app.presenters import package_diff_words, preview_timeline
from contracts_app.selectors.cohorts import package_cohort_summary
from contracts_app.selectors.contracts import credit_type_names
from contracts_app.services.previews import package_preview, package_preview_saved
from contracts_app.views_cohort import chart_context
from contracts_app.views_forecast import builder_forecast
from packages_app.api.package_serializers import PackageCreateInput
from packages_app.forms.builder import (
    BuilderForms,
)
from packages_app.presenters import (
    alias_timeline,
    interval_state,
    terms_in_words,
    unpriced_words,
)
from packages_app.selectors.aliases import alias_schedules_of
from packages_app.selectors.browse import package_for_page
from packages_app.selectors.catalog import (
    body_subscriptions,
    package_unpriced_subscriptions,
    unpriced_subscriptions,
)
from packages_app.selectors.package_diff import package_diff, package_diff_names


def _product_names(forms: BuilderForms) -> dict[str, str]:
    """Names of the builder's product choices (already fetched for the selects)."""
    formset = forms.terms[0]
    field = (formset.forms[0] if formset.forms else formset.empty_form).fields["product"]
    return {value: label.rsplit(" (", 1)[0] for value, label in field.choices if value}


def _validated_body(forms: BuilderForms) -> dict | None:
    """The create body checked by the API's serializer; its errors go onto the inputs."""
    if not forms.is_valid():
        return None
    try:
        return checked_body(PackageCreateInput, forms.body())
    except ValidationError as exc:
        add_errors(forms, exc)
    return None


def _preview_context(forms: BuilderForms, request, *, package_terms: bool = False) -> dict:
    start = utc_day(request.POST.get("preview_start") or request.GET.get("preview_start"))
    context = {"preview_start": start, "preview_errors": []}
    body = _validated_body(forms)
    if body is None:
        context["preview_errors"] = forms.error_summary()
        return context
    try:
        preview = package_preview(body=body, starting_at=start, package_terms=package_terms)
    except ApplicationError as exc:
        forms.add_error(exc.field, exc.message)
        context["preview_errors"] = forms.error_summary()
        return context
    timeline, table = preview_timeline(
        preview,
        product_names=_product_names(forms),
        credit_type_names=credit_type_names(),
        width=640,
        label_width=170,
    )
    unpriced = unpriced_subscriptions(
        rate_card=preview.rate_card,
        subscriptions=body_subscriptions(body),
        product_names=_product_names(forms),
    )
    context.update(
        preview=preview, timeline=timeline, periods=table, unpriced=unpriced_words(unpriced)
    )
    return context


@login_required
@permission_required("packages_app.add_package", raise_exception=True)
def package_builder_preview(request, package_id=None):
    """The live preview beside the builder: the package the form describes, materialised for
    an example start by the provisioning code, written nowhere. Always 200 (htmx swaps it)."""
    source = package_for_page(package_id=package_id) if package_id else None
    forms = BuilderForms(request.POST)
    context = _preview_context(forms, request, package_terms=source is not None)
    context["source"] = source
    preview = context.get("preview")
    context.update(builder_forecast(preview, request.POST, refresh_url=request.path))
    if source is not None and preview is not None:
        # The new version as package_create builds it, against the saved one: the migration
        # preview's diff, in the same words.
        diff = package_diff(source=source, target=preview.package, target_terms=preview.terms)
        context["diff"] = package_diff_words(
            diff, **package_diff_names(diff), credit_type_names=credit_type_names()
        )
    return render(request, "packages_app/builder.html#preview", context)


class PackageDetailView(ObjectDetailView):
    """The package: its cohort (counts and chart), terms in words, aliases, and what a contract
    starting on a chosen date gets (the `package-preview` panel)."""

    permission_required = "packages_app.view_package"
    pk_url_kwarg = "package_id"
    context_object_name = "package"
    template_name = "packages_app/package_detail.html"
    panels = ("package-preview", "cohort-chart")
    panel_templates = {"cohort-chart": "contracts_app/cohort_chart.html"}

    def get_object(self):
        self.now = timezone.now()
        self.credit_types = credit_type_names()
        return package_for_page(package_id=self.kwargs["package_id"])

    def get_context_data(self, package) -> dict:
        now = self.now
        cohort = package_cohort_summary(package=package, now=now)
        schedule = self._schedule(package)
        return {
            "terms": terms_in_words(package.terms.all(), credit_type_names=self.credit_types),
            "alias_timeline": alias_timeline(
                schedule,
                title=f"Aliases of {package.name}",
                now=now,
                highlight_package_id=package.id,
            )
            if schedule
            else None,
            "alias_rows": [(a, *interval_state(a, now)) for a in package.alias_assignments.all()],
            "unpriced": unpriced_words(
                package_unpriced_subscriptions(package=package, terms=package.terms.all(), at=now)
            ),
            "cohort": cohort,
            "now": now,
        }

    def panel_cohort_chart(self, package) -> dict:
        page_url = reverse("contracts:package-detail", args=[package.id])
        return chart_context(
            self.request,
            packages=[package],
            assignments=self._schedule(package),
            title=f"Contracts on {package.name} over time",
            page_url=page_url,
            chart_url=page_url,
            now=self.now,
        )

    def panel_package_preview(self, package) -> dict:
        start = utc_day(self.request.GET.get("start"))
        try:
            preview = package_preview_saved(
                package=package, starting_at=start, terms=package.terms.all()
            )
        except ApplicationError as exc:
            return {"start": start, "timeline": None, "periods": [], "preview_error": exc.message}
        product_names = {str(t.product_id): t.product.name for t in preview.terms if t.product_id}
        timeline, periods = preview_timeline(
            preview, product_names=product_names, credit_type_names=self.credit_types
        )
        return {"start": start, "timeline": timeline, "periods": periods, "preview_error": ""}

    def _schedule(self, package) -> list:
        """Every interval of this package's aliases (drawn as a timeline, and marked on the
        chart where an alias moves onto or off this package); read once per request."""
        if not hasattr(self, "_alias_schedule"):
            names = {a.alias_name_id for a in package.alias_assignments.all()}
            self._alias_schedule = alias_schedules_of(alias_name_ids=names)
        return self._alias_schedule
