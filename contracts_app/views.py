"""The customer pages (the list, a new customer, a customer with the forms posted from it) and
the dashboard. Writes go through the services the API uses; a form's errors come back from them
by field path. Provisioning and schedule changes are previewed by running the same service in a
transaction that is rolled back (services/previews.py::dry_run), then confirmed with a
uniqueness key, so a double submit makes one contract."""

from __future__ import annotations

import contextlib

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone

from config.core.errors import ApplicationError
from config.core.ids import parse_uuid
from config.web import ObjectDetailView, ObjectFormView, ObjectListView, ServiceFormView, page_view
from contracts_app.api.customers import CustomerCreateInput, SetConfigurationsInput
from contracts_app.forms import (
    BillingConfigurationForm,
    CustomerChoices,
    CustomerForm,
    customer_forms,
)
from contracts_app.models import Customer
from contracts_app.presenters import customer_list_cell, customer_page, subscription_choices
from contracts_app.presenters_customers import contract_preview_context, customer_list_filters
from contracts_app.selectors.customers import (
    customer_configurations,
    customer_contract_by_key,
    customer_contracts,
    customers_with_current_package,
    subscription_contract_starting,
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


@login_required
def dashboard(request):
    return render(request, "core/home.html", dashboard_facts(now=timezone.now()))


class CustomerListView(ObjectListView):
    """Customers, newest first, each with its current package and the alias it came through;
    filtered by a search and by package (`?package=`). `?provision=<package>` is the step
    "choose the customer to provision on this package" of the package page."""

    model = Customer
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
    empty_text = "No customers yet."

    def get_queryset(self):
        package_id = parse_uuid(self.request.GET.get("package"))
        return customers_with_current_package(
            now=timezone.now(), query=self.search_query(), package_id=package_id
        )

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), **customer_list_filters(self.request.GET)}

    def cell(self, customer: Customer, attr: str):
        return customer_list_cell(customer, attr, now=timezone.now())

    def row_url(self, customer: Customer) -> str:
        url = reverse("contracts:customer-detail", args=[customer.pk])
        package_id = parse_uuid(self.request.GET.get("provision"))
        return f"{url}?package={package_id}#provision" if package_id else url


class CustomerNewView(ServiceFormView):
    model = Customer
    form_class = CustomerForm
    serializer = CustomerCreateInput

    def perform(self, data, form):
        return customer_create(
            name=data["name"],
            external_id=data.get("external_id"),
            ingest_aliases=data.get("ingest_aliases", ()),
        )


class CustomerDetailView(ObjectDetailView):
    """The customer: contracts, subscriptions' timeline, billing configurations, and the forms
    posted from it (`bound_forms`: one that came back invalid or previewed)."""

    queryset = Customer.objects.all()

    def get_context_data(self, customer) -> dict:
        contracts = customer_contracts(customer=customer)
        configurations = customer_configurations(customer=customer)
        context = customer_page(customer, contracts, configurations, now=timezone.now())
        choices = CustomerChoices(subscriptions=context["subscriptions"])
        package_id = self.request.GET.get("package", "")
        user = self.request.user
        return {
            **context,
            **customer_forms(choices, package_id=package_id, bound=self.bound_forms),
            "can_provision": user.has_perm("contracts_app.add_contract"),
            "can_configure": user.has_perm("contracts_app.add_billingproviderconfiguration"),
        }


class _ContractFormView(ObjectFormView):
    """A form of the customer page that makes a contract: "Preview" (nothing kept) shows it on
    the page, "Confirm" makes it and goes to it. Opened by GET: the customer page."""

    page = CustomerDetailView
    permission_required = "contracts_app.add_contract"
    confirm_action = "confirm"
    get_anchor = ""

    def get_success_url(self, contract) -> str:
        return reverse("contracts:contract-detail", args=[contract.pk])


class CustomerProvisionView(_ContractFormView):
    """The contract provisioning would create; the form's uniqueness key makes a double
    submit one contract."""

    form_name = "provision_form"
    fragment = "provision"

    def get_form(self, data=None):
        return CustomerChoices(subscriptions=[]).provision_form(data)

    def body(self, form) -> dict:
        return form.arguments(self.object, self.request.user.get_username())

    def preview(self, arguments, form) -> dict:
        return contract_preview_context(dry_run(contract_provision, **arguments))

    def perform(self, arguments, form):
        key = form.cleaned_data["uniqueness_key"] or None
        return contract_provision(**arguments, uniqueness_key=key)

    def existing(self, form):
        key = form.cleaned_data["uniqueness_key"]
        return customer_contract_by_key(customer=self.object, uniqueness_key=key)


class CustomerScheduleChangeView(_ContractFormView):
    """End a subscription's current contract at a date and start the next one there, through
    the pricing-plan schedule service (set_previous_end_at); a double submit makes one."""

    form_name = "change_form"
    fragment = "schedule-change"

    def get_form(self, data=None):
        contracts = customer_contracts(customer=self.object)
        return CustomerChoices(subscriptions=subscription_choices(contracts)).change_form(data)

    def body(self, form) -> dict:
        return form.arguments(self.request.user.get_username())

    def preview(self, arguments, form) -> dict:
        preview = dry_run(pricing_plan_schedule_create, **arguments)
        return contract_preview_context(preview, prefix="change_")

    def perform(self, arguments, form):
        already = subscription_contract_starting(
            subscription_id=arguments["subscription_id"], starting_at=arguments["start_at"]
        )
        return already or pricing_plan_schedule_create(**arguments)


class CustomerBillingAddView(ObjectFormView):
    page = CustomerDetailView
    permission_required = "contracts_app.add_billingproviderconfiguration"
    form_class = BillingConfigurationForm
    form_name = "billing_form"
    serializer = SetConfigurationsInput
    success_anchor = "#billing"

    def body(self, form) -> dict:
        return {"data": [form.item(self.object.pk)]}

    def perform(self, data, form):
        billing_provider_configurations_set(items=[dict(item) for item in data["data"]])
        return self.object


@page_view("contracts_app.change_billingproviderconfiguration")
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
