"""The package pages that need contracts: the builder with its live preview (materialised by
the provisioning code), new versions, and the package page with its cohort summary.

The builder posts to one view. Named buttons add or remove a term row (the server owns the
rows, STYLE.md), "Save" creates the package through the API's own serializer and service.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone
from django_htmx.http import trigger_client_event
from rest_framework.exceptions import ValidationError

from config.api.errors import flatten_errors
from config.api.views_base import validated
from config.core.errors import ApplicationError, Conflict
from contracts_app.models import Contract
from contracts_app.presenters import package_diff_words, preview_timeline
from contracts_app.selectors.contracts import credit_type_names
from contracts_app.services.previews import package_preview, package_preview_saved
from contracts_app.views_cohort import chart_context
from packages_app.api.package_serializers import PackageCreateInput
from packages_app.forms import (
    BuilderForms,
    VersionForm,
    add_row_to,
    as_wire,
    builder_initial_from_package,
    not_carried_over,
    remove_row_from,
    today_utc,
)
from packages_app.models import AliasAssignment, Package
from packages_app.presenters import alias_timeline, terms_in_words
from packages_app.selectors.browse import package_for_page
from packages_app.selectors.package_diff import package_diff, package_diff_names
from packages_app.services.packages import package_archive, package_create
from packages_app.services.versions import aliases_taken_over, package_version_create


def _start_from(value: str | None) -> dt.datetime:
    """The example contract start of a preview (`YYYY-MM-DD`, UTC), today when absent or bad."""
    try:
        day = dt.date.fromisoformat(value or "")
    except ValueError:
        return today_utc()
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


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
        return validated(PackageCreateInput, as_wire(forms.body()))
    except ValidationError as exc:
        for path, messages in flatten_errors(exc.detail).items():
            forms.add_error(path, " ".join(messages))
    return None


def _preview_context(forms: BuilderForms, request, *, package_terms: bool = False) -> dict:
    start = _start_from(request.POST.get("preview_start") or request.GET.get("preview_start"))
    context = {"preview_start": start, "preview_errors": []}
    body = _validated_body(forms)
    if body is None:
        context["preview_errors"] = _error_list(forms)
        return context
    try:
        preview = package_preview(body=body, starting_at=start, package_terms=package_terms)
    except ApplicationError as exc:
        forms.add_error(exc.field, exc.message)
        context["preview_errors"] = _error_list(forms)
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


def _error_list(forms: BuilderForms) -> list[str]:
    """Every error as "Recurring credit 1 · Priority: …", for the summaries."""
    messages = [
        f"{forms.package.fields[field].label if field in forms.package.fields else 'Package'}: {e}"
        for field, errors in forms.package.errors.items()
        for e in errors
    ]
    for formset in forms.formsets:
        for index, form in enumerate(formset.forms):
            where = f"{form.title} {index + 1}"
            for field, errors in form.errors.items():
                label = form.fields[field].label if field in form.fields else ""
                messages += [f"{where} · {label + ': ' if label else ''}{e}" for e in errors]
    return messages


@login_required
@permission_required("packages_app.add_package", raise_exception=True)
def package_builder(request, package_id=None):
    """`/packages/new/` and `/packages/<id>/new-version/`."""
    source = package_for_page(package_id=package_id) if package_id else None
    takeover = (
        VersionForm(request.POST if request.method == "POST" else None, prefix="version")
        if source
        else None
    )
    if request.method != "POST":
        initial = builder_initial_from_package(source, source.terms.all()) if source else None
        lost = not_carried_over(source, source.terms.all()) if source else []
        forms = BuilderForms(initial=initial)
        if source:
            forms.package.initial["name"] = f"{source.name} (new version)"
        return _builder_page(request, forms, source=source, takeover=takeover, lost=lost)

    action = request.POST.get("_action", "save")
    data = request.POST
    if action.startswith("add:"):
        data = add_row_to(data, action.removeprefix("add:"))
    elif action.startswith("remove:"):
        data = remove_row_from(data, action.removeprefix("remove:"))
    if action != "save":
        forms = BuilderForms(data)
        response = render(
            request,
            "packages_app/builder.html#builder-fields"
            if request.htmx
            else "packages_app/builder.html",
            _builder_context(request, forms, source=source, takeover=takeover, fresh_rows=True),
        )
        return trigger_client_event(response, "builderChanged", after="settle")

    forms = BuilderForms(data)
    body = _validated_body(forms)
    takeover_valid = takeover is None or takeover.is_valid()
    if body is not None and takeover_valid:
        try:
            if source is not None:
                package = package_version_create(
                    source=source,
                    created_by=request.user.get_username(),
                    take_over_aliases_from=takeover.cleaned_data.get("take_over_aliases_from"),
                    **body,
                )
            else:
                package = package_create(created_by=request.user.get_username(), **body)
        except Conflict as exc:
            existing = Package.objects.filter(uniqueness_key=body.get("uniqueness_key")).first()
            if exc.field == "uniqueness_key" and existing is not None:
                # A double submit: the first one created it; show that one.
                return HttpResponseRedirect(reverse("contracts:package-detail", args=[existing.pk]))
            forms.add_error(exc.field, exc.message)
        except ApplicationError as exc:
            if exc.field == "take_over_aliases_from" and takeover is not None:
                takeover.add_error("take_over_aliases_from", exc.message)
            else:
                forms.add_error(exc.field, exc.message)
        else:
            return HttpResponseRedirect(reverse("contracts:package-detail", args=[package.pk]))
    return _builder_page(request, forms, source=source, takeover=takeover)


def _builder_context(request, forms, *, source, takeover, fresh_rows=False) -> dict:
    return {
        "forms": forms,
        "source": source,
        "takeover": takeover,
        "preview_start": _start_from(request.POST.get("preview_start")),
        "fresh_rows": fresh_rows,
    }


def _builder_page(request, forms, *, source, takeover, lost=()):
    context = _builder_context(request, forms, source=source, takeover=takeover)
    context["not_carried_over"] = list(lost)
    if request.method == "POST":
        context["errors"] = _error_list(forms)
    return render(request, "packages_app/builder.html", context)


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
    if source is not None and preview is not None:
        # The new version as package_create builds it, against the saved one: the migration
        # preview's diff, in the same words.
        diff = package_diff(source=source, target=preview.package, target_terms=preview.terms)
        context["diff"] = package_diff_words(
            diff, **package_diff_names(diff), credit_type_names=credit_type_names()
        )
    return render(request, "packages_app/builder_preview.html", context)


@login_required
@permission_required("packages_app.view_package", raise_exception=True)
def package_detail(request, package_id):
    package = package_for_page(package_id=package_id)
    now = timezone.now()
    names = {a.alias_name_id for a in package.alias_assignments.all()}
    # Every interval of this package's aliases (drawn as a timeline, and marked on the chart
    # where an alias moves onto or off this package).
    schedule = (
        list(
            AliasAssignment.objects.filter(alias_name_id__in=names)
            .select_related("alias_name", "package", "rate_card")
            .order_by("alias_name__name", "starting_at", "id")
        )
        if names
        else []
    )
    page_url = reverse("contracts:package-detail", args=[package.id])
    target = request.htmx.target if request.htmx else None
    chart = (
        {}  # the example-start preview alone does not need the chart
        if target == "package-preview"
        else chart_context(
            request,
            packages=[package],
            assignments=schedule,
            title=f"Contracts on {package.name} over time",
            page_url=page_url,
            chart_url=page_url,
            now=now,
        )
    )
    if target == "cohort-chart":
        return render(request, "contracts_app/cohort_chart.html", chart)
    credit_types = credit_type_names()
    cohort = (
        Contract.objects.not_archived()
        .filter(package=package)
        .aggregate(
            now=Count(
                "id",
                filter=Q(starting_at__lte=now)
                & (Q(ending_before__isnull=True) | Q(ending_before__gt=now)),
            ),
            upcoming=Count("id", filter=Q(starting_at__gt=now)),
            ended=Count("id", filter=Q(ending_before__lte=now)),
        )
    )
    start = _start_from(request.GET.get("start"))
    preview_error = ""
    try:
        preview = package_preview_saved(
            package=package, starting_at=start, terms=package.terms.all()
        )
        product_names = {str(t.product_id): t.product.name for t in preview.terms if t.product_id}
        timeline, periods = preview_timeline(
            preview, product_names=product_names, credit_type_names=credit_types
        )
    except ApplicationError as exc:
        timeline, periods, preview_error = None, [], exc.message
    context = {
        "package": package,
        "terms": terms_in_words(package.terms.all(), credit_type_names=credit_types),
        "alias_timeline": alias_timeline(
            schedule, title=f"Aliases of {package.name}", now=now, highlight_package_id=package.id
        )
        if names
        else None,
        "cohort": cohort,
        "start": start,
        "timeline": timeline,
        "periods": periods,
        "preview_error": preview_error,
        "now": now,
        **chart,
    }
    if target == "package-preview":
        return render(request, "packages_app/package_detail.html#package-preview", context)
    return render(request, "packages_app/package_detail.html", context)


@login_required
@permission_required("packages_app.change_package", raise_exception=True)
def package_archive_confirm(request, package_id):
    """Archiving is one-way: the page names what it changes before the POST does it."""
    package = get_object_or_404(Package, pk=package_id)
    now = timezone.now()
    running = Contract.objects.not_archived().filter(package=package).covering(now).count()
    aliases = aliases_taken_over(source=package, starting_at=now)
    if request.method == "POST":
        package_archive(package=package)
        return HttpResponseRedirect(reverse("contracts:package-detail", args=[package.pk]))
    return render(
        request,
        "packages_app/package_archive.html",
        {"package": package, "running": running, "aliases": aliases},
    )
