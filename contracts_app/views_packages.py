"""The package pages that need contracts: the builder with its live preview (materialised by
the provisioning code), new versions, and the package page with its cohort summary.

The builder posts to one view. Named buttons add or remove a term row (the server owns the
rows, STYLE.md), "Save" creates the package through the API's own serializer and service.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count, Q
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django_htmx.http import trigger_client_event
from rest_framework.exceptions import ValidationError

from config.core.errors import ApplicationError
from config.web import ObjectDetailView, ServiceFormView, redirect_after_write, render_page
from config.web.forms import add_errors, checked_body, utc_day
from contracts_app.models import Contract
from contracts_app.presenters import package_diff_words, preview_timeline
from contracts_app.selectors.contracts import credit_type_names
from contracts_app.services.previews import package_preview, package_preview_saved
from contracts_app.views_cohort import chart_context
from contracts_app.views_forecast import builder_forecast
from packages_app.api.package_serializers import PackageCreateInput
from packages_app.forms.builder import (
    BuilderForms,
    VersionForm,
    add_row_to,
    builder_initial_from_package,
    not_carried_over,
    remove_row_from,
)
from packages_app.models import AliasAssignment, Package
from packages_app.presenters import alias_timeline, terms_in_words
from packages_app.selectors.browse import package_for_page
from packages_app.selectors.package_diff import package_diff, package_diff_names
from packages_app.services.packages import package_archive, package_create
from packages_app.services.versions import aliases_taken_over, package_version_create


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
    context.update(preview=preview, timeline=timeline, periods=table)
    return context


class PackageBuilderView(ServiceFormView):
    """`/packages/new/` and `/packages/<id>/new-version/`. Named buttons add or remove a term
    row (the builder's fields come back, nothing is saved); "Save" creates the package (or the
    new version, optionally taking over the source's aliases)."""

    permission_required = "packages_app.add_package"
    template_name = "packages_app/builder.html"
    serializer = PackageCreateInput

    def load(self) -> None:
        package_id = self.kwargs.get("package_id")
        self.source = package_for_page(package_id=package_id) if package_id else None
        data = self.request.POST if self.request.method == "POST" else None
        self.takeover = VersionForm(data, prefix="version") if self.source else None

    def get_form(self, data=None):
        if data is not None:
            return BuilderForms(data)
        if self.source is None:
            return BuilderForms()
        forms = BuilderForms(
            initial=builder_initial_from_package(self.source, self.source.terms.all())
        )
        forms.package.initial["name"] = f"{self.source.name} (new version)"
        return forms

    def post(self, request, *args, **kwargs):
        action = request.POST.get("_action", "save")
        if action == "save":
            return super().post(request, *args, **kwargs)
        self.load()
        data = request.POST
        if action.startswith("add:"):
            data = add_row_to(data, action.removeprefix("add:"))
        elif action.startswith("remove:"):
            data = remove_row_from(data, action.removeprefix("remove:"))
        context = self.builder_context(BuilderForms(data), fresh_rows=True)
        response = render_page(request, self.template_name, context, default="builder-fields")
        return trigger_client_event(response, "builderChanged", after="settle")

    def perform(self, data, form):
        self.uniqueness_key = data.get("uniqueness_key")
        if self.takeover is not None and not self.takeover.is_valid():
            return None
        username = self.request.user.get_username()
        if self.source is None:
            return package_create(created_by=username, **data)
        try:
            return package_version_create(
                source=self.source,
                created_by=username,
                take_over_aliases_from=self.takeover.cleaned_data.get("take_over_aliases_from"),
                **data,
            )
        except ApplicationError as exc:
            if exc.field != "take_over_aliases_from":
                raise
            self.takeover.add_error("take_over_aliases_from", exc.message)
        return None

    def existing(self, form):
        # A double submit: the first one created it; show that one.
        return Package.objects.filter(uniqueness_key=self.uniqueness_key).first()

    def get_success_url(self, package) -> str:
        return reverse("contracts:package-detail", args=[package.pk])

    def builder_context(self, forms, *, fresh_rows=False) -> dict:
        return {
            "forms": forms,
            "source": self.source,
            "takeover": self.takeover,
            "preview_start": utc_day(self.request.POST.get("preview_start")),
            "fresh_rows": fresh_rows,
        }

    def get_context_data(self, forms) -> dict:
        context = self.builder_context(forms)
        if self.request.method == "POST":
            context["errors"] = forms.error_summary()
        elif self.source is not None:
            context["not_carried_over"] = not_carried_over(self.source, self.source.terms.all())
        return context

    def render_form(self, form, **extra):
        # The whole page: its error summary sits above the fields.
        return render(self.request, self.template_name, {**self.get_context_data(form), **extra})


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
        running = Q(starting_at__lte=now) & (
            Q(ending_before__isnull=True) | Q(ending_before__gt=now)
        )
        cohort = (
            Contract.objects.not_archived()
            .filter(package=package)
            .aggregate(
                now=Count("id", filter=running),
                upcoming=Count("id", filter=Q(starting_at__gt=now)),
                ended=Count("id", filter=Q(ending_before__lte=now)),
            )
        )
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
            self._alias_schedule = (
                list(
                    AliasAssignment.objects.filter(alias_name_id__in=names)
                    .select_related("alias_name", "package", "rate_card")
                    .order_by("alias_name__name", "starting_at", "id")
                )
                if names
                else []
            )
        return self._alias_schedule


class PackageArchiveView(ObjectDetailView):
    """Archiving is one-way: the page names what it changes before the POST does it."""

    permission_required = "packages_app.change_package"
    queryset = Package.objects.all()
    pk_url_kwarg = "package_id"
    context_object_name = "package"
    template_name = "packages_app/package_archive.html"

    def get_context_data(self, package) -> dict:
        now = timezone.now()
        return {
            "running": Contract.objects.not_archived()
            .filter(package=package)
            .covering(now)
            .count(),
            "aliases": aliases_taken_over(source=package, starting_at=now),
        }

    def post(self, request, *args, **kwargs):
        package = self.get_object()
        package_archive(package=package)
        return redirect_after_write(request, reverse("contracts:package-detail", args=[package.pk]))
