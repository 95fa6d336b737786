"""Cohorts for cohort-migration tests: two eight-term packages and customers provisioned on the
first through the real provisioning service."""

from __future__ import annotations

import datetime as dt

from django.db import connection, transaction

from contracts_app.models import CohortMigrationItem, Contract, ContractTerm
from contracts_app.services.provisioning import contract_provision
from packages_app.models import Package
from tests.contracts_app import contract_builders as build
from tests.contracts_app.contract_builders import eight_terms, offset, recurring_term

T0 = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)


def two_packages(*, duration_months: int | None = 12, **target_columns):
    rate_card = build.make_rate_card()
    product = build.make_product("Platform fee")
    other = build.make_product("Support")
    source = build.make_package(
        name="Starter v1",
        rate_card=rate_card,
        terms=eight_terms(product),
        duration_unit="MONTHS" if duration_months else "",
        duration_value=duration_months,
    )
    target_terms = [
        *eight_terms(other)[:7],
        recurring_term(
            other, "recurring_credit", frequency="MONTHLY", duration=offset("MONTHS", 6)
        ),
    ]
    target = build.make_package(
        name="Starter v2",
        rate_card=rate_card,
        terms=target_terms,
        duration_unit="MONTHS",
        duration_value=12,
        **target_columns,
    )
    return source, target


def starter_plan_versions():
    """`two_packages` named as the pages show them: "Starter Plan v1" and "Starter Plan v2"."""
    source, target = two_packages()
    Package.objects.filter(pk=source.pk).update(name="Starter Plan v1")
    Package.objects.filter(pk=target.pk).update(name="Starter Plan v2")
    return source, target


def cohort(package, n: int, *, start: dt.datetime = T0, name: str = "Customer") -> list[Contract]:
    return [
        contract_provision(
            customer=build.make_customer(f"{name} {i}"), starting_at=start, package=package
        )
        for i in range(n)
    ]


def run_to_end(migration, *, batch_size=7, revert=False):
    """Run a started job's batches (or its revert's) in-process to the end, then finish it."""
    from contracts_app.services.cohort_migration_batches import (
        migration_batch_run,
        migration_revert_batch_run,
    )
    from contracts_app.services.cohort_migrations import migration_finish_if_done

    step = migration_revert_batch_run if revert else migration_batch_run
    while step(migration_id=migration.id, batch_size=batch_size):
        pass
    migration_finish_if_done(migration_id=migration.id)
    migration.refresh_from_db()
    return migration


def contract_state(contract_id) -> tuple:
    """Everything a migration and its revert may touch on one contract."""
    contract = Contract.objects.get(id=contract_id)
    terms = sorted(
        ContractTerm.objects.filter(contract_id=contract_id).values_list(
            "id", "kind", "ordinal", "starting_at", "ending_before", "body", "generated_from_id"
        ),
        key=lambda row: str(row[0]),
    )
    return (
        contract.starting_at,
        contract.ending_before,
        contract.settings,
        contract.archived_at,
        contract.package_id,
        terms,
    )


def bulk_cohort(package, n: int, *, start: dt.datetime = T0, name: str = "Customer") -> int:
    """n customers on `package` from `start`, written in a few statements with the building
    blocks of contract_provision (package_contract_build, contracts_terms_write): for cohorts
    of thousands, where provisioning one by one would dominate a test's time."""
    from contracts_app.models import Customer, Subscription
    from contracts_app.services.provisioning import package_contract_build
    from contracts_app.services.term_rows import contracts_terms_write

    customers = Customer.objects.bulk_create(
        [Customer(name=f"{name} {i}") for i in range(n)], batch_size=5000
    )
    subscriptions = Subscription.objects.bulk_create(
        [Subscription(customer=c) for c in customers], batch_size=5000
    )
    terms = list(package.terms.all())
    pairs = []
    for customer, subscription in zip(customers, subscriptions, strict=True):
        contract, rows = package_contract_build(
            customer_id=customer.id,
            package=package,
            package_terms=terms,
            starting_at=start,
            rate_card_id=package.rate_card_id,
            configuration=None,
        )
        contract.subscription = subscription
        pairs.append((contract, rows))
    Contract.objects.bulk_create([c for c, _ in pairs], batch_size=2000)
    for first in range(0, len(pairs), 2000):
        contracts_terms_write(pairs=pairs[first : first + 2000])
    return n


class HeldSubscriptions:
    """The cohort's subscriptions locked FOR UPDATE on a connection of the test's own.

    This is how a test holds a worker deterministically *mid-batch* without any test-only path
    in the engine: a batch claims its items (FOR UPDATE SKIP LOCKED), then locks the items'
    subscriptions, so it waits here with its items claimed until `release()`.
    `in_id_order`: take the locks in id order, the order batches take them in.
    """

    def __init__(self, database_url: str, package, *, in_id_order: bool = False):
        import psycopg

        order = " ORDER BY id" if in_id_order else ""
        self.connection = psycopg.connect(database_url)
        self.connection.execute(
            "SELECT id FROM contracts_app_subscription WHERE id IN (SELECT subscription_id "
            f"FROM contracts_app_contract WHERE package_id = %s){order} FOR UPDATE",
            [package.id],
        )
        self.pid = self.connection.info.backend_pid

    def waiting_backends(self) -> int:
        """How many other backends wait for these locks (a batch in hand, blocked)."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                [self.pid],
            )
            return cursor.fetchone()[0]

    def release(self) -> None:
        if not self.connection.closed:
            self.connection.rollback()
            self.connection.close()


def claimed_items(migration_id) -> set[int]:
    """Ids of the PENDING items a batch holds (the ones SKIP LOCKED passes over)."""
    table = CohortMigrationItem._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {table} WHERE migration_id = %s AND status = 'PENDING'",
            [migration_id],
        )
        pending = {row[0] for row in cursor.fetchall()}
        cursor.execute(
            f"SELECT id FROM {table} WHERE migration_id = %s AND status = 'PENDING' "
            "FOR UPDATE SKIP LOCKED",
            [migration_id],
        )
        free = {row[0] for row in cursor.fetchall()}
        transaction.set_rollback(True)
    return pending - free


def contracts_a_minute_apart(
    package, customer, count: int, *, first: dt.datetime, length: str | None = None
) -> None:
    """`count` contracts of `package` in one INSERT, the n-th starting n minutes after `first`;
    each lasts `length` (an SQL interval such as '1 day') or, without it, is open-ended."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO contracts_app_contract (id, customer_id, package_id, name, starting_at,
                ending_before, multiplier_override_prioritization,
                scheduled_charges_on_usage_invoices, settings, created_at, created_by)
            SELECT gen_random_uuid(), %(customer)s, %(package)s, '',
                %(first)s::timestamptz + n * interval '1 minute',
                %(first)s::timestamptz + n * interval '1 minute' + %(length)s::interval,
                '', '', '{}', now(), ''
            FROM generate_series(1, %(count)s) AS n
            """,
            {
                "customer": customer.id,
                "package": package.id,
                "first": first,
                "length": length,
                "count": count,
            },
        )


def item_outcomes(migration) -> dict:
    """Each contract of the job: (status, reason) of its item."""
    return {
        contract_id: (status, reason)
        for contract_id, status, reason in CohortMigrationItem.objects.filter(
            migration=migration
        ).values_list("contract_id", "status", "reason")
    }
