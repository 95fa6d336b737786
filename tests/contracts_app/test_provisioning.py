"""contract_provision / contract_create_negotiated / contract_update_end_date / contract_archive."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from config.core.errors import Conflict, NotFound, ValidationFailed
from contracts_app.models import Contract, ContractTerm, Subscription
from contracts_app.services.contracts import contract_archive, contract_update_end_date
from contracts_app.services.provisioning import contract_create_negotiated, contract_provision
from packages_app.models import AliasName
from packages_app.services.aliases import alias_assign
from tests.contracts_app import contract_builders as build
from tests.contracts_app.contract_builders import (
    commit_term,
    credit_term,
    eight_terms,
    offset,
    recurring_term,
)

pytestmark = pytest.mark.django_db
UTC = dt.UTC
JAN_31 = dt.datetime(2024, 1, 31, tzinfo=UTC)


def at(y, m, d) -> dt.datetime:
    return dt.datetime(y, m, d, tzinfo=UTC)


def test_provision_from_package_materialises_every_term():
    # given a 12-month package with eight terms (two recurring) on a rate card
    product = build.make_product()
    rate_card = build.make_rate_card()
    package = build.make_package(
        terms=eight_terms(product),
        duration_unit="MONTHS",
        duration_value=12,
        rate_card=rate_card,
        contract_name="Starter contract",
        net_payment_terms_days=30,
        settings={"usage_statement_schedule": {"frequency": "MONTHLY", "day": "CONTRACT_START"}},
    )
    customer = build.make_customer()
    # when a customer is provisioned on Jan 31 (naive: UTC)
    contract = contract_provision(
        customer=customer, package=package, starting_at=dt.datetime(2024, 1, 31), created_by="me"
    )
    # then the contract carries the package's scalars with absolute dates
    contract.refresh_from_db()
    assert contract.package == package
    assert contract.rate_card == rate_card
    assert contract.name == "Starter contract"
    assert (contract.starting_at, contract.ending_before) == (JAN_31, at(2025, 1, 31))
    assert contract.net_payment_terms_days == 30
    assert (
        contract.settings["usage_statement_schedule"]["billing_anchor_date"]
        == "2024-01-31T00:00:00Z"
    )
    assert contract.subscription.customer == customer
    # and every package term is linked from its contract term, plus 12 monthly + 4 quarterly
    terms = list(contract.terms.all())
    assert {t.package_term_id for t in terms} == set(package.terms.values_list("id", flat=True))
    generated = [t for t in terms if t.generated_from_id]
    assert sorted(t.kind for t in generated) == ["commit"] * 12 + ["credit"] * 4
    quarterly = sorted(t.starting_at for t in generated if t.kind == "credit")
    assert quarterly == [at(2024, 1, 31), at(2024, 4, 30), at(2024, 7, 31), at(2024, 10, 31)]


def test_package_without_duration_gives_an_open_ended_contract_and_names_from_package():
    package = build.make_package(name="Pay as you go")
    contract = contract_provision(
        customer=build.make_customer(), package=package, starting_at=JAN_31
    )
    assert contract.ending_before is None
    assert contract.name == "Pay as you go"


def test_override_ending_before_uses_the_given_end_even_none():
    package = build.make_package(duration_unit="MONTHS", duration_value=1)
    customer = build.make_customer()
    open_ended = contract_provision(
        customer=customer, package=package, starting_at=JAN_31, override_ending_before=True
    )
    fixed = contract_provision(
        customer=customer,
        package=package,
        starting_at=JAN_31,
        ending_before=at(2024, 6, 1),
        override_ending_before=True,
        settings_extra={"solvimon": {"reference": "x"}},
    )
    assert open_ended.ending_before is None
    assert fixed.ending_before == at(2024, 6, 1)
    assert fixed.settings["solvimon"] == {"reference": "x"}


def test_package_alias_resolves_as_of_the_contract_start():
    # given "Starter" pointing at v1 until March, then at v2
    v1, v2 = build.make_package(name="v1"), build.make_package(name="v2")
    alias_assign(
        kind=AliasName.Kind.PACKAGE, name="Starter", package=v1, starting_at=at(2024, 1, 1)
    )
    alias_assign(
        kind=AliasName.Kind.PACKAGE, name="Starter", package=v2, starting_at=at(2024, 3, 1)
    )
    customer = build.make_customer()
    # when provisioning before and after the switch
    before = contract_provision(
        customer=customer, package_alias="Starter", starting_at=at(2024, 2, 1)
    )
    after = contract_provision(
        customer=customer, package_alias="Starter", starting_at=at(2024, 3, 1)
    )
    # then each contract is on the package the alias meant at its start
    assert (before.package, after.package) == (v1, v2)


def test_alias_pointing_nowhere_and_archived_package_are_refused():
    package = build.make_package()
    alias_assign(
        kind=AliasName.Kind.PACKAGE, name="Later", package=package, starting_at=at(2025, 1, 1)
    )
    customer = build.make_customer()
    with pytest.raises(ValidationFailed) as nowhere:
        contract_provision(customer=customer, package_alias="Later", starting_at=at(2024, 6, 1))
    assert nowhere.value.field == "package_alias"
    package.archived_at = timezone.now()
    package.save()
    with pytest.raises(ValidationFailed) as archived:
        contract_provision(customer=customer, package=package, starting_at=at(2024, 6, 1))
    assert "rchived" in archived.value.message
    assert not Contract.objects.exists()


def test_rate_card_alias_resolves_as_of_the_start_and_must_point_somewhere():
    old, new = build.make_rate_card("old"), build.make_rate_card("new")
    alias_assign(
        kind=AliasName.Kind.RATE_CARD, name="list", rate_card=old, starting_at=at(2024, 1, 1)
    )
    alias_assign(
        kind=AliasName.Kind.RATE_CARD, name="list", rate_card=new, starting_at=at(2024, 6, 1)
    )
    package = build.make_package(rate_card_alias="list")
    customer = build.make_customer()
    assert (
        contract_provision(customer=customer, package=package, starting_at=at(2024, 2, 1)).rate_card
        == old
    )
    assert (
        contract_provision(customer=customer, package=package, starting_at=at(2024, 7, 1)).rate_card
        == new
    )
    with pytest.raises(ValidationFailed):
        contract_provision(customer=customer, package=package, starting_at=at(2023, 7, 1))


def test_billing_provider_needs_exactly_one_active_matching_configuration():
    package = build.make_package(
        billing_provider="stripe", delivery_method="direct_to_billing_provider"
    )
    customer = build.make_customer()
    # none
    with pytest.raises(ValidationFailed) as none:
        contract_provision(customer=customer, package=package, starting_at=JAN_31)
    assert "no active billing provider configuration for stripe" in none.value.message
    # exactly one (an archived one and another provider do not count)
    build.make_billing_configuration(customer, archived_at=timezone.now())
    build.make_billing_configuration(customer, provider="netsuite")
    chosen = build.make_billing_configuration(customer)
    contract = contract_provision(customer=customer, package=package, starting_at=JAN_31)
    assert contract.billing_provider_configuration == chosen
    # several
    build.make_billing_configuration(customer)
    with pytest.raises(ValidationFailed) as several:
        contract_provision(customer=customer, package=package, starting_at=JAN_31)
    assert "several" in several.value.message


def test_reused_uniqueness_key_conflicts_and_writes_nothing():
    package = build.make_package(terms=[credit_term(build.make_product())])
    customer = build.make_customer()
    contract_provision(customer=customer, package=package, starting_at=JAN_31, uniqueness_key="k1")
    counts = (Contract.objects.count(), ContractTerm.objects.count(), Subscription.objects.count())
    with pytest.raises(Conflict):
        contract_provision(
            customer=customer, package=package, starting_at=JAN_31, uniqueness_key="k1"
        )
    assert counts == (
        Contract.objects.count(),
        ContractTerm.objects.count(),
        Subscription.objects.count(),
    )
    # the key is per customer
    contract_provision(
        customer=build.make_customer("Other"),
        package=package,
        starting_at=JAN_31,
        uniqueness_key="k1",
    )


def test_transition_continues_the_chain_and_ends_the_old_contract():
    package = build.make_package()
    customer = build.make_customer()
    first = contract_provision(customer=customer, package=package, starting_at=at(2024, 1, 1))
    second = contract_provision(
        customer=customer,
        package=package,
        starting_at=at(2024, 6, 1),
        transition={"from_contract_id": str(first.id), "type": "RENEWAL"},
    )
    first.refresh_from_db()
    assert second.subscription_id == first.subscription_id
    assert first.ending_before == at(2024, 6, 1)
    link = {"from_contract_id": str(first.id), "to_contract_id": str(second.id), "type": "RENEWAL"}
    assert first.settings["transitions"] == [link] == second.settings["transitions"]
    # a contract of another customer cannot be renewed
    with pytest.raises(NotFound):
        contract_provision(
            customer=build.make_customer("Other"),
            package=package,
            starting_at=at(2024, 7, 1),
            transition={"from_contract_id": str(second.id), "type": "RENEWAL"},
        )


def test_given_subscription_is_used_and_must_be_the_customers():
    package = build.make_package()
    customer = build.make_customer()
    subscription = Subscription.objects.create(customer=customer)
    contract = contract_provision(
        customer=customer, package=package, starting_at=JAN_31, subscription=subscription
    )
    assert contract.subscription == subscription
    with pytest.raises(ValidationFailed):
        contract_provision(
            customer=build.make_customer("B"),
            package=package,
            starting_at=JAN_31,
            subscription=subscription,
        )


@pytest.mark.parametrize("term_count", [1, 8, 32])
def test_provision_costs_the_same_queries_whatever_the_terms(term_count, django_assert_num_queries):
    # given packages whose terms (with recurring ones) generate up to hundreds of rows
    product = build.make_product()
    pool = eight_terms(product)
    package = build.make_package(
        terms=[pool[i % len(pool)] for i in range(term_count)],
        duration_unit="YEARS",
        duration_value=2,
        rate_card=build.make_rate_card(),
    )
    customer = build.make_customer()
    # then: the package's share lock, terms fetch, subscription insert, contract insert, one
    # insert for all terms, plus the service's own savepoint pair (the test runs in a transaction),
    # the audit entry and the webhook event (the outbox row)
    with django_assert_num_queries(9):
        contract_provision(customer=customer, package=package, starting_at=JAN_31)


def test_negotiated_contract_stores_terms_and_checks_products():
    product = build.make_product()
    customer = build.make_customer()
    data = {
        "starting_at": at(2024, 1, 1),
        "ending_before": at(2025, 1, 1),
        "name": "Custom deal",
        "commits": [
            {
                "product_id": str(product.id),
                "type": "PREPAID",
                "access_schedule": {
                    "schedule_items": [
                        {
                            "amount": 100,
                            "starting_at": at(2024, 1, 1),
                            "ending_before": at(2025, 1, 1),
                        }
                    ]
                },
            }
        ],
        "recurring_credits": [
            {
                "product_id": str(product.id),
                "access_amount": {"unit_price": 5},
                "commit_duration": {"value": 1},
                "priority": 1,
                "starting_at": at(2024, 1, 1),
                "recurrence_frequency": "QUARTERLY",
            }
        ],
    }
    contract = contract_create_negotiated(customer=customer, data=data)
    assert contract.package is None and contract.name == "Custom deal"
    kinds = sorted(contract.terms.values_list("kind", flat=True))
    assert kinds == ["commit", "credit", "credit", "credit", "credit", "recurring_credit"]
    data["commits"][0]["product_id"] = "00000000-0000-4000-8000-000000000000"
    with pytest.raises(ValidationFailed) as unknown:
        contract_create_negotiated(customer=customer, data=data)
    assert unknown.value.field == "commits[0].product_id"


def test_update_end_date_and_archive():
    contract = contract_provision(
        customer=build.make_customer(),
        package=build.make_package(duration_unit="MONTHS", duration_value=12),
        starting_at=JAN_31,
    )
    contract_update_end_date(contract=contract, ending_before=at(2024, 3, 1))
    assert Contract.objects.get(pk=contract.pk).ending_before == at(2024, 3, 1)
    contract_update_end_date(contract=contract, ending_before=None)
    assert Contract.objects.get(pk=contract.pk).ending_before is None
    with pytest.raises(ValidationFailed):
        contract_update_end_date(contract=contract, ending_before=JAN_31)
    contract_archive(contract=contract)
    archived_at = Contract.objects.get(pk=contract.pk).archived_at
    assert archived_at is not None
    contract_archive(contract=contract)  # one way, and idempotent
    assert Contract.objects.get(pk=contract.pk).archived_at == archived_at
    with pytest.raises(ValidationFailed):
        contract_update_end_date(contract=contract, ending_before=None)


def test_recurring_commit_window_is_stored_with_its_periods():
    product = build.make_product()
    package = build.make_package(
        terms=[
            recurring_term(
                product, "recurring_commit", start=offset("MONTHS", 1), duration=offset("MONTHS", 2)
            )
        ]
    )
    contract = contract_provision(
        customer=build.make_customer(), package=package, starting_at=JAN_31
    )
    recurring = contract.terms.get(kind="recurring_commit")
    assert (recurring.starting_at, recurring.ending_before) == (at(2024, 2, 29), at(2024, 4, 30))
    assert list(
        recurring.generated_terms.order_by("ordinal").values_list("starting_at", flat=True)
    ) == [
        at(2024, 2, 29),
        at(2024, 3, 31),
    ]
    assert commit_term  # builder shared with the API tests
