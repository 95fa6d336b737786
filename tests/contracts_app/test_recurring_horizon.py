"""Open-ended contracts keep the next 12 months of recurring periods materialised (issue 9)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from config.celery import app as celery_app
from contracts_app.models import ContractTerm
from contracts_app.services.materialise import shift
from contracts_app.services.provisioning import contract_provision
from contracts_app.services.recurring_horizon import (
    recurring_terms_extend,
    recurring_terms_extend_batch,
)
from contracts_app.tasks import recurring_terms_extend_task
from tests.contracts_app import contract_builders as build
from tests.contracts_app.contract_builders import offset, recurring_term

pytestmark = pytest.mark.django_db


def _open_ended_package(product, *kinds: str):
    return build.make_package(
        terms=[
            recurring_term(product, kind, start=offset("MONTHS", 1), duration=None)
            for kind in kinds
        ]
    )


def _monthly_starts(contract, kind: str) -> list[dt.datetime]:
    return list(
        ContractTerm.objects.filter(contract=contract, kind=kind, generated_from__isnull=False)
        .order_by("starting_at")
        .values_list("starting_at", flat=True)
    )


def test_a_contract_started_three_years_ago_has_every_monthly_credit_up_to_a_year_ahead():
    # given an open-ended contract that started on Jan 31, three years ago, with a monthly
    # recurring credit from one month in (provisioning expanded its first year only)
    now = timezone.now()
    start = dt.datetime(now.year - 3, 1, 31, tzinfo=dt.UTC)
    package = _open_ended_package(build.make_product(), "recurring_credit")
    contract = contract_provision(
        customer=build.make_customer(), package=package, starting_at=start
    )
    assert len(_monthly_starts(contract, "credit")) == 12

    # when the beat task runs
    added = recurring_terms_extend_task()

    # then every monthly credit from the first one up to a year from now is there, each
    # computed from the contract start (Jan 31 + n months: month ends clamp, never drift)
    starts = _monthly_starts(contract, "credit")
    horizon = shift(now, ("MONTHS", 12))
    expected = []
    n = 1
    while (moment := shift(start, ("MONTHS", n))) < horizon:
        expected.append(moment)
        n += 1
    assert starts == expected
    assert added == len(expected) - 12
    ordinals = list(
        ContractTerm.objects.filter(contract=contract, kind="credit").values_list(
            "ordinal", flat=True
        )
    )
    assert sorted(ordinals) == list(range(len(ordinals)))
    # and a second run adds nothing
    assert recurring_terms_extend(now=now) == 0


def test_ended_and_archived_contracts_are_left_alone():
    now = timezone.now()
    start = now - dt.timedelta(days=3 * 365)
    package = _open_ended_package(build.make_product(), "recurring_commit")
    ended = contract_provision(
        customer=build.make_customer(name="Ended"),
        package=package,
        starting_at=start,
        ending_before=start + dt.timedelta(days=400),
    )
    before = _monthly_starts(ended, "commit")
    recurring_terms_extend(now=now)
    assert _monthly_starts(ended, "commit") == before


@pytest.mark.parametrize("contract_count", [2, 8])
def test_a_batch_costs_the_same_statements_whatever_it_holds(
    contract_count, django_assert_num_queries
):
    now = timezone.now()
    start = now - dt.timedelta(days=2 * 365)
    package = _open_ended_package(build.make_product(), "recurring_credit", "recurring_commit")
    for n in range(contract_count):
        contract_provision(
            customer=build.make_customer(name=f"C{n}"), package=package, starting_at=start
        )
    # batch ids, lock contracts, terms, package offsets, ordinals, stored periods, one insert,
    # one audit insert, plus the savepoint pair (the test runs in a transaction)
    with django_assert_num_queries(10):
        batch = recurring_terms_extend_batch(now=now, batch_size=100)
    assert batch.terms_seen == 2 * contract_count and batch.periods_added > 0


def test_the_task_is_registered_and_scheduled_in_code():
    entry = settings.CELERY_BEAT_SCHEDULE["recurring-terms-extend"]
    assert entry["task"] == recurring_terms_extend_task.name
    assert entry["task"] in celery_app.tasks
