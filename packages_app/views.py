"""The catalog's pages: package and rate-card lists, rate cards, alias schedules, products and
billable metrics, declared on the page toolkit (config.web).

The builder's form and the archive page: packages_app/views_packages.py. Pages that need
contracts (the builder's live preview, the package page with its cohort) live in
contracts_app/views_packages.py: the catalog never imports contracts_app.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone

from config.core.errors import ApplicationError
from config.web import (
    ObjectDetailView,
    ObjectListView,
    ServiceFormView,
    fragment_for,
    redirect_after_write,
)
from config.web.forms import utc_day
from packages_app.api.billable_metrics import BillableMetricCreateInput
from packages_app.api.products import ProductCreateInput
from packages_app.api.products import _split as split_product_fields
from packages_app.api.rate_cards import RateAddInput, RateCardCreateInput, RateCardUpdateInput
from packages_app.forms.catalog import (
    AliasScheduleForm,
    BillableMetricForm,
    ProductEditForm,
    ProductForm,
    RateCardAliasForm,
    RateCardForm,
    RateChangeForm,
    RateForm,
    RenameForm,
    package_choices,
)
from packages_app.forms.terms import product_choices
from packages_app.models import (
    AliasName,
    BillableMetric,
    Package,
    Product,
    RateCard,
)
from packages_app.presenters import (
    alias_row,
    alias_timeline,
    interval_state,
    package_list_row,
    rate_price_words,
)
from packages_app.selectors.aliases import alias_schedules_of, rate_card_assignments
from packages_app.selectors.browse import (
    aliases_with_intervals,
    cohort_counts_now,
    package_list_aliases,
)
from packages_app.selectors.catalog import (
    billable_metric_usage,
    product_state_at,
    product_updates,
    product_usage,
)
from packages_app.selectors.rate_schedule import rate_card_schedule_at
from packages_app.services.alias_previews import alias_assign_preview, alias_assignment_exists
from packages_app.services.aliases import alias_assign
from packages_app.services.billable_metrics import (
    billable_metric_archive,
    billable_metric_create,
    billable_metric_rename,
)
from packages_app.services.products import product_archive, product_create, product_update
from packages_app.services.rate_cards import (
    rate_add,
    rate_card_create,
    rate_card_update,
    rate_end,
    rate_replace,
)

UPCOMING_DAYS = 90


class PackageListView(ObjectListView):
    """Packages, newest first: each with its rate card, the aliases pointing at it, its place in
    each alias's versions (v1 → v2 …) and the contracts running on it now; a fixed number of
    queries per page (page, count, alias intervals, cohort counts)."""

    permission_required = "packages_app.view_package"
    title = "Packages"
    queryset = Package.objects.select_related("rate_card").order_by("-created_at", "-id")
    template_name = "packages_app/package_list.html"
    partial_template_name = "packages_app/package_list.html#table"
    create_url_name = "contracts:package-builder"
    create_label = "Build a package"
    create_permission = "packages_app.add_package"
    search_fields = ("name",)
    empty_text = "No package yet."

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        now = timezone.now()
        packages = list(context["object_list"])
        aliases = package_list_aliases(packages, now)
        running = cohort_counts_now([p.pk for p in packages], now)
        context["rows"] = [
            package_list_row(p, aliases.get(p.pk, {}), running.get(p.pk), now) for p in packages
        ]
        return context


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


class _DetailFormView(ServiceFormView):
    """A form posted from an object's page (`page`, an ObjectDetailView); invalid, that page
    again with the bound form in its `bound_forms[form_name]`, beside the fields."""

    page: type[ObjectDetailView]
    form_name = "form"

    def load(self) -> None:
        self.detail = self.page(request=self.request, kwargs=self.kwargs)
        self.object = self.detail.get_object()
        self.template_name = self.page.template_name

    def bound(self, form):
        return form

    def get_context_data(self, form) -> dict:
        self.detail.bound_forms = {self.form_name: self.bound(form)}
        return self.detail.page_context(self.object)


class _ArchiveView(ObjectDetailView):
    """POST: archive the object through `archive(pk)` (one-way; its page warns first), then
    back to its page (`url_name`)."""

    url_name = ""

    def archive(self, pk):
        raise NotImplementedError

    def post(self, request, *args, **kwargs):
        obj = self.archive(self.get_object().pk)  # an unknown id: 404
        return redirect_after_write(request, reverse(self.url_name, args=[obj.pk]))


class RateCardDetailView(ObjectDetailView):
    """Rates in force at a chosen date (in the URL; its own panel), every rate with its window,
    aliases, and the add-rate and alias forms (`bound_forms` when one came back invalid)."""

    permission_required = "packages_app.view_ratecard"
    queryset = RateCard.objects.select_related("fiat_credit_type")
    pk_url_kwarg = "rate_card_id"
    context_object_name = "rate_card"
    template_name = "packages_app/rate_card_detail.html"
    panels = ("rates-at",)
    bound_forms: dict = {}

    def get_context_data(self, rate_card) -> dict:
        now = timezone.now()
        rate_form = self.bound_forms.get("rate_form") or RateForm(
            initial={"starting_at": now.replace(hour=0, minute=0, second=0, microsecond=0)}
        )
        rate_form.fields["product"].choices = product_choices()
        return {
            "assignments": [
                (a, *interval_state(a, now)) for a in rate_card_assignments(rate_card=rate_card)
            ],
            "rate_form": rate_form,
            "alias_form": self.bound_forms.get("alias_form") or RateCardAliasForm(),
            "can_edit": self.request.user.has_perm("packages_app.add_rate"),
        }

    def panel_rates_at(self, rate_card) -> dict:
        # A change form posts the page's date back, so an error shows on the page it came from.
        asked = self.request.GET.get("at") or self.request.POST.get("at")
        at = utc_day(asked, timezone.now())
        schedule = rate_card_schedule_at(rate_card=rate_card, at=at)
        bound_id, bound = self.bound_forms.get("change_form", (None, None))
        shown = any(str(segment.pk) == bound_id for segment in schedule.in_force)
        rows = [
            {
                "rate": segment,
                "price": rate_price_words(segment),
                "form": bound
                if str(segment.pk) == bound_id
                else RateChangeForm(rate_id=segment.pk, initial={"on": at}),
                "open": str(segment.pk) == bound_id,
            }
            for segment in schedule.in_force
        ]
        superseded = [
            {
                "rate": rate,
                "price": rate_price_words(rate),
                "by": by,
                "by_price": rate_price_words(by),
            }
            for rate, by in schedule.superseded
        ]
        page = Paginator(schedule.segments, 100).get_page(self.request.GET.get("page"))
        for segment in page.object_list:
            segment.price_words = rate_price_words(segment)
        return {
            "at": at,
            "in_force": rows,
            "superseded": superseded,
            "page": page,
            "change_errors": [] if bound is None or shown else bound.error_summary(),
        }


class _RateCardFormView(_DetailFormView):
    page = RateCardDetailView

    def load(self) -> None:
        super().load()
        self.rate_card = self.object

    def body(self, form) -> dict:
        return form.body(self.rate_card.pk)


class RateAddView(_RateCardFormView):
    permission_required = "packages_app.add_rate"
    form_class = RateForm
    form_name = "rate_form"
    serializer = RateAddInput

    def get_form(self, data=None):
        form = super().get_form(data)
        form.fields["product"].choices = product_choices()
        return form

    def perform(self, data, form):
        return rate_add(rate_card_id=data.pop("rate_card_id"), rate=data)

    def get_success_url(self, rate) -> str:
        url = reverse("packages:ratecard-detail", args=[self.rate_card.pk])
        return f"{url}?at={rate.starting_at:%Y-%m-%d}#rates-at"


class RateChangeView(_RateCardFormView):
    """End a rate in force at a date, or replace it from that date (`rate_end`,
    `rate_replace`); the page comes back at that date."""

    permission_required = "packages_app.add_rate"
    form_class = RateChangeForm
    form_name = "change_form"

    def get_form(self, data=None):
        return RateChangeForm(data, rate_id=self.kwargs["rate_id"])

    def body(self, form) -> dict:
        return form.body()

    def perform(self, data, form):
        common = {"rate_card_id": self.rate_card.pk, "rate_id": self.kwargs["rate_id"]}
        if data["action"] == "end":
            rate_end(**common, ending_before=data["on"])
        else:
            rate_replace(
                **common, starting_at=data["on"], price=data.get("price"), tiers=data.get("tiers")
            )
        self.on = data["on"]
        return self.rate_card

    def bound(self, form):
        return str(self.kwargs["rate_id"]), form

    def get_success_url(self, rate_card) -> str:
        url = reverse("packages:ratecard-detail", args=[rate_card.pk])
        return f"{url}?at={self.on:%Y-%m-%d}#rates-at"


class RateCardAliasAddView(_RateCardFormView):
    permission_required = "packages_app.change_ratecard"
    form_class = RateCardAliasForm
    form_name = "alias_form"
    serializer = RateCardUpdateInput

    def perform(self, data, form):
        rate_card_update(**data)
        return self.rate_card

    def get_success_url(self, rate_card) -> str:
        return reverse("packages:ratecard-detail", args=[rate_card.pk])


class RateCardNewView(ServiceFormView):
    permission_required = "packages_app.add_ratecard"
    form_class = RateCardForm
    serializer = RateCardCreateInput
    template_name = "packages_app/rate_card_new.html"

    def perform(self, data, form):
        return rate_card_create(created_by=self.request.user.get_username(), **data)

    def get_success_url(self, card) -> str:
        return reverse("packages:ratecard-detail", args=[card.pk])


@login_required
@permission_required("packages_app.view_aliasassignment", raise_exception=True)
def alias_list(request):
    """Every alias name (packages and rate cards), with the schedule form."""
    now = timezone.now()
    kind, query = request.GET.get("kind", ""), request.GET.get("q", "").strip()
    page = Paginator(aliases_with_intervals(kind=kind, query=query), 50).get_page(
        request.GET.get("page")
    )
    rows = [alias_row(name, now, upcoming_days=UPCOMING_DAYS) for name in page.object_list]
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
    if fragment_for(request, ["alias-table"]):
        return render(request, "packages_app/alias_list.html#alias-table", context)
    initial = {"package": request.GET.get("package", "")}
    context["form"] = AliasScheduleForm(initial=initial, package_choices=package_choices())
    return render(request, "packages_app/alias_list.html", context)


class AliasDetailView(ObjectDetailView):
    """An alias's schedule (in force and superseded, as timelines) and, for a package alias,
    the form to schedule its next change."""

    permission_required = "packages_app.view_aliasassignment"
    queryset = AliasName.objects.all()
    pk_url_kwarg = "alias_id"
    context_object_name = "alias_name"
    template_name = "packages_app/alias_detail.html"

    def get_context_data(self, alias_name) -> dict:
        now = timezone.now()
        history = alias_schedules_of(alias_name_ids=[alias_name.pk])
        in_force = [row for row in history if row.superseded_at is None]
        superseded = [row for row in history if row.superseded_at is not None]
        context = {
            "history": [(row, *interval_state(row, now)) for row in history],
            "timeline": alias_timeline(
                in_force,
                title=f"{alias_name.name}: schedule",
                now=now,
                lane_label=lambda a: interval_state(a, now)[1],
            )
            if history
            else None,
            "history_timeline": alias_timeline(
                superseded,
                title=f"{alias_name.name}: superseded intervals",
                now=now,
                lane_label=lambda a: "superseded",
            )
            if superseded
            else None,
        }
        if alias_name.kind == AliasName.Kind.PACKAGE:
            context["form"] = AliasScheduleForm(
                initial={"name": alias_name.name}, package_choices=package_choices()
            )
        return context


class AliasScheduleView(ServiceFormView):
    """Point a package alias at a package from a date (optionally until one): "Preview" shows
    which package each date resolves to afterwards; "Confirm" makes the assignment."""

    permission_required = "packages_app.add_aliasassignment"
    form_class = AliasScheduleForm
    template_name = "packages_app/alias_schedule.html"
    confirm_action = "confirm"

    def get_form_kwargs(self) -> dict:
        return {"package_choices": package_choices()}

    def body(self, form) -> dict:
        data = form.cleaned_data
        package = Package.objects.filter(pk=data["package"]).first()
        if package is None:
            raise ApplicationError("Choose a package", field="schedule.package")
        if package.archived_at is not None:
            raise ApplicationError(
                "This package is archived: nobody could be provisioned through the alias",
                field="schedule.package",
            )
        return {
            "kind": AliasName.Kind.PACKAGE,
            "name": data["name"],
            "package": package,
            "starting_at": data.get("starting_at")
            or timezone.now().replace(second=0, microsecond=0),
            "ending_before": data.get("ending_before"),
        }

    def preview(self, arguments, form) -> dict:
        result, now = alias_assign_preview(**arguments), timezone.now()
        return {
            "result": [r for r in result if r.ending_before is None or r.ending_before > now],
            "result_timeline": alias_timeline(
                result,
                title=f"{arguments['name']} after this change",
                now=now,
                new_interval_start=arguments["starting_at"],
            ),
            "starting_at": arguments["starting_at"],
        }

    def perform(self, arguments, form):
        if not alias_assignment_exists(rate_card=None, **arguments):
            alias_assign(**arguments, field="schedule")
        return AliasName.objects.get(kind=AliasName.Kind.PACKAGE, name=arguments["name"])

    def get_success_url(self, alias_name) -> str:
        return reverse("packages:alias-detail", args=[alias_name.pk])


# --- the catalog lists with their create forms: products, billable metrics -------------------


class _CatalogListView(ServiceFormView):
    """A searchable, paginated catalog list with its create form above (for those allowed to
    add; a POST from anyone else is refused)."""

    add_permission = ""
    queryset = None
    fragments = ("catalog-table",)

    def get_form(self, data=None):
        if not self.request.user.has_perm(self.add_permission):
            return None
        return super().get_form(data)

    def post(self, request, *args, **kwargs):
        if not request.user.has_perm(self.add_permission):
            raise PermissionDenied
        return super().post(request, *args, **kwargs)

    def get_context_data(self, form) -> dict:
        query = self.request.GET.get("q", "").strip()[:200]
        queryset = self.queryset.filter(name__icontains=query) if query else self.queryset
        page = Paginator(queryset, 50).get_page(self.request.GET.get("page"))
        return {"page": page, "q": query, "form": form}

    def get_success_url(self, obj) -> str:
        return self.request.path


class ProductListView(_CatalogListView):
    permission_required = "packages_app.view_product"
    add_permission = "packages_app.add_product"
    form_class = ProductForm
    serializer = ProductCreateInput
    queryset = Product.objects.select_related("billable_metric").order_by("name", "id")
    template_name = "packages_app/product_list.html"

    def get_form(self, data=None):
        form = super().get_form(data)
        if form is not None:
            metrics = BillableMetric.objects.filter(archived_at__isnull=True).order_by("name")
            form.fields["billable_metric"].choices = [
                ("", "— none —"),
                *((str(pk), name) for pk, name in metrics.values_list("id", "name")),
            ]
        return form

    def perform(self, data, form):
        attributes, rest = split_product_fields(data)
        return product_create(
            name=attributes.pop("name"),
            type=rest["type"],
            created_by=self.request.user.get_username(),
            attributes=attributes,
        )


class BillableMetricListView(_CatalogListView):
    permission_required = "packages_app.view_billablemetric"
    add_permission = "packages_app.add_billablemetric"
    form_class = BillableMetricForm
    serializer = BillableMetricCreateInput
    queryset = BillableMetric.objects.order_by("name", "id")
    template_name = "packages_app/billable_metric_list.html"

    def perform(self, data, form):
        return billable_metric_create(**data)


# --- a product's and a billable metric's own page: edit, archive -----------------------------


class ProductDetailView(ObjectDetailView):
    """A product: its state now, scheduled changes, what uses it, the edit form and the archive
    button (archiving warns with what still names it)."""

    permission_required = "packages_app.view_product"
    queryset = Product.objects.select_related("billable_metric")
    pk_url_kwarg = "product_id"
    context_object_name = "product"
    template_name = "packages_app/product_detail.html"
    bound_forms: dict = {}

    def get_context_data(self, product) -> dict:
        now = timezone.now()
        state = product_state_at(product, now)
        initial = {"name": state["name"], "tags": ", ".join(state.get("tags") or [])}
        return {
            "state": state,
            "updates": product_updates(product),
            "usage": product_usage(product=product),
            "form": self.bound_forms.get("form") or ProductEditForm(initial=initial),
            "now": now,
        }


class ProductEditView(_DetailFormView):
    permission_required = "packages_app.change_product"
    form_class = ProductEditForm
    page = ProductDetailView

    def perform(self, data, form):
        hour = timezone.now().replace(minute=0, second=0, microsecond=0)
        return product_update(
            product_id=self.object.pk,
            starting_at=data["starting_at"] or hour,
            created_by=self.request.user.get_username(),
            changes=data["changes"],
        )

    def get_success_url(self, product) -> str:
        return reverse("packages:product-detail", args=[product.pk])


class ProductArchiveView(_ArchiveView, ProductDetailView):
    permission_required = "packages_app.change_product"
    url_name = "packages:product-detail"

    def archive(self, pk):
        return product_archive(product_id=pk)


class BillableMetricDetailView(ObjectDetailView):
    """A billable metric: its definition (fixed), the products counting with it, rename and
    archive (archiving warns with the products that still use it)."""

    permission_required = "packages_app.view_billablemetric"
    queryset = BillableMetric.objects.all()
    pk_url_kwarg = "billable_metric_id"
    context_object_name = "metric"
    template_name = "packages_app/billable_metric_detail.html"
    bound_forms: dict = {}

    def get_context_data(self, metric) -> dict:
        return {
            "products": billable_metric_usage(billable_metric=metric),
            "form": self.bound_forms.get("form") or RenameForm(initial={"name": metric.name}),
        }


class BillableMetricRenameView(_DetailFormView):
    permission_required = "packages_app.change_billablemetric"
    form_class = RenameForm
    page = BillableMetricDetailView

    def perform(self, data, form):
        return billable_metric_rename(billable_metric_id=self.object.pk, name=data["name"])

    def get_success_url(self, metric) -> str:
        return reverse("packages:billable-metric-detail", args=[metric.pk])


class BillableMetricArchiveView(_ArchiveView, BillableMetricDetailView):
    permission_required = "packages_app.change_billablemetric"
    url_name = "packages:billable-metric-detail"

    def archive(self, pk):
        return billable_metric_archive(billable_metric_id=pk)
