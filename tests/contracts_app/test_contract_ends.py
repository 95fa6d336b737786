"""Moving a contract's end moves its terms (services.contract_ends), in a constant number of
statements, through updateEndDate, renewals and schedules alike."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from config.core.errors import Conflict, ValidationFailed
from contracts_app.models import Contract, ContractTerm
from contracts_app.services.contracts import contract_update_end_date
from contracts_app.services.materialise import OPEN_ENDED_HORIZON, shift
from contracts_app.services.provisioning import contract_create_negotiated, contract_provision
from tests.contracts_app import contract_builders as build
from tests.contracts_app.contract_builders import (
    commit_term,
    offset,
    override_term,
    recurring_term,
    scheduled_charge_term,
    spend_tracker_term,
    subscription_term,
)
from tests.factories import user_with_token

pytestmark = pytest.mark.django_db
UTC = dt.UTC
JAN_1 = dt.datetime(2024, 1, 1, tzinfo=UTC)


def at(y, m, d=1) -> dt.datetime:
    return dt.datetime(y, m, d, tzinfo=UTC)


def z(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def year_package(product, *, duration=12):
    """12 months: a monthly recurring credit, a year's commit, a charge in June, an open
    override from February, a subscription and a spend tracker."""
    return build.make_package(
        terms=[
            commit_term(product),
            recurring_term(product, duration=None),
            override_term(product, duration=None),
            scheduled_charge_term(product, at=offset("MONTHS", 5)),
            subscription_term(product),
            spend_tracker_term(),
        ],
        duration_unit="MONTHS" if duration else "",
        duration_value=duration,
    )


def terms_of(contract) -> dict[str, list[ContractTerm]]:
    grouped: dict[str, list[ContractTerm]] = {}
    for term in ContractTerm.objects.filter(contract=contract).order_by("kind", "ordinal"):
        grouped.setdefault(term.kind, []).append(term)
    return grouped


_LINKS = ("id", "recurring_credit_id", "recurring_commit_id")


def without_ids(value):
    if isinstance(value, dict):
        return {k: without_ids(v) for k, v in value.items() if k not in _LINKS}
    if isinstance(value, list):
        return [without_ids(v) for v in value]
    return value


def shape(contract) -> list[tuple]:
    """Every term row of the contract, ids left out: what two contracts must share to be the
    same contract."""
    return sorted(
        (
            t.kind,
            t.ordinal,
            t.starting_at,
            t.ending_before,
            json.dumps(without_ids(t.body), sort_keys=True, default=str),
        )
        for t in ContractTerm.objects.filter(contract=contract)
    )


# --- earlier end ------------------------------------------------------------------------------


def test_ending_early_clips_every_term_to_the_new_end():
    # given a 12-month package contract with a monthly recurring credit
    product = build.make_product()
    contract = contract_provision(
        customer=build.make_customer(), package=year_package(product), starting_at=JAN_1
    )
    assert len(terms_of(contract)["credit"]) == 12
    # when it ends after three months
    contract_update_end_date(contract=contract, ending_before=at(2024, 4))
    # then only three generated credits remain and nothing runs past the end
    terms = terms_of(contract)
    assert [c.starting_at for c in terms["credit"]] == [at(2024, 1), at(2024, 2), at(2024, 3)]
    (recurring,) = terms["recurring_credit"]
    assert recurring.ending_before == at(2024, 4)
    assert recurring.body["ending_before"] == "2024-04-01T00:00:00Z"
    (commit,) = terms["commit"]
    assert commit.ending_before == at(2024, 4)
    assert [i["ending_before"] for i in commit.body["access_schedule"]["schedule_items"]] == [
        "2024-04-01T00:00:00Z"
    ]
    assert len(commit.body["invoice_schedule"]["schedule_items"]) == 1  # invoiced Jan 1
    assert "scheduled_charge" not in terms  # it was due in June
    (override,) = terms["override"]
    assert (override.starting_at, override.ending_before) == (at(2024, 2), at(2024, 4))
    (subscription,) = terms["subscription"]
    assert subscription.ending_before == at(2024, 4)
    assert len(terms["spend_tracker"]) == 1
    for term in ContractTerm.objects.filter(contract=contract):
        assert term.ending_before is None or term.ending_before <= at(2024, 4), term.kind


def test_an_end_between_periods_cuts_the_running_period():
    product = build.make_product()
    contract = contract_provision(
        customer=build.make_customer(), package=year_package(product), starting_at=JAN_1
    )
    contract_update_end_date(contract=contract, ending_before=at(2024, 2, 15))
    credits = terms_of(contract)["credit"]
    assert [(c.starting_at, c.ending_before) for c in credits] == [
        (at(2024, 1), at(2024, 2)),
        (at(2024, 2), at(2024, 2, 15)),
    ]
    item = credits[1].body["access_schedule"]["schedule_items"][0]
    assert item["ending_before"] == "2024-02-15T00:00:00Z"


def test_negotiated_terms_and_discounts_are_clipped_and_restored_on_a_later_end():
    # given a negotiated year with a monthly recurring credit and a discount each quarter
    product = build.make_product()
    data = {
        "starting_at": JAN_1,
        "ending_before": at(2025, 1),
        "recurring_credits": [
            {
                "product_id": str(product.id),
                "access_amount": {"unit_price": 5, "quantity": 1},
                "commit_duration": {"value": 1},
                "priority": 1,
                "starting_at": JAN_1,
                "recurrence_frequency": "MONTHLY",
            }
        ],
        "discounts": [
            {
                "product_id": str(product.id),
                "schedule": {
                    "schedule_items": [
                        {"timestamp": at(2024, m), "amount": 10} for m in (1, 4, 7, 10)
                    ]
                },
            }
        ],
    }
    contract = contract_create_negotiated(customer=build.make_customer(), data=data)
    negotiated = rows_with_ids(contract)
    negotiated_discounts = Contract.objects.get(pk=contract.pk).settings["discounts"]
    # when it ends on May 1
    contract_update_end_date(contract=contract, ending_before=at(2024, 5))
    contract.refresh_from_db()
    assert len(terms_of(contract)["credit"]) == 4
    discount_items = contract.settings["discounts"][0]["schedule"]["schedule_items"]
    assert [i["timestamp"] for i in discount_items] == [
        "2024-01-01T00:00:00Z",
        "2024-04-01T00:00:00Z",
    ]
    # and then on March 1, and then on Sep 1: what the negotiated year gives, clipped to Sep 1
    contract_update_end_date(contract=contract, ending_before=at(2024, 3))
    contract_update_end_date(contract=contract, ending_before=at(2024, 9))
    credits = terms_of(contract)["credit"]
    assert [t.starting_at for t in credits] == [at(2024, m) for m in range(1, 9)]
    # then back to the negotiated end: every term as negotiated, with its id and ordinal
    contract_update_end_date(contract=contract, ending_before=at(2025, 1))
    restored = Contract.objects.get(pk=contract.pk)
    assert restored.ending_before == at(2025, 1)
    assert rows_with_ids(contract) == negotiated
    assert restored.settings["discounts"] == negotiated_discounts
    assert "clipped_terms" not in restored.settings


def rows_with_ids(contract) -> list[tuple]:
    return sorted(
        (
            str(t.id),
            t.kind,
            t.ordinal,
            t.product_id,
            t.generated_from_id,
            t.starting_at,
            t.ending_before,
            json.dumps(t.body, sort_keys=True, default=str),
        )
        for t in ContractTerm.objects.filter(contract=contract)
    )


def test_an_open_ended_negotiated_contract_gets_its_terms_back_when_open_ended_again():
    product = build.make_product()
    data = {
        "starting_at": JAN_1,
        "overrides": [
            {
                "starting_at": at(2024, 2),
                "type": "MULTIPLIER",
                "multiplier": 0.5,
                "override_specifiers": [{"product_id": str(product.id)}],
            }
        ],
        "scheduled_charges": [
            {
                "product_id": str(product.id),
                "schedule": {
                    "schedule_items": [
                        {"timestamp": at(2024, m), "unit_price": 100, "quantity": 1}
                        for m in (3, 6, 9)
                    ]
                },
            }
        ],
    }
    contract = contract_create_negotiated(customer=build.make_customer(), data=data)
    negotiated = rows_with_ids(contract)
    contract_update_end_date(contract=contract, ending_before=at(2024, 2))
    assert "override" not in terms_of(contract)
    contract_update_end_date(contract=contract, ending_before=None)
    assert rows_with_ids(contract) == negotiated


# --- later end on a package contract ---------------------------------------------------------


def test_a_later_end_rematerialises_the_package_keeping_ids():
    # given a package contract ended after three months
    product = build.make_product()
    package = year_package(product)
    contract = contract_provision(
        customer=build.make_customer(), package=package, starting_at=JAN_1
    )
    contract_update_end_date(contract=contract, ending_before=at(2024, 4))
    kept = {t.id: t.body for t in ContractTerm.objects.filter(contract=contract)}
    # when the end moves back to the package's 12 months
    contract_update_end_date(contract=contract, ending_before=at(2025, 1))
    # then the terms are what provisioning the package for 12 months gives
    fresh = contract_provision(
        customer=build.make_customer("B"), package=package, starting_at=JAN_1
    )
    assert shape(contract) == shape(fresh)
    # and every row that existed keeps its id and its schedule items' ids
    now = {t.id: t.body for t in ContractTerm.objects.filter(contract=contract)}
    assert set(kept) <= set(now)
    for term_id, body in kept.items():
        for key in ("access_schedule", "invoice_schedule", "schedule"):
            old_ids = [i["id"] for i in (body.get(key) or {}).get("schedule_items", [])]
            new_ids = [i["id"] for i in (now[term_id].get(key) or {}).get("schedule_items", [])]
            assert new_ids[: len(old_ids)] == old_ids
    # generated credits point at the recurring credit that was kept
    (recurring,) = terms_of(contract)["recurring_credit"]
    for credit in terms_of(contract)["credit"]:
        assert credit.generated_from_id == recurring.id
        assert credit.body["recurring_credit_id"] == str(recurring.id)


def test_open_ending_a_package_contract_expands_to_the_horizon():
    product = build.make_product()
    contract = contract_provision(
        customer=build.make_customer(), package=year_package(product, duration=3), starting_at=JAN_1
    )
    assert len(terms_of(contract)["credit"]) == 3
    contract_update_end_date(contract=contract, ending_before=None)
    terms = terms_of(contract)
    # open-ended recurring terms are expanded one horizon ahead of their start
    horizon = shift(JAN_1, OPEN_ENDED_HORIZON)
    assert len(terms["credit"]) == 12
    assert terms["credit"][-1].ending_before == horizon
    assert terms["recurring_credit"][0].ending_before is None


def test_update_end_date_statements_do_not_grow_with_terms(client, django_assert_num_queries):
    # given a 12-month package contract whose recurring terms expand to dozens of rows
    product = build.make_product()
    package = build.make_package(
        terms=[
            *[recurring_term(product, duration=None) for _ in range(4)],
            commit_term(product),
            scheduled_charge_term(product, at=offset("MONTHS", 5)),
        ],
        duration_unit="MONTHS",
        duration_value=12,
    )
    customer = build.make_customer()
    contract = contract_provision(customer=customer, package=package, starting_at=JAN_1)
    _, token = user_with_token(superuser=True)

    def update_end_date(end):
        return client.post(
            "/v1/contracts/updateEndDate",
            data=json.dumps(
                {"customer_id": str(customer.id), "contract_id": str(contract.id), **end}
            ),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )

    # then: token with its user, contract, subscription lock, contract lock, terms, contract
    # update, one delete-and-rewrite of terms, the service's savepoint pair, the audit entry,
    # the webhook event (the outbox row)
    with django_assert_num_queries(11):
        assert update_end_date({"ending_before": z(at(2024, 4))}).status_code == 200
    assert ContractTerm.objects.filter(contract=contract, kind="credit").count() == 4 * 3
    # a later end: plus the package's terms and one insert of the new rows
    with django_assert_num_queries(13):
        assert update_end_date({"ending_before": z(at(2025, 1))}).status_code == 200
    assert ContractTerm.objects.filter(contract=contract, kind="credit").count() == 4 * 12


def test_update_end_date_refusals_change_nothing():
    contract = contract_provision(
        customer=build.make_customer(),
        package=year_package(build.make_product()),
        starting_at=JAN_1,
    )
    before = shape(contract)
    with pytest.raises(ValidationFailed) as early:
        contract_update_end_date(contract=contract, ending_before=JAN_1)
    assert early.value.field == "ending_before"
    assert shape(contract) == before


# --- renewals ---------------------------------------------------------------------------------


def test_renewal_clips_the_renewed_contracts_terms():
    product = build.make_product()
    package = year_package(product)
    customer = build.make_customer()
    first = contract_provision(customer=customer, package=package, starting_at=JAN_1)
    contract_provision(
        customer=customer,
        package=package,
        starting_at=at(2024, 7),
        transition={"from_contract_id": str(first.id), "type": "RENEWAL"},
    )
    credits = terms_of(first)["credit"]
    assert len(credits) == 6 and credits[-1].ending_before == at(2024, 7)
    assert Contract.objects.get(pk=first.pk).settings["transitions"][0]["type"] == "RENEWAL"


# --- one timeline per subscription ------------------------------------------------------------


def renew(customer, package, previous, starting_at):
    return contract_provision(
        customer=customer,
        package=package,
        starting_at=starting_at,
        transition={"from_contract_id": str(previous.id), "type": "RENEWAL"},
    )


@pytest.mark.parametrize("second_start", [at(2025, 3), at(2024, 9)], ids=["later", "earlier"])
def test_renewing_the_same_contract_twice_is_a_conflict(second_start):
    # given a contract renewed once on Jul 1 (the renewal runs a year)
    package = year_package(build.make_product())
    customer = build.make_customer()
    first = contract_provision(customer=customer, package=package, starting_at=JAN_1)
    renewal = renew(customer, package, first, at(2024, 7))
    before = (shape(first), Contract.objects.get(pk=first.pk).ending_before)
    # when it is renewed again, after or before the first renewal starts
    with pytest.raises(Conflict) as conflict:
        renew(customer, package, first, second_start)
    # then the timeline refuses the overlap and nothing changed
    assert conflict.value.field == "starting_at"
    assert (shape(first), Contract.objects.get(pk=first.pk).ending_before) == before
    assert Contract.objects.filter(subscription_id=renewal.subscription_id).count() == 2


def test_an_end_overlapping_the_next_contract_is_a_conflict():
    package = year_package(build.make_product())
    customer = build.make_customer()
    first = contract_provision(customer=customer, package=package, starting_at=JAN_1)
    renew(customer, package, first, at(2024, 7))
    for end in (None, at(2024, 8)):
        with pytest.raises(Conflict) as conflict:
            contract_update_end_date(contract=first, ending_before=end)
        assert conflict.value.field == "ending_before"
    assert Contract.objects.get(pk=first.pk).ending_before == at(2024, 7)
    assert len(terms_of(first)["credit"]) == 6


def test_the_database_refuses_overlapping_contracts_of_one_subscription():
    from django.db import IntegrityError, transaction

    package = year_package(build.make_product())
    customer = build.make_customer()
    first = contract_provision(customer=customer, package=package, starting_at=JAN_1)
    fields = {"customer": customer, "subscription_id": first.subscription_id}
    with pytest.raises(IntegrityError), transaction.atomic():
        Contract.objects.create(starting_at=at(2024, 12), **fields)
    # touching ends and archived contracts are fine, so are other subscriptions
    Contract.objects.create(starting_at=at(2025, 1), ending_before=at(2025, 2), **fields)
    Contract.objects.create(starting_at=at(2024, 6), archived_at=at(2024, 1), **fields)
    Contract.objects.create(customer=customer, starting_at=at(2024, 6))


# --- the clip's rule in SQL (set-based callers: cohort-migration batches) ---------------------


@pytest.mark.parametrize(
    "end",
    [
        at(
            2024,
            1,
            1,
        ),
        at(2024, 2, 15),
        at(2024, 4),
        at(2024, 6),
        at(2024, 6, 2),
        at(2024, 12, 31),
    ],
)
def test_the_sql_clip_rule_is_the_python_clip_rule(end):
    # given a package contract with every kind of term, generated periods included
    from django.db import connection

    from contracts_app.services.contract_ends import (
        CLIPPED_TERM_FIELDS,
        clip_deletes_sql,
        clip_may_change_sql,
        clip_windows_sql,
        contract_end_clip,
    )

    contract = contract_provision(
        customer=build.make_customer(),
        package=year_package(build.make_product()),
        starting_at=JAN_1,
    )
    terms = list(ContractTerm.objects.filter(contract=contract).only(*CLIPPED_TERM_FIELDS))
    # when the Python clip and the SQL conditions judge the same end
    _, changed, deleted = contract_end_clip(contract=contract, terms=terms, ending_before=end)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT t.id, {clip_deletes_sql('t', 'e.at')}, {clip_windows_sql('t', 'e.at')}, "
            f"{clip_may_change_sql('t', 'e.at')} "
            "FROM contracts_app_contractterm t, (SELECT %s::timestamptz AS at) e "
            "WHERE t.contract_id = %s",
            [end, contract.id],
        )
        judged = {term_id: flags for term_id, *flags in cursor.fetchall()}
    # then SQL deletes exactly those rows, ends exactly the windowed rows the clip ends, and
    # reads every other row the clip rewrites; no row is in two of the three
    windowed = {"override", "recurring_commit", "recurring_credit", "subscription"}
    assert {i for i, (gone, _, _) in judged.items() if gone} == deleted
    assert {i for i, (_, ended, _) in judged.items() if ended} == {
        t.id for t in changed if t.kind in windowed
    }
    assert {t.id for t in changed if t.kind not in windowed} <= {
        i for i, (_, _, may) in judged.items() if may
    }
    assert all(sum(flags) <= 1 for flags in judged.values())


def edges_package(product):
    """A commit whose first invoice comes before its first access item and whose items are
    dropped, cut and kept at different ends; a charge with three dates."""
    from decimal import Decimal

    def access(start, months):
        return {
            "amount": Decimal(100),
            "starting_at_offset": start,
            "duration": offset("MONTHS", months),
        }

    def point(at_offset):
        return {"date_offset": at_offset, "quantity": 1, "unit_price": Decimal("12.50")}

    commit = (
        "commit",
        {
            "product_id": str(product.id),
            "type": "PREPAID",
            "name": "Staged commit",
            "access_schedule": {
                "schedule_items": [
                    access(offset("MONTHS", 1), 1),
                    access(offset("MONTHS", 2), 2),
                    access(offset("MONTHS", 4), 3),
                ]
            },
            "invoice_schedule": {
                "schedule_items": [
                    point(offset("DAYS", 0)),
                    point(offset("DAYS", 45)),
                    point(offset("MONTHS", 5)),
                ]
            },
        },
    )
    charge = (
        "scheduled_charge",
        {
            "product_id": str(product.id),
            "name": "Instalments",
            "schedule": {
                "schedule_items": [
                    point(offset("DAYS", 0)),
                    point(offset("DAYS", 45)),
                    point(offset("MONTHS", 5)),
                ]
            },
        },
    )
    return build.make_package(terms=[commit, charge], duration_unit="MONTHS", duration_value=12)


@pytest.mark.parametrize("package_of", ["year", "eight_terms", "edges"])
@pytest.mark.parametrize(
    "end",
    [
        at(2024, 1, 1),
        at(2024, 1, 20),
        at(2024, 2, 15),
        at(2024, 3, 15),
        at(2024, 6),
        at(2024, 6, 2),
    ],
)
def test_the_sql_clip_of_dated_items_is_the_python_clip(package_of, end):
    # given a package contract whose commits, credits and charges carry dated items
    from django.db import connection

    from config.core import jsonutil
    from config.core.instants import format_instant
    from contracts_app.services.contract_ends import (
        CLIPPED_TERM_FIELDS,
        clip_items_sql,
        clip_may_change_sql,
        contract_end_clip,
    )

    product = build.make_product()
    package = {
        "year": year_package,
        "eight_terms": lambda p: build.make_package(
            terms=build.eight_terms(p), duration_unit="MONTHS", duration_value=12
        ),
        "edges": edges_package,
    }[package_of](product)
    contract = contract_provision(
        customer=build.make_customer(), package=package, starting_at=JAN_1
    )
    terms = list(ContractTerm.objects.filter(contract=contract).only(*CLIPPED_TERM_FIELDS))
    # when the Python clip and the SQL clip cut the same rows at the same end
    _, changed, _ = contract_end_clip(contract=contract, terms=terms, ending_before=end)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT t.id, c.changed, c.body, c.starting_at, c.ending_before "
            "FROM contracts_app_contractterm t, (SELECT %s::timestamptz AS at, %s AS text) e, "
            f"LATERAL ({clip_items_sql('t', 'e.at', 'e.text')}) c "
            f"WHERE t.contract_id = %s AND {clip_may_change_sql('t', 'e.at')}",
            [end, format_instant(end), contract.id],
        )
        cut = {row[0]: row[1:] for row in cursor.fetchall()}
    # then SQL changes exactly the rows Python changes, into the same body and window
    python_cut = {t.id: t for t in changed if t.id in cut}
    assert {i for i, (was_changed, *_) in cut.items() if was_changed} == set(python_cut)
    assert python_cut or end == at(2024, 1, 1)
    for term_id, term in python_cut.items():
        _, body, starting_at, ending_before = cut[term_id]
        assert json.loads(body) == json.loads(jsonutil.dumps(term.body)), term.kind
        assert (starting_at, ending_before) == (term.starting_at, term.ending_before), term.kind
