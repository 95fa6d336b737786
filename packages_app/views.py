"""The catalog's pages: package and rate-card lists, rate cards, alias schedules.

Pages that need contracts (the builder's preview, the package page's cohort) live in
contracts_app/views_packages.py: the catalog never imports contracts_app.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from config.core.errors import ApplicationError
from config.web import ObjectListView
from packages_app.api.billable_metrics import BillableMetricCreateInput
from packages_app.api.products import ProductCreateInput
from packages_app.api.products import _split as split_product_fields
from packages_app.api.rate_cards import RateAddInput, RateCardCreateInput, RateCardUpdateInput
from packages_app.forms import (
    AliasScheduleForm,
    BillableMetricForm,
    ProductForm,
    RateCardAliasForm,
    RateCardForm,
    RateForm,
    package_choices,
    product_choices,
    submit_through,
)
from packages_app.models import (
    AliasAssignment,
    AliasName,
    BillableMetric,
    Package,
    Product,
    RateCard,
)
from packages_app.presenters import alias_timeline, assignment_target
from packages_app.selectors.rate_schedule import rate_schedule, segments_in_force
from packages_app.services.alias_previews import alias_assign_preview, alias_assignment_exists
from packages_app.services.aliases import alias_assign
from packages_app.services.billable_metrics import billable_metric_create
from packages_app.services.products import product_create
from packages_app.services.rate_cards import rate_add, rate_card_create, rate_card_update

UPCOMING_DAYS = 90


class PackageListView(ObjectListView):
    permission_required = "packages_app.view_package"
    title = "Packages"
    queryset = Package.objects.select_related("rate_card").order_by("-created_at", "-id")
    columns = [
        ("Name", "name"),
        ("Rate card", "rate_card.name"),
        ("Rate card alias", "rate_card_alias"),
        ("Created", "created_at"),
        ("Archived", "archived_at"),
    ]
    create_url_name = "contracts:package-builder"
    create_label = "Build a package"
    create_permission = "packages_app.add_package"
    search_fields = ("name",)

    def row_url(self, package: Package) -> str:
        return reverse("contracts:package-detail", args=[package.pk])


class RateCardListView(ObjectListView):
    permission_required = "packages_app.view_ratecard"
    title = "Rate cards"
    queryset = RateCard.objects.select_related("fiat_credit_type").order_by("-created_at", "-id")
    columns = [
        ("Name", "name"),
        ("Fiat credit type", "fiat_credit_type.name"),
        ("Created", "created_at"),
        ("Archived", "archived_at"),
    ]
    search_fields = ("name",)
    create_url_name = "packages:ratecard-new"
    create_label = "New rate card"
    create_permission = "packages_app.add_ratecard"
    template_name = "packages_app/rate_card_list.html"

    def row_url(self, rate_card: RateCard) -> str:
        return reverse("packages:ratecard-detail", args=[rate_card.pk])


def _day(value: str | None, default: dt.datetime) -> dt.datetime:
    try:
        day = dt.date.fromisoformat(value or "")
    except ValueError:
        return default
    return dt.datetime(day.year, day.month, day.day, tzinfo=dt.UTC)


@login_required
@permission_required("packages_app.view_ratecard", raise_exception=True)
def rate_card_detail(request, rate_card_id, **bound_forms):
    """Rates in force at a chosen date (in the URL), every rate with its window, aliases."""
    rate_card = get_object_or_404(
        RateCard.objects.select_related("fiat_credit_type"), pk=rate_card_id
    )
    now = timezone.now()
    at = _day(request.GET.get("at"), now)
    schedule = sorted(
        rate_schedule(rate_card=rate_card),
        key=lambda segment: (segment.product.name, segment.starting_at, str(segment.pk)),
    )
    in_force = segments_in_force(schedule, at)
    page = Paginator(schedule, 100).get_page(request.GET.get("page"))
    assignments = (
        AliasAssignment.objects.filter(rate_card=rate_card)
        .select_related("alias_name", "rate_card", "package")
        .order_by("alias_name__name", "starting_at", "id")
    )
    context = {
        "rate_card": rate_card,
        "at": at,
        "in_force": in_force,
        "page": page,
        "assignments": assignments,
        **_rate_card_forms(request, rate_card, **bound_forms),
    }
    if request.htmx and request.htmx.target == "rates-at":
        return render(request, "packages_app/rate_card_detail.html#rates-at", context)
    return render(request, "packages_app/rate_card_detail.html", context)


def _aliases_queryset(kind: str, query: str):
    names = AliasName.objects.order_by("kind", "name", "id").prefetch_related(
        Prefetch(
            "assignments",
            queryset=AliasAssignment.objects.in_force()
            .select_related("package", "rate_card", "alias_name")
            .order_by("starting_at", "id"),
            to_attr="intervals",
        )
    )
    if kind in AliasName.Kind.values:
        names = names.filter(kind=kind)
    if query:
        names = names.filter(name__icontains=query)
    return names


def _alias_row(name: AliasName, now: dt.datetime) -> dict:
    """What an alias points at now and what changes in the next UPCOMING_DAYS days."""
    soon = now + dt.timedelta(days=UPCOMING_DAYS)
    current = next(
        (
            i
            for i in name.intervals
            if i.starting_at <= now and (i.ending_before is None or i.ending_before > now)
        ),
        None,
    )
    changes = []
    for interval in name.intervals:
        if now < interval.starting_at <= soon:
            changes.append((interval.starting_at, assignment_target(interval)[0]))
        if interval.ending_before and now < interval.ending_before <= soon:
            following = any(i.starting_at == interval.ending_before for i in name.intervals)
            if not following:
                changes.append((interval.ending_before, "nothing"))
    return {
        "name": name,
        "current": assignment_target(current) if current else None,
        "changes": sorted(changes),
    }


@login_required
@permission_required("packages_app.view_aliasassignment", raise_exception=True)
def alias_list(request):
    """Every alias name (packages and rate cards), with the schedule form."""
    now = timezone.now()
    kind, query = request.GET.get("kind", ""), request.GET.get("q", "").strip()
    page = Paginator(_aliases_queryset(kind, query), 50).get_page(request.GET.get("page"))
    rows = [_alias_row(name, now) for name in page.object_list]
    intervals = [interval for name in page.object_list for interval in name.intervals]
    context = {
        "page": page,
        "rows": rows,
        "kind": kind,
        "q": query,
        "upcoming_days": UPCOMING_DAYS,
        "timeline": alias_timeline(intervals, title="Aliases on this page", now=now)
        if intervals
        else None,
    }
    if request.htmx and request.htmx.target == "alias-table":
        return render(request, "packages_app/alias_list.html#alias-table", context)
    initial = {"package": request.GET.get("package", "")}
    context["form"] = AliasScheduleForm(initial=initial, package_choices=package_choices())
    return render(request, "packages_app/alias_list.html", context)


@login_required
@permission_required("packages_app.view_aliasassignment", raise_exception=True)
def alias_detail(request, alias_id):
    alias_name = get_object_or_404(AliasName, pk=alias_id)
    now = timezone.now()
    history = list(
        AliasAssignment.objects.filter(alias_name=alias_name)
        .select_related("alias_name", "package", "rate_card")
        .order_by("starting_at", "id")
    )
    in_force = [row for row in history if row.superseded_at is None]
    context = {
        "alias_name": alias_name,
        "history": history,
        "timeline": alias_timeline(
            in_force, title=f"{alias_name.name}: schedule", now=now, lane_label=lambda a: "in force"
        )
        if history
        else None,
        "history_timeline": alias_timeline(
            [row for row in history if row.superseded_at is not None],
            title=f"{alias_name.name}: superseded intervals",
            now=now,
            lane_label=lambda a: "superseded",
        )
        if len(in_force) < len(history)
        else None,
    }
    if alias_name.kind == AliasName.Kind.PACKAGE:
        context["form"] = AliasScheduleForm(
            initial={"name": alias_name.name}, package_choices=package_choices()
        )
    return render(request, "packages_app/alias_detail.html", context)


@login_required
@permission_required("packages_app.add_aliasassignment", raise_exception=True)
def alias_schedule(request):
    """Point a package alias at a package from a date (optionally until one): "Preview" shows
    which package each date resolves to afterwards; "Confirm" makes the assignment."""
    form = AliasScheduleForm(request.POST or None, package_choices=package_choices())
    context: dict = {"form": form}
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        package = Package.objects.filter(pk=data["package"]).first()
        start = data.get("starting_at") or timezone.now().replace(second=0, microsecond=0)
        arguments = {
            "kind": AliasName.Kind.PACKAGE,
            "name": data["name"],
            "package": package,
            "starting_at": start,
            "ending_before": data.get("ending_before"),
        }
        try:
            if package is None:
                raise ApplicationError("Choose a package", field="schedule.package")
            if package.archived_at is not None:
                raise ApplicationError(
                    "This package is archived: nobody could be provisioned through the alias",
                    field="schedule.package",
                )
            if request.POST.get("_action") == "confirm":
                if not alias_assignment_exists(rate_card=None, **arguments):
                    alias_assign(**arguments, field="schedule")
                alias_name = AliasName.objects.get(kind=AliasName.Kind.PACKAGE, name=data["name"])
                return HttpResponseRedirect(reverse("packages:alias-detail", args=[alias_name.pk]))
            result = alias_assign_preview(**arguments)
        except ApplicationError as exc:
            form.add_error(form.field_for(exc.field), exc.message)
        else:
            now = timezone.now()
            context["result"] = [
                r for r in result if r.ending_before is None or r.ending_before > now
            ]
            context["result_timeline"] = alias_timeline(
                result,
                title=f"{data['name']} after this change",
                now=now,
                new_interval_start=start,
            )
            context["starting_at"] = start
    return render(request, "packages_app/alias_schedule.html", context)


# --- catalog building: rate cards, rates, products, billable metrics ------------------------


@login_required
@permission_required("packages_app.add_ratecard", raise_exception=True)
def rate_card_new(request):
    form = RateCardForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        card = submit_through(
            form,
            RateCardCreateInput,
            form.body(),
            lambda data: rate_card_create(created_by=request.user.get_username(), **data),
        )
        if card is not None:
            return HttpResponseRedirect(reverse("packages:ratecard-detail", args=[card.pk]))
    return render(request, "packages_app/rate_card_new.html", {"form": form})


def _rate_card_forms(request, rate_card, **bound) -> dict:
    rate_form = bound.get("rate_form") or RateForm(
        initial={"starting_at": timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)}
    )
    rate_form.fields["product"].choices = product_choices()
    return {
        "rate_form": rate_form,
        "alias_form": bound.get("alias_form") or RateCardAliasForm(),
        "can_edit": request.user.has_perm("packages_app.add_rate"),
    }


@login_required
@permission_required("packages_app.add_rate", raise_exception=True)
def rate_card_rate_add(request, rate_card_id):
    rate_card = get_object_or_404(RateCard, pk=rate_card_id)
    form = RateForm(request.POST or None)
    form.fields["product"].choices = product_choices()
    if request.method == "POST" and form.is_valid():
        rate = submit_through(
            form,
            RateAddInput,
            form.body(rate_card.pk),
            lambda data: rate_add(rate_card_id=data.pop("rate_card_id"), rate=data),
        )
        if rate is not None:
            return HttpResponseRedirect(
                reverse("packages:ratecard-detail", args=[rate_card.pk])
                + f"?at={rate.starting_at:%Y-%m-%d}#rates-at"
            )
    return rate_card_detail(request, rate_card_id, rate_form=form)


@login_required
@permission_required("packages_app.change_ratecard", raise_exception=True)
def rate_card_alias_add(request, rate_card_id):
    rate_card = get_object_or_404(RateCard, pk=rate_card_id)
    form = RateCardAliasForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = submit_through(
            form,
            RateCardUpdateInput,
            form.body(rate_card.pk),
            lambda data: rate_card_update(**data),
        )
        if done is not None:
            return HttpResponseRedirect(reverse("packages:ratecard-detail", args=[rate_card.pk]))
    return rate_card_detail(request, rate_card_id, alias_form=form)


def _catalog_list(request, *, queryset, template, form, per_page=50):
    query = request.GET.get("q", "").strip()[:200]
    if query:
        queryset = queryset.filter(name__icontains=query)
    page = Paginator(queryset, per_page).get_page(request.GET.get("page"))
    context = {"page": page, "q": query, "form": form}
    if request.htmx and request.htmx.target == "catalog-table":
        return render(request, f"{template}#catalog-table", context)
    return render(request, template, context)


@login_required
@permission_required("packages_app.view_product", raise_exception=True)
def product_list(request):
    form = None
    if request.user.has_perm("packages_app.add_product"):
        form = ProductForm(request.POST or None)
        form.fields["billable_metric"].choices = [
            ("", "— none —"),
            *(
                (str(pk), name)
                for pk, name in BillableMetric.objects.filter(archived_at__isnull=True)
                .order_by("name")
                .values_list("id", "name")
            ),
        ]
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():

            def create(data):
                attributes, rest = split_product_fields(data)
                return product_create(
                    name=attributes.pop("name"),
                    type=rest["type"],
                    created_by=request.user.get_username(),
                    attributes=attributes,
                )

            if submit_through(form, ProductCreateInput, form.body(), create) is not None:
                return HttpResponseRedirect(reverse("packages:product-list"))
    queryset = Product.objects.select_related("billable_metric").order_by("name", "id")
    return _catalog_list(
        request, queryset=queryset, template="packages_app/product_list.html", form=form
    )


@login_required
@permission_required("packages_app.view_billablemetric", raise_exception=True)
def billable_metric_list(request):
    form = (
        BillableMetricForm(request.POST or None)
        if request.user.has_perm("packages_app.add_billablemetric")
        else None
    )
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            created = submit_through(
                form,
                BillableMetricCreateInput,
                form.body(),
                lambda data: billable_metric_create(**data),
            )
            if created is not None:
                return HttpResponseRedirect(reverse("packages:billable-metric-list"))
    return _catalog_list(
        request,
        queryset=BillableMetric.objects.order_by("name", "id"),
        template="packages_app/billable_metric_list.html",
        form=form,
    )
