"""The package pages of the catalog that need no contract: the builder's form (save, add or
remove a term row; new versions) and the archive page. Their routes (and URL names) stay in
contracts_app/urls.py beside the pages that do need contracts (contracts_app/views_packages.py:
the builder's live preview, materialised by the provisioning code, and the package page with
its cohort). The archive page's running count comes from the registered cohort counter.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import render
from django.utils import timezone
from django_htmx.http import trigger_client_event

from config.core.errors import ApplicationError
from config.web import ObjectActionView, ServiceFormView, render_page
from config.web.forms import utc_day
from packages_app.api.package_serializers import PackageCreateInput
from packages_app.forms.builder import (
    BuilderForms,
    VersionForm,
    add_row_to,
    builder_initial_from_package,
    not_carried_over,
    remove_row_from,
)
from packages_app.models import Package
from packages_app.presenters import unpriced_words
from packages_app.selectors.browse import cohort_counts_now, package_for_page
from packages_app.selectors.catalog import package_unpriced_subscriptions
from packages_app.services.packages import package_archive, package_create
from packages_app.services.versions import aliases_taken_over, package_version_create


class PackageBuilderView(ServiceFormView):
    """`/packages/new/` and `/packages/<id>/new-version/`. Named buttons add or remove a term
    row (the builder's fields come back, nothing is saved); "Save" creates the package (or the
    new version, optionally taking over the source's aliases)."""

    permission_required = "packages_app.add_package"
    template_name = "packages_app/builder.html"
    serializer = PackageCreateInput
    success_url_name = "contracts:package-detail"
    conflict_model = Package  # a double submit: the package the first one created

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
        if self.takeover is not None and not self.takeover.is_valid():
            return None
        username = self.request.user.get_username()
        if self.source is None:
            return self._saved(package_create(created_by=username, **data))
        try:
            return self._saved(
                package_version_create(
                    source=self.source,
                    created_by=username,
                    take_over_aliases_from=self.takeover.cleaned_data.get("take_over_aliases_from"),
                    **data,
                )
            )
        except ApplicationError as exc:
            if exc.field != "take_over_aliases_from":
                raise
            self.takeover.add_error("take_over_aliases_from", exc.message)
        return None

    def _saved(self, package):
        """Saved; warn when a subscription has no price on the package's rate card."""
        unpriced = package_unpriced_subscriptions(
            package=package, terms=package.terms.all(), at=timezone.now()
        )
        if unpriced:
            messages.warning(self.request, unpriced_words(unpriced))
        return package

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


class PackageArchiveView(ObjectActionView):
    """Archiving is one-way: the page names what it changes before the POST does it."""

    permission_required = "packages_app.change_package"
    queryset = Package.objects.all()
    pk_url_kwarg = "package_id"
    context_object_name = "package"
    template_name = "packages_app/package_archive.html"
    success_url_name = "contracts:package-detail"

    def get_context_data(self, package) -> dict:
        now = timezone.now()
        return {
            "running": cohort_counts_now([package.pk], now).get(package.pk),
            "aliases": aliases_taken_over(source=package, starting_at=now),
        }

    def act(self, package) -> None:
        package_archive(package=package)
