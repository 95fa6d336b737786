"""The catalog's package pages that need no contract: the builder's form (save, add or remove a
term row; new versions) and the archive page. Routed in contracts_app/urls.py beside the builder's
live preview and the package page (contracts_app/views_packages.py), which need contracts."""

from __future__ import annotations

from django.contrib import messages
from django.utils import timezone
from django_htmx.http import trigger_client_event

from config.core.errors import ApplicationError
from config.web import ObjectActionView, ServiceFormView, render_page
from config.web.forms import utc_day
from packages_app.api.package_serializers import PackageCreateInput
from packages_app.forms.builder import (
    BuilderForms,
    VersionForm,
    after_row_button,
    builder_initial_from_package,
    not_carried_over,
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
    new version, optionally taking over the source's aliases) and warns when a subscription has
    no price on its rate card. An error shows the whole page: its summary sits above the fields."""

    template_name = "packages_app/builder.html"
    serializer = PackageCreateInput
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
        forms = BuilderForms(after_row_button(request.POST, action))
        context = self.builder_context(forms, fresh_rows=True)
        response = render_page(request, self.template_name, context, default="builder-fields")
        return trigger_client_event(response, "builderChanged", after="settle")

    def perform(self, data, form):
        username = self.request.user.get_username()
        if self.source is None:
            package = package_create(created_by=username, **data)
        elif not self.takeover.is_valid():
            return None
        else:
            takeover_from = self.takeover.cleaned_data.get("take_over_aliases_from")
            try:
                package = package_version_create(
                    source=self.source,
                    created_by=username,
                    take_over_aliases_from=takeover_from,
                    **data,
                )
            except ApplicationError as exc:
                if exc.field != "take_over_aliases_from":
                    raise
                self.takeover.add_error("take_over_aliases_from", exc.message)
                return None
        terms, now = package.terms.all(), timezone.now()
        if unpriced := package_unpriced_subscriptions(package=package, terms=terms, at=now):
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


class PackageArchiveView(ObjectActionView):
    """Archiving is one-way: the page names what it changes before the POST does it."""

    queryset = Package.objects.all()
    template_name = "packages_app/package_archive.html"

    def get_context_data(self, package) -> dict:
        now = timezone.now()
        return {
            "running": cohort_counts_now([package.pk], now).get(package.pk),
            "aliases": aliases_taken_over(source=package, starting_at=now),
        }

    def act(self, package) -> None:
        package_archive(package=package)
