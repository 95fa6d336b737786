"""Every write endpoint records exactly its audit entries, and the URL conf is walked so a new
endpoint that writes cannot land without being classified here (and so without an audit test)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from config.audit.models import AuditLogEntry
from contracts_app.models import Contract, Subscription
from packages_app.models import AliasName, BillableMetric, CreditType, Package
from packages_app.services.aliases import alias_assign
from tests.contracts_app import contract_builders as build
from tests.factories import api_post_text, user_with_token

pytestmark = pytest.mark.django_db

WRITE_METHODS = ("post", "put", "patch", "delete")

# API operations that take a body (POST) but only read: they must record nothing.
POST_READS = {
    "v1/packages/get",
    "v1/packages/list",
    "v1/packages/listContractsOnPackage",
    "v1/contracts/get",
    "v1/contracts/list",
    "v2/contracts/get",
    "v2/contracts/list",
    "v2/contracts/getEditHistory",
    "v1/contract-pricing/products/get",
    "v1/contract-pricing/products/list",
    "v1/contract-pricing/rate-cards/get",
    "v1/contract-pricing/rate-cards/list",
    "v1/contract-pricing/rate-cards/getRates",
    "v1/contract-pricing/rate-cards/getRateSchedule",
    "v1/getCustomerBillingProviderConfigurations",
    "v1/packages/migrations/preview",
    "v1/packages/migrations/get",
    "v1/packages/migrations/list",
    "v1/packages/migrations/listItems",
    "v1/noop",
    "v1/packages/preview",  # a dry run, rolled back: tests/contracts_app/test_views_packages.py
    "v1/packages/forecast",  # a pure computation: tests/contracts_app/test_api_package_forecast.py
    "v1/packages/aliases/list",
    "v1/webhooks/list",
    "v1/webhooks/deliveries/list",
}
# Browser pages and plumbing (not DRF views): classified by hand, since a function view's
# methods cannot be read from the URL conf. A new page that writes belongs in WRITES.
PAGES_WITHOUT_WRITES = {
    "healthz",
    "login",  # a session, not a change of pricing data
    "logout",
    "home",
    "openapi-schema",
    "api-docs",
    "packages:package-list",
    "packages:package-detail",
    "packages:ratecard-list",
    "contracts:customer-list",
    "contracts:package-cohort",
    "contracts:package-cohort-csv",
    "contracts:alias-cohort",
    "contracts:alias-cohort-chart",
    "contracts:migration-list",
    "contracts:migration-detail",
    "contracts:migration-live",
    "contracts:migration-items-csv",
    "audit:activity",
    "audit:history",
    "contracts:package-detail",
    "contracts:package-builder-preview",  # dry runs, rolled back with their entries
    "contracts:package-version-preview",
    "contracts:customer-detail",
    "contracts:contract-detail",
    "contracts:contract-edit-history",
    "packages:alias-list",
    "packages:alias-detail",
    "packages:ratecard-detail",
    "webhooks:webhook-list",
    "webhooks:webhook-detail",
    "packages:product-detail",
    "packages:billable-metric-detail",
    "contracts:package-forecast",  # a forecast writes nothing
}
# Pages that write do it through the services the API calls, which record the entries
# (actor from the session): one case per service above covers them. Each page is tested
# end to end in tests/*/test_views_*.py; tests/contracts_app/test_views_customers.py checks
# that a browser write is attributed to its user.
PAGES_WRITING_THROUGH_AUDITED_SERVICES = {
    "contracts:package-builder": "package_create",
    "contracts:package-new-version": "package_create + alias_assign",
    "contracts:package-archive": "package_archive",
    "contracts:customer-new": "customer_create",
    "contracts:customer-billing": "billing_provider_configurations_set",
    "contracts:customer-billing-archive": "billing_provider_configurations_archive",
    "contracts:customer-provision": "contract_provision",
    "contracts:customer-schedule-change": "pricing_plan_schedule_create",
    "contracts:contract-edit": "contract_edit",
    "packages:alias-schedule": "alias_assign",
    "contracts:migration-new": "cohort_migration_create",
    "contracts:migration-cancel": "cohort_migration_cancel",
    "contracts:migration-revert": "cohort_migration_revert",
    "contracts:migration-pause": "cohort_migration_pause",
    "contracts:migration-resume": "cohort_migration_resume",
    "contracts:migration-retry": "cohort_migration_retry_failed",
    "packages:ratecard-new": "rate_card_create",
    "packages:ratecard-rate-add": "rate_add",
    "packages:ratecard-alias-add": "rate_card_update",
    "packages:product-list": "product_create",
    "packages:billable-metric-list": "billable_metric_create",
    "webhooks:webhook-new": "endpoint_create",
    "webhooks:webhook-rotate": "endpoint_secret_rotate",
    "webhooks:webhook-archive": "endpoint_archive",
    "webhooks:webhook-resend": "delivery_resend",
    "packages:product-edit": "product_update",
    "packages:product-archive": "product_archive",
    "packages:billable-metric-rename": "billable_metric_rename",
    "packages:billable-metric-archive": "billable_metric_archive",
    "packages:ratecard-rate-change": "rate_end / rate_replace (recorded as end_rates)",
}


def _walk(resolver: URLResolver, prefix: str = "", namespace: str = ""):
    for pattern in resolver.url_patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            if pattern.app_name == "admin":
                continue  # admin writes: tests/config/test_audit_trail.py
            inner = f"{pattern.namespace}:" if pattern.namespace else ""
            yield from _walk(pattern, route, namespace + inner)
        elif isinstance(pattern, URLPattern):
            name = f"{namespace}{pattern.name}" if pattern.name else None
            yield route.lstrip("^").rstrip("$"), name, pattern.callback


def _api_writes() -> tuple[set[tuple[str, str]], set[str]]:
    """(method, route) of every DRF write operation, and the names of non-DRF views."""
    writes, others = set(), set()
    for route, name, callback in _walk(get_resolver()):
        view_class = getattr(callback, "cls", None)
        if view_class is None:
            others.add(name or route)
            continue
        for method in WRITE_METHODS:
            if hasattr(view_class, method) and route not in POST_READS:
                writes.add((method.upper(), route))
    return writes, others


@dataclass
class Call:
    method: str
    path: str
    body: dict | None
    resource_type: str
    resource_id: Callable[[dict], str]  # from the response body
    entries: int = 1


def _id(body: dict) -> str:
    return body["data"]["id"]


def _cases() -> dict[tuple[str, str], Callable[[], Call]]:
    """(method, route) → a callable that prepares data and says what to send and expect."""

    def credit_type_create():
        return Call("POST", "/v1/credit-types/create", {"name": "Tokens"}, "credit_type", _id)

    def credit_type_archive():
        unit = CreditType.objects.create(name="Old tokens")
        return Call("POST", "/v1/credit-types/archive", {"id": str(unit.id)}, "credit_type", _id)

    def metric_create():
        body = {
            "name": "Calls",
            "aggregation_type": "COUNT",
            "event_type_filter": {"in_values": ["call"]},
        }
        return Call("POST", "/v1/billable-metrics/create", body, "billable_metric", _id)

    def metric_archive():
        metric = BillableMetric.objects.create(name="Old", aggregation_type="COUNT")
        return Call(
            "POST", "/v1/billable-metrics/archive", {"id": str(metric.id)}, "billable_metric", _id
        )

    def metric_rename():
        metric = BillableMetric.objects.create(name="Before", aggregation_type="COUNT")
        return Call(
            "PUT",
            f"/v1/billable-metrics/{metric.id}",
            {"name": "After"},
            "billable_metric",
            lambda _body: str(metric.id),
        )

    pricing = "/v1/contract-pricing"

    def product_create():
        return Call(
            "POST", f"{pricing}/products/create", {"name": "Seat", "type": "FIXED"}, "product", _id
        )

    def product_update():
        product = build.make_product("Seat")
        body = {
            "product_id": str(product.id),
            "starting_at": "2024-01-01T00:00:00Z",
            "name": "Chair",
        }
        return Call("POST", f"{pricing}/products/update", body, "product", _id)

    def product_archive():
        product = build.make_product("Seat")
        return Call(
            "POST", f"{pricing}/products/archive", {"product_id": str(product.id)}, "product", _id
        )

    def rate_card_create():
        build.make_rate_card()  # USD cents present
        body = {"name": "List prices", "aliases": [{"name": "list"}]}
        # the card, and its alias assignment
        return Call("POST", f"{pricing}/rate-cards/create", body, "rate_card", _id, entries=2)

    def rate_card_update():
        card = build.make_rate_card()
        body = {"rate_card_id": str(card.id), "name": "Renamed"}
        return Call("POST", f"{pricing}/rate-cards/update", body, "rate_card", _id)

    def rate_card_archive():
        card = build.make_rate_card()
        return Call("POST", f"{pricing}/rate-cards/archive", {"id": str(card.id)}, "rate_card", _id)

    def rate(card, product) -> dict:
        return {
            "product_id": str(product.id),
            "starting_at": "2024-01-01T00:00:00Z",
            "entitled": True,
            "rate_type": "FLAT",
            "price": 100,
        }

    def rate_add():
        card, product = build.make_rate_card(), build.make_product("Seat")
        body = {"rate_card_id": str(card.id), **rate(card, product)}
        return Call(
            "POST", f"{pricing}/rate-cards/addRate", body, "rate_card", lambda _b: str(card.id)
        )

    def rates_add():
        card, product = build.make_rate_card(), build.make_product("Seat")
        body = {"rate_card_id": str(card.id), "rates": [rate(card, product)] * 3}
        return Call(
            "POST", f"{pricing}/rate-cards/addRates", body, "rate_card", lambda _b: str(card.id)
        )

    def package_create():
        card = build.make_rate_card()
        body = {"name": "Starter", "rate_card_id": str(card.id)}
        return Call("POST", "/v1/packages/create", body, "package", _id)

    def alias_schedule():
        package = build.make_package()
        body = {"package_id": str(package.id), "name": "Starter", "starting_at": "2030-01-01"}
        return Call(
            "POST",
            "/v1/packages/aliases/schedule",
            body,
            "alias",
            lambda _b: str(AliasName.objects.get(name="Starter").id),
        )

    def package_archive():
        package = build.make_package()
        body = {"package_id": str(package.id)}
        return Call("POST", "/v1/packages/archive", body, "package", _id)

    def customer_create():
        return Call("POST", "/v1/customers", {"name": "Acme"}, "customer", _id)

    def customer_archive():
        customer = build.make_customer()
        return Call("POST", "/v1/customers/archive", {"id": str(customer.id)}, "customer", _id)

    def configurations_set():
        customer = build.make_customer()
        item = {
            "customer_id": str(customer.id),
            "billing_provider": "stripe",
            "delivery_method": "direct_to_billing_provider",
            "configuration": {
                "stripe_customer_id": "cus_1",
                "stripe_collection_method": "charge_automatically",
            },
        }
        return Call(
            "POST",
            "/v1/setCustomerBillingProviderConfigurations",
            {"data": [item]},
            "customer",
            lambda _b: str(customer.id),
        )

    def configurations_archive():
        customer = build.make_customer()
        config = build.make_billing_configuration(customer)
        body = {
            "customer_id": str(customer.id),
            "customer_billing_provider_configuration_ids": [str(config.id)],
        }
        return Call(
            "POST",
            "/v1/archiveCustomerBillingProviderConfigurations",
            body,
            "customer",
            lambda _b: str(customer.id),
        )

    def contract_create():
        package, customer = build.make_package(), build.make_customer()
        body = {
            "customer_id": str(customer.id),
            "package_id": str(package.id),
            "starting_at": "2024-01-01T00:00:00Z",
        }
        return Call("POST", "/v1/contracts/create", body, "contract", _id)

    def _contract() -> Contract:
        from contracts_app.services.provisioning import contract_provision

        return contract_provision(
            customer=build.make_customer(),
            package=build.make_package(),
            starting_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        )

    def _contract_body(contract: Contract, **fields) -> dict:
        return {"customer_id": str(contract.customer_id), "contract_id": str(contract.id), **fields}

    def _contract_call(path: str, contract: Contract, **fields) -> Call:
        """A POST about `contract`, recorded on it."""
        body = _contract_body(contract, **fields)
        return Call("POST", path, body, "contract", lambda _b: str(contract.id))

    def contract_end():
        return _contract_call(
            "/v1/contracts/updateEndDate", _contract(), ending_before="2025-01-01T00:00:00Z"
        )

    def contract_archive():
        return _contract_call("/v1/contracts/archive", _contract(), void_invoices=False)

    def _package_contract() -> Contract:
        from contracts_app.services.provisioning import contract_provision

        product = build.make_product("Edited")
        package = build.make_package(
            terms=[
                (
                    "commit",
                    {
                        "product_id": str(product.id),
                        "type": "PREPAID",
                        "access_schedule": {
                            "schedule_items": [
                                {
                                    "amount": 100,
                                    "starting_at_offset": {"unit": "DAYS", "value": 0},
                                    "duration": {"unit": "MONTHS", "value": 1},
                                }
                            ]
                        },
                    },
                ),
                (
                    "credit",
                    {
                        "product_id": str(product.id),
                        "access_schedule": {
                            "schedule_items": [
                                {
                                    "amount": 50,
                                    "starting_at_offset": {"unit": "DAYS", "value": 0},
                                    "duration": {"unit": "MONTHS", "value": 1},
                                }
                            ]
                        },
                    },
                ),
            ]
        )
        return contract_provision(
            customer=build.make_customer(),
            package=package,
            starting_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        )

    def contract_edit():
        body = _contract_body(
            _contract(),
            update_contract_name="Edited",
            update_contract_end_date="2025-01-01T00:00:00Z",
        )
        return Call("POST", "/v2/contracts/edit", body, "contract", _id)

    def term_edit(kind: str):
        def case():
            contract = _package_contract()
            term = contract.terms.get(kind=kind)
            body = {"customer_id": str(contract.customer_id), f"{kind}_id": str(term.id)}
            return Call(
                "POST",
                f"/v2/contracts/{kind}s/edit",
                {**body, "name": "Edited"},
                "contract",
                lambda _b: str(contract.id),
            )

        return case

    def contract_amend():
        contract = _package_contract()
        product_id = str(contract.terms.first().product_id)
        charge = {
            "product_id": product_id,
            "schedule": {"schedule_items": [{"timestamp": "2024-02-01T00:00:00Z", "amount": 5}]},
        }
        return _contract_call(
            "/v1/contracts/amend",
            contract,
            starting_at="2024-02-01T00:00:00Z",
            scheduled_charges=[charge],
        )

    def customer_call(action: str, body: dict):
        def case():
            customer = build.make_customer("Before")
            return Call(
                "POST",
                f"/v1/customers/{customer.id}/{action}",
                body,
                "customer",
                lambda _b: str(customer.id),
            )

        return case

    def plan_package() -> Package:
        package = build.make_package(name="Plan v1")
        alias_assign(
            kind="package",
            name="Plan",
            package=package,
            starting_at=dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
        )
        return package

    def subscription_create():
        customer = build.make_customer()
        return Call(
            "POST",
            "/v<version>/pricing-plan-subscriptions".replace("<version>", "1"),
            {"customer_id": str(customer.id)},
            "subscription",
            lambda body: body["id"],
        )

    def schedule_body() -> dict:
        subscription = Subscription.objects.create(customer=build.make_customer())
        plan_package()
        return {
            "pricing_plan_subscription_id": str(subscription.id),
            "start_at": "2024-02-01T00:00:00Z",
            "end_at": "2025-02-01T00:00:00Z",
            "pricing_plan_version_selector": {"pricing_plan_reference": "Plan", "type": "LATEST"},
        }

    def schedule_create():
        return Call(
            "POST", "/v1/pricing-plan-schedules", schedule_body(), "contract", lambda b: b["id"]
        )

    def schedule_migrate():
        from contracts_app.services.pricing_plan_schedules import pricing_plan_schedule_create

        body = schedule_body()
        original = pricing_plan_schedule_create(
            subscription_id=body["pricing_plan_subscription_id"],
            start_at=dt.datetime(2024, 2, 1, tzinfo=dt.UTC),
            end_at=dt.datetime(2025, 2, 1, tzinfo=dt.UTC),
            end_at_sent=True,
            version_selector=body["pricing_plan_version_selector"],
        )
        return Call(
            "POST",
            f"/v1/pricing-plan-schedules/{original.id}/migrate",
            {
                "start_at": "2024-07-01T00:00:00Z",
                "pricing_plan_version_selector": body["pricing_plan_version_selector"],
            },
            "contract",
            lambda b: b["id"],
            entries=2,  # the original's new end, and the new schedule
        )

    def migration_body() -> dict:
        source, target = build.make_package(name="From"), build.make_package(name="To")
        return {
            "source": {"package_id": str(source.id)},
            "target": {"package_id": str(target.id)},
            "effective": {"type": "AT", "at": "2030-01-01T00:00:00Z"},
        }

    def migration(**kwargs):
        from contracts_app.services.cohort_migrations import (
            cohort_migration_create,
            migration_input,
        )

        body = migration_body()
        return cohort_migration_create(
            data=migration_input(
                source=body["source"],
                target=body["target"],
                effective={"type": "AT", "at": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)},
            ),
            **kwargs,
        )

    def migration_create():
        return Call(
            "POST", "/v1/packages/migrations/create", migration_body(), "cohort_migration", _id
        )

    def migration_cancel():
        job = migration(run_at=dt.datetime(2099, 1, 1, tzinfo=dt.UTC))
        return Call(
            "POST",
            "/v1/packages/migrations/cancel",
            {"migration_id": str(job.id)},
            "cohort_migration",
            _id,
        )

    def migration_revert():
        from contracts_app.services.cohort_migrations import (
            migration_finish_if_done,
            migration_start,
        )

        job = migration()  # an empty cohort: started, then completed at once
        migration_start(migration_id=job.id)
        migration_finish_if_done(migration_id=job.id)
        return Call(
            "POST",
            "/v1/packages/migrations/revert",
            {"migration_id": str(job.id)},
            "cohort_migration",
            _id,
        )

    def running_job():
        from contracts_app.services.cohort_migrations import migration_start

        job = migration()  # an empty cohort: started, RUNNING until its chains finish it
        migration_start(migration_id=job.id)
        return job

    def migration_call(action: str, job):
        return Call(
            "POST",
            f"/v1/packages/migrations/{action}",
            {"migration_id": str(job.id)},
            "cohort_migration",
            _id,
        )

    def migration_resume():
        from contracts_app.services.cohort_migrations import cohort_migration_pause

        job = running_job()
        cohort_migration_pause(migration=job)
        return migration_call("resume", job)

    def migration_retry_failed():
        from django.utils import timezone

        from contracts_app.services.cohort_migration_batches import migration_batch_run
        from contracts_app.services.cohort_migrations import (
            cohort_migration_create,
            migration_finish_if_done,
            migration_input,
            migration_start,
        )
        from tests.contracts_app.cohort_builders import cohort, two_packages

        source, target = two_packages()
        (contract,) = cohort(source, 1)
        job = cohort_migration_create(
            data=migration_input(
                source={"package_id": source.id},
                target={"package_id": target.id},
                effective={"type": "AT", "at": dt.datetime(2030, 3, 1, tzinfo=dt.UTC)},
            )
        )
        migration_start(migration_id=job.id)
        contract.customer.archived_at = timezone.now()  # its move fails
        contract.customer.save()
        migration_batch_run(migration_id=job.id)
        migration_finish_if_done(migration_id=job.id)
        contract.customer.archived_at = None  # the cause fixed
        contract.customer.save()
        return migration_call("retryFailed", job)

    def _webhook():
        from config.webhooks.services import endpoint_create

        return endpoint_create(url="https://93.184.216.34/hooks", event_types=["package.created"])

    def webhook_create():
        body = {"url": "https://93.184.216.34/hooks", "events": ["contract.created"]}
        return Call("POST", "/v1/webhooks/create", body, "webhook", _id)

    def webhook_call(action: str):
        def prepare():
            body = {"webhook_id": str(_webhook().id)}
            return Call("POST", f"/v1/webhooks/{action}", body, "webhook", _id)

        return prepare

    def webhook_resend():
        from config.webhooks.services import events_fan_out, events_record

        webhook = _webhook()
        event = events_record("package.created", {"id": "p"})
        events_fan_out()
        body = {"webhook_id": str(webhook.id), "event_id": str(event.id)}
        return Call(
            "POST",
            "/v1/webhooks/deliveries/resend",
            body,
            "webhook",
            lambda b: b["data"]["webhook_id"],
        )

    versioned = "v(?P<version>[^/]+)/"
    schedule_id = "(?P<schedule_id>[^/]+)"
    return {
        ("POST", "v1/credit-types/create"): credit_type_create,
        ("POST", "v1/credit-types/archive"): credit_type_archive,
        ("POST", "v1/billable-metrics/create"): metric_create,
        ("POST", "v1/billable-metrics/archive"): metric_archive,
        ("PUT", "v1/billable-metrics/<str:billable_metric_id>"): metric_rename,
        ("POST", f"{pricing[1:]}/products/create"): product_create,
        ("POST", f"{pricing[1:]}/products/update"): product_update,
        ("POST", f"{pricing[1:]}/products/archive"): product_archive,
        ("POST", f"{pricing[1:]}/rate-cards/create"): rate_card_create,
        ("POST", f"{pricing[1:]}/rate-cards/update"): rate_card_update,
        ("POST", f"{pricing[1:]}/rate-cards/archive"): rate_card_archive,
        ("POST", f"{pricing[1:]}/rate-cards/addRate"): rate_add,
        ("POST", f"{pricing[1:]}/rate-cards/addRates"): rates_add,
        ("POST", "v1/packages/create"): package_create,
        ("POST", "v1/packages/archive"): package_archive,
        ("POST", "v1/packages/aliases/schedule"): alias_schedule,
        ("POST", "v1/customers"): customer_create,
        ("POST", "v1/customers/archive"): customer_archive,
        ("POST", "v1/setCustomerBillingProviderConfigurations"): configurations_set,
        ("POST", "v1/archiveCustomerBillingProviderConfigurations"): configurations_archive,
        ("POST", "v1/contracts/create"): contract_create,
        ("POST", "v1/contracts/updateEndDate"): contract_end,
        ("POST", "v1/contracts/archive"): contract_archive,
        ("POST", "v1/packages/migrations/create"): migration_create,
        ("POST", "v1/packages/migrations/cancel"): migration_cancel,
        ("POST", "v1/packages/migrations/revert"): migration_revert,
        ("POST", "v1/packages/migrations/pause"): lambda: migration_call("pause", running_job()),
        ("POST", "v1/packages/migrations/resume"): migration_resume,
        ("POST", "v1/packages/migrations/retryFailed"): migration_retry_failed,
        ("POST", "v1/contracts/amend"): contract_amend,
        ("POST", "v2/contracts/edit"): contract_edit,
        ("POST", "v2/contracts/commits/edit"): term_edit("commit"),
        ("POST", "v2/contracts/credits/edit"): term_edit("credit"),
        ("POST", "v1/customers/<str:customer_id>/setName"): customer_call(
            "setName", {"name": "After"}
        ),
        ("POST", "v1/customers/<str:customer_id>/setIngestAliases"): customer_call(
            "setIngestAliases", {"ingest_aliases": ["after"]}
        ),
        ("POST", "v1/customers/<str:customer_id>/updateConfig"): customer_call(
            "updateConfig", {"salesforce_account_id": "sf-1"}
        ),
        ("POST", f"{versioned}pricing-plan-subscriptions"): subscription_create,
        ("POST", f"{versioned}pricing-plan-schedules"): schedule_create,
        ("POST", f"{versioned}pricing-plan-schedules/{schedule_id}/migrate"): schedule_migrate,
        ("POST", "v1/webhooks/create"): webhook_create,
        ("POST", "v1/webhooks/archive"): webhook_call("archive"),
        ("POST", "v1/webhooks/rotateSecret"): webhook_call("rotateSecret"),
        ("POST", "v1/webhooks/deliveries/resend"): webhook_resend,
    }


CASES = _cases()


def test_every_write_endpoint_is_classified_and_has_an_audit_case():
    # given the URL conf as it stands
    writes, others = _api_writes()
    # then every DRF write operation has an audit case here, and no stale case is left
    missing = sorted(writes - set(CASES))
    assert not missing, f"write endpoints without an audit test (add a case to CASES): {missing}"
    stale = sorted(set(CASES) - writes)
    assert not stale, f"cases for endpoints that no longer exist: {stale}"
    # and every other view is a known page or plumbing that does not write
    unknown = sorted(others - PAGES_WITHOUT_WRITES - set(PAGES_WRITING_THROUGH_AUDITED_SERVICES))
    assert not unknown, f"views not classified (PAGES_WITHOUT_WRITES or a write case): {unknown}"


@pytest.mark.parametrize("operation", sorted(CASES), ids=lambda op: f"{op[0]} {op[1]}")
def test_write_endpoint_records_its_entries(client, operation):
    # given a user with a token, and the data the call needs
    user, token = user_with_token(superuser=True, first_name="Ada", last_name="Lovelace")
    call = CASES[operation]()
    before = set(AuditLogEntry.objects.values_list("id", flat=True))
    # when the write is made through the API
    response = getattr(client, call.method.lower())(
        call.path,
        data=json.dumps(call.body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_USER_AGENT="audit-test/1.0",
        HTTP_X_REQUEST_ID="req-audit-test-1",
        REMOTE_ADDR="203.0.113.7",
    )
    # then it succeeded and recorded its entries, with the whole context
    assert response.status_code in (200, 201), response.content
    assert response["X-Request-Id"] == "req-audit-test-1"
    entries = list(AuditLogEntry.objects.exclude(id__in=before).order_by("timestamp"))
    assert len(entries) == call.entries, [(e.action, e.resource_type) for e in entries]
    resource_id = call.resource_id(response.json())
    assert (call.resource_type, resource_id) in {(e.resource_type, e.resource_id) for e in entries}
    for entry in entries:
        assert entry.actor_user_id == user.pk
        assert entry.actor_name == "Ada Lovelace"
        assert entry.actor_email == user.email
        assert entry.api_token_id is not None and entry.api_token_prefix
        assert entry.channel == "api"
        assert entry.request_id == "req-audit-test-1"
        assert entry.ip == "203.0.113.7"
        assert entry.user_agent == "audit-test/1.0"
        assert entry.action and entry.changes


@pytest.mark.parametrize("route", sorted(POST_READS - {"v1/noop"}))
def test_post_reads_record_nothing(client, route):
    # given data to read
    _, token = user_with_token(superuser=True)
    build.make_package()
    count = AuditLogEntry.objects.count()
    # when a read that takes a body is called (its answer may be 400 for the empty body)
    response = api_post_text(client, token, f"/{route}", "{}")
    # then nothing was recorded
    assert response.status_code < 500
    assert AuditLogEntry.objects.count() == count
