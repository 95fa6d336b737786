"""The pricing team's customer, contract and cohort pages, and the dashboard.

Writes go through the services the API uses; a form's errors come back from them by field path.
Provisioning and schedule changes are previewed by running the same service in a transaction
that is rolled back (services/previews.py::dry_run), then confirmed with a uniqueness key, so
a double submit makes one contract.
"""

from __future__ import annotations

import contextlib

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from config.core.errors import ApplicationError
from config.core.ids import parse_uuid
from config.web import ObjectDetailView, ObjectListView, ServiceFormView
from contracts_app.api.customers import CustomerCreateInput, SetConfigurationsInput
from contracts_app.forms import (
    BillingConfigurationForm,
    CustomerChoices,
    CustomerForm,
    ProvisionForm,
    ScheduleChangeForm,
    customer_forms,
)
from contracts_app.models import Contract, Customer
from contracts_app.presenters import (
    customer_list_cell,
    customer_page,
    preview_payload,
    subscription_choices,
)
from contracts_app.selectors.contracts import credit_type_names, product_names
from contracts_app.selectors.customers import (
    customer_configurations,
    customer_contracts,
    customers_with_current_package,
    package_alias_names,
)
from contracts_app.selectors.dashboard import dashboard_facts
from contracts_app.services.customers import (
    billing_provider_configurations_archive,
    billing_provider_configurations_set,
    customer_create,
)
from contracts_app.services.previews import dry_run
from contracts_app.services.pricing_plan_schedules import pricing_plan_schedule_create
from contracts_app.services.provisioning import contract_provision
from packages_app.forms.catalog import package_choices
from packages_app.models import Package


@login_required
def dashboard(request):
    return render(request, "core/home.html", dashboard_facts(now=timezone.now()))


class CustomerListView(ObjectListView):
    """Customers, newest first, each with its current package and the alias it came through;
    filtered by a search and by package (`?package=`). `?provision=<package>` is the step
    "choose the customer to provision on this package" of the package page."""

    permission_required = "contracts_app.view_customer"
    title = "Customers"
    columns = [
        ("Name", "name"),
        ("External id", "external_id"),
        ("Current package", "current_package"),
        ("Through alias", "current_alias"),
        ("Created", "created_at"),
        ("Archived", "archived_at"),
    ]
    search_fields = ("name",)
    search_label = "Search by name, external id or ingest alias"
    create_url_name = "contracts:customer-new"
    create_label = "New customer"
    create_permission = "contracts_app.add_customer"
    empty_text = "No customers yet."
    template_name = "contracts_app/customer_list.html"

    def package_filter(self):
        return parse_uuid(self.request.GET.get("package"))

    def get_queryset(self):
        return customers_with_current_package(
            now=timezone.now(), query=self.search_query(), package_id=self.package_filter()
        )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        package_id = parse_uuid(self.request.GET.get("provision"))
        context["provision_package"] = (
            Package.objects.filter(pk=package_id).first() if package_id else None
        )
        context["package_filter"] = str(self.package_filter() or "")
        context["package_filter_choices"] = [("", "Any package"), *package_choices()[1:]]
        return context

    def cell(self, customer: Customer, attr: str):
        return customer_list_cell(customer, attr, now=timezone.now())

    def row_url(self, customer: Customer) -> str:
        url = reverse("contracts:customer-detail", args=[customer.pk])
        package_id = parse_uuid(self.request.GET.get("provision"))
        return f"{url}?package={package_id}#provision" if package_id else url


class CustomerNewView(ServiceFormView):
    permission_required = "contracts_app.add_customer"
    form_class = CustomerForm
    serializer = CustomerCreateInput
    template_name = "contracts_app/customer_new.html"

    def perform(self, data, form):
        return customer_create(
            name=data["name"],
            external_id=data.get("external_id"),
            ingest_aliases=data.get("ingest_aliases", ()),
        )

    def get_success_url(self, customer) -> str:
        return reverse("contracts:customer-detail", args=[customer.pk])


class CustomerPage:
    """What the customer page shows (its reads, its facts, its forms), for the page and for
    the forms posted from it; `bound` forms (invalid or previewed) replace the fresh ones."""

    request = None

    def customer_context(self, customer: Customer, **bound) -> dict:
        contracts = customer_contracts(customer=customer)
        context = customer_page(
            customer,
            contracts,
            customer_configurations(customer=customer),
            now=timezone.now(),
        )
        choices = CustomerChoices(
            packages=package_choices(),
            aliases=package_alias_names(),
            subscriptions=context["subscriptions"],
        )
        context.update(
            customer_forms(choices, package_id=self.request.GET.get("package", ""), bound=bound),
            can_provision=self.request.user.has_perm("contracts_app.add_contract"),
            can_configure=self.request.user.has_perm(
                "contracts_app.add_billingproviderconfiguration"
            ),
        )
        return context


class CustomerDetailView(CustomerPage, ObjectDetailView):
    permission_required = "contracts_app.view_customer"
    queryset = Customer.objects.all()
    pk_url_kwarg = "customer_id"
    context_object_name = "customer"
    template_name = "contracts_app/customer_detail.html"

    def get_context_data(self, customer) -> dict:
        return self.customer_context(customer)


def _preview(preview, **keys) -> dict:
    names = product_names(ids={row.product_id for row in preview.rows if row.product_id})
    return preview_payload(
        preview, product_names=names, credit_type_names=credit_type_names(), **keys
    )


class _CustomerFormView(CustomerPage, ServiceFormView):
    """A form posted from the customer page; invalid or previewed, the page (or, for htmx, the
    form's region) again with it; done, the contract page."""

    template_name = "contracts_app/customer_detail.html"
    form_name = ""

    def load(self) -> None:
        self.customer = get_object_or_404(Customer, pk=self.kwargs["customer_id"])

    def get(self, request, *args, **kwargs):
        self.load()
        return HttpResponseRedirect(reverse("contracts:customer-detail", args=[self.customer.pk]))

    def get_context_data(self, form) -> dict:
        return self.customer_context(self.customer, **{self.form_name: form})

    def get_success_url(self, contract) -> str:
        return reverse("contracts:contract-detail", args=[contract.pk])


class CustomerProvisionView(_CustomerFormView):
    """ "Preview": the contract provisioning would create (nothing kept); "Confirm": create it.
    The form's uniqueness key makes a double submit one contract."""

    permission_required = "contracts_app.add_contract"
    form_class = ProvisionForm
    form_name = "provision_form"
    fragment = "provision"
    confirm_action = "confirm"

    def get_form_kwargs(self) -> dict:
        aliases = [name for _, name in package_alias_names()]
        return {"package_choices": package_choices(), "alias_choices": aliases}

    def body(self, form) -> dict:
        data = form.cleaned_data
        return {
            "customer": self.customer,
            "starting_at": data["starting_at"],
            "package": Package.objects.filter(pk=data["package"]).first()
            if data["package"]
            else None,
            "package_alias": data["package_alias"] or None,
            "created_by": self.request.user.get_username(),
        }

    def preview(self, arguments, form) -> dict:
        return _preview(dry_run(contract_provision, **arguments))

    def perform(self, arguments, form):
        key = form.cleaned_data["uniqueness_key"] or None
        return contract_provision(**arguments, uniqueness_key=key)

    def existing(self, form):
        key = form.cleaned_data["uniqueness_key"]
        return Contract.objects.filter(customer=self.customer, uniqueness_key=key).first()


class CustomerScheduleChangeView(_CustomerFormView):
    """End a subscription's current contract at a date and start the next one there, through
    the pricing-plan schedule service (set_previous_end_at); previewed first."""

    permission_required = "contracts_app.add_contract"
    form_class = ScheduleChangeForm
    form_name = "change_form"
    fragment = "schedule-change"
    confirm_action = "confirm"

    def get_form_kwargs(self) -> dict:
        contracts = customer_contracts(customer=self.customer)
        return {
            "subscription_choices": subscription_choices(contracts),
            "package_choices": package_choices(),
            "alias_choices": package_alias_names(),
        }

    def body(self, form) -> dict:
        data = form.cleaned_data
        return {
            "subscription_id": data["subscription"],
            "start_at": data["starting_at"],
            "pricing_plan_version_id": data["package"] or None,
            "pricing_plan_id": data["package_alias"] or None,
            "set_previous_end_at": True,
            "created_by": self.request.user.get_username(),
        }

    def preview(self, arguments, form) -> dict:
        return _preview(dry_run(pricing_plan_schedule_create, **arguments), prefix="change_")

    def perform(self, arguments, form):
        already = Contract.objects.filter(
            subscription_id=arguments["subscription_id"],
            starting_at=arguments["start_at"],
            archived_at__isnull=True,
        ).first()
        return already or pricing_plan_schedule_create(**arguments)


class CustomerBillingAddView(_CustomerFormView):
    permission_required = "contracts_app.add_billingproviderconfiguration"
    form_class = BillingConfigurationForm
    form_name = "billing_form"
    serializer = SetConfigurationsInput

    get = ServiceFormView.get

    def body(self, form) -> dict:
        return {"data": [form.item(self.customer.pk)]}

    def perform(self, data, form):
        billing_provider_configurations_set(items=[dict(item) for item in data["data"]])
        return self.customer

    def get_success_url(self, customer) -> str:
        return reverse("contracts:customer-detail", args=[customer.pk]) + "#billing"


@login_required
@permission_required("contracts_app.change_billingproviderconfiguration", raise_exception=True)
def customer_billing_archive(request, customer_id, configuration_id):
    customer = get_object_or_404(Customer, pk=customer_id)
    if request.method == "POST":
        # Not this customer's (any more): the page shows the current state.
        with contextlib.suppress(ApplicationError):
            billing_provider_configurations_archive(
                customer=customer, configuration_ids=[configuration_id]
            )
    return HttpResponseRedirect(
        reverse("contracts:customer-detail", args=[customer.pk]) + "#billing"
    )
