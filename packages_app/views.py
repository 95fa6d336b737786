"""The catalog's pages (package and rate-card lists, rate cards, aliases, products, billable
metrics) declared on the page toolkit (config.web), composed by packages_app/presenters.py. The
builder and the archive page: views_packages.py; pages needing contracts: contracts_app."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.urls import reverse
from django.utils import timezone

from config.web import (
    ListCreateView,
    ObjectActionView,
    ObjectDetailView,
    ObjectFormView,
    ObjectListView,
    ServiceFormView,
    fragment_for,
    page_view,
    render_page,
)
from config.web.forms import today_utc, utc_day
from packages_app import presenters
from packages_app.api.billable_metrics import BillableMetricCreateInput
from packages_app.api.products import ProductCreateInput
from packages_app.api.rate_cards import RateAddInput, RateCardCreateInput, RateCardUpdateInput
from packages_app.forms import catalog as forms
from packages_app.models import AliasName, BillableMetric, Package, Product, RateCard
from packages_app.selectors import aliases as alias_reads
from packages_app.selectors import browse, catalog
from packages_app.selectors.rate_schedule import rate_card_schedule_at
from packages_app.services import alias_previews, aliases, billable_metrics, products, rate_cards

UPCOMING_DAYS = 90


class PackageListView(ObjectListView):
    """Packages, newest first: each with its rate card, the aliases pointing at it, its place in
    each alias's versions (v1 → v2 …) and the contracts running on it now; a fixed number of
    queries per page (page, count, alias intervals, cohort counts)."""

    queryset = Package.objects.select_related("rate_card").order_by("-created_at", "-id")
    partial_template_name = "packages_app/package_list.html#table"
    create_url_name = "contracts:package-builder"
    create_label = "Build a package"
    search_fields = ("name",)
    empty_text = "No package yet."

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        now, packages = timezone.now(), list(context["object_list"])
        versions = browse.package_list_aliases(packages, now)
        running = browse.cohort_counts_now([p.pk for p in packages], now)
        context["rows"] = [
            presenters.package_list_row(p, versions.get(p.pk, {}), running.get(p.pk), now)
            for p in packages
        ]
        return context


class RateCardListView(ObjectListView):
    queryset = RateCard.objects.select_related("fiat_credit_type").order_by("-created_at", "-id")
    columns = [
        ("Name", "name"),
        ("Prices in", "fiat_credit_type.name"),
        ("Created", "created_at"),
        ("Archived", "archived_at"),
    ]
    search_fields = ("name",)
    create_url_name = "packages:ratecard-new"

    def row_url(self, rate_card: RateCard) -> str:
        return reverse("packages:ratecard-detail", args=[rate_card.pk])


class RateCardDetailView(ObjectDetailView):
    """Rates in force at a chosen date (in the URL; its own panel), every rate with its window,
    aliases, and the add-rate and alias forms (`bound_forms` when one came back invalid)."""

    queryset = RateCard.objects.select_related("fiat_credit_type")
    panels = ("rates-at",)

    def get_context_data(self, rate_card) -> dict:
        now = timezone.now()
        assignments = alias_reads.rate_card_assignments(rate_card=rate_card)
        return {
            "assignments": [(a, *presenters.interval_state(a, now)) for a in assignments],
            "rate_form": self.bound_forms.get("rate_form")
            or forms.RateForm(initial={"starting_at": today_utc()}),
            "alias_form": self.bound_forms.get("alias_form") or forms.RateCardAliasForm(),
            "can_edit": self.request.user.has_perm("packages_app.add_rate"),
        }

    def panel_rates_at(self, rate_card) -> dict:
        # A change form posts the page's date back, so an error shows on the page it came from.
        at = utc_day(self.request.GET.get("at") or self.request.POST.get("at"), timezone.now())
        schedule = rate_card_schedule_at(rate_card=rate_card, at=at)
        page = Paginator(schedule.segments, 100).get_page(self.request.GET.get("page"))
        return presenters.rates_at_panel(
            schedule,
            at=at,
            page=page,
            new_form=lambda rate: forms.RateChangeForm(rate_id=rate.pk, initial={"on": at}),
            bound=self.bound_forms.get("change_form"),
        )


class _RateCardFormView(ObjectFormView):
    """A form of the rate card page: its body names the card."""

    page = RateCardDetailView
    success_url_name = "packages:ratecard-detail"

    def body(self, form) -> dict:
        return {"rate_card_id": str(self.object.pk), **form.body()}


class _RateChangeFormView(_RateCardFormView):
    """A write of rates (`perform` sets `self.on`): back to the rate card at that date."""

    permission_required = "packages_app.add_rate"

    def get_success_url(self, obj) -> str:
        return f"{super().get_success_url(obj)}?at={self.on:%Y-%m-%d}#rates-at"


class RateAddView(_RateChangeFormView):
    form_class = forms.RateForm
    form_name = "rate_form"
    serializer = RateAddInput

    def perform(self, data, form):
        rate = rate_cards.rate_add(rate_card_id=data.pop("rate_card_id"), rate=data)
        self.on = rate.starting_at
        return rate


class RateChangeView(_RateChangeFormView):
    """End a rate in force at a date, or replace it from that date (`rate_end`,
    `rate_replace`); the page comes back at that date."""

    form_class = forms.RateChangeForm
    form_name = "change_form"

    def get_form_kwargs(self) -> dict:
        return {"rate_id": self.kwargs["rate_id"]}

    def perform(self, data, form):
        common = {"rate_card_id": self.object.pk, "rate_id": self.kwargs["rate_id"]}
        self.on = data["on"]
        if data["action"] == "end":
            rate_cards.rate_end(**common, ending_before=data["on"])
        else:
            rate_cards.rate_replace(
                **common, starting_at=data["on"], price=data.get("price"), tiers=data.get("tiers")
            )
        return self.object

    def bound(self, form):
        return str(self.kwargs["rate_id"]), form


class RateCardAliasAddView(_RateCardFormView):
    form_class = forms.RateCardAliasForm
    form_name = "alias_form"
    serializer = RateCardUpdateInput

    def perform(self, data, form):
        rate_cards.rate_card_update(**data)
        return self.object


class RateCardNewView(ServiceFormView):
    model = RateCard
    form_class = forms.RateCardForm
    serializer = RateCardCreateInput
    success_url_name = "packages:ratecard-detail"

    def perform(self, data, form):
        return rate_cards.rate_card_create(created_by=self.request.user.get_username(), **data)


@page_view("packages_app.view_aliasassignment")
def alias_list(request):
    """Every alias name (packages and rate cards), with the schedule form."""
    kind, query = request.GET.get("kind", ""), request.GET.get("q", "").strip()
    names = browse.aliases_with_intervals(kind=kind, query=query)
    page = Paginator(names, 50).get_page(request.GET.get("page"))
    context = {
        **presenters.alias_list_page(page, timezone.now(), upcoming_days=UPCOMING_DAYS),
        "kind": kind,
        "q": query,
    }
    if not fragment_for(request, ["alias-table"]):
        initial = {"package": request.GET.get("package", "")}
        context["form"] = forms.AliasScheduleForm(initial=initial)
    return render_page(request, "packages_app/alias_list.html", context, fragments=["alias-table"])


class AliasDetailView(ObjectDetailView):
    """An alias's schedule (in force and superseded, as timelines) and, for a package alias,
    the form to schedule its next change."""

    permission_required = "packages_app.view_aliasassignment"
    queryset = AliasName.objects.all()
    pk_url_kwarg = "alias_id"
    template_name = "packages_app/alias_detail.html"

    def get_context_data(self, alias_name) -> dict:
        history = alias_reads.alias_schedules_of(alias_name_ids=[alias_name.pk])
        context = presenters.alias_page(alias_name, history, timezone.now())
        if alias_name.kind == AliasName.Kind.PACKAGE:
            context["form"] = forms.AliasScheduleForm(initial={"name": alias_name.name})
        return context


class AliasScheduleView(ServiceFormView):
    """Point a package alias at a package from a date (optionally until one): "Preview" shows
    which package each date resolves to afterwards; "Confirm" makes the assignment."""

    permission_required = "packages_app.add_aliasassignment"
    form_class = forms.AliasScheduleForm
    template_name = "packages_app/alias_schedule.html"
    confirm_action = "confirm"
    success_url_name = "packages:alias-detail"

    def preview(self, arguments, form) -> dict:
        result = alias_previews.alias_assign_preview(**arguments)
        return presenters.alias_preview(
            result, name=arguments["name"], starting_at=arguments["starting_at"], now=timezone.now()
        )

    def perform(self, arguments, form):
        if not alias_previews.alias_assignment_exists(rate_card=None, **arguments):
            aliases.alias_assign(**arguments, field="schedule")
        return alias_reads.package_alias_name(name=arguments["name"])


# --- the catalog lists with their create forms: products, billable metrics -------------------


class ProductListView(ListCreateView):
    form_class = forms.ProductForm
    serializer = ProductCreateInput
    queryset = Product.objects.select_related("billable_metric").order_by("name", "id")

    def perform(self, data, form):
        created_by = self.request.user.get_username()
        return products.product_create_from_body(data, created_by=created_by)


class BillableMetricListView(ListCreateView):
    form_class = forms.BillableMetricForm
    serializer = BillableMetricCreateInput
    queryset = BillableMetric.objects.order_by("name", "id")

    def perform(self, data, form):
        return billable_metrics.billable_metric_create(**data)


# --- a product's and a billable metric's own page: edit, archive -----------------------------


class ProductDetailView(ObjectDetailView):
    """A product: its state now, scheduled changes, what uses it, the edit form and the archive
    button (archiving warns with what still names it)."""

    queryset = Product.objects.select_related("billable_metric")

    def get_context_data(self, product) -> dict:
        now = timezone.now()
        state = catalog.product_state_at(product, now)
        initial = {"name": state["name"], "tags": ", ".join(state.get("tags") or [])}
        return {
            "state": state,
            "updates": catalog.product_updates(product),
            "usage": catalog.product_usage(product=product),
            "form": self.bound_forms.get("form") or forms.ProductEditForm(initial=initial),
            "now": now,
        }


class ProductEditView(ObjectFormView):
    form_class = forms.ProductEditForm
    page = ProductDetailView

    def perform(self, data, form):
        created_by = self.request.user.get_username()
        return products.product_update(product_id=self.object.pk, created_by=created_by, **data)


class ProductArchiveView(ObjectActionView, ProductDetailView):
    def act(self, product) -> None:
        products.product_archive(product_id=product.pk)


class BillableMetricDetailView(ObjectDetailView):
    """A billable metric: its definition (fixed), the products counting with it, rename and
    archive (archiving warns with the products that still use it)."""

    queryset = BillableMetric.objects.all()
    context_object_name = "metric"

    def get_context_data(self, metric) -> dict:
        return {
            "products": catalog.billable_metric_usage(billable_metric=metric),
            "form": self.bound_forms.get("form") or forms.RenameForm(initial={"name": metric.name}),
        }


class BillableMetricRenameView(ObjectFormView):
    form_class = forms.RenameForm
    page = BillableMetricDetailView

    def perform(self, data, form):
        return billable_metrics.billable_metric_rename(
            billable_metric_id=self.object.pk, name=data["name"]
        )


class BillableMetricArchiveView(ObjectActionView, BillableMetricDetailView):
    def act(self, metric) -> None:
        billable_metrics.billable_metric_archive(billable_metric_id=metric.pk)
