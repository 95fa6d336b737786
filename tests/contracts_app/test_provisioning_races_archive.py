"""Provisioning and archiving a package at the same time (issue 9, fault 3).

Real concurrent transactions: each thread has its own database connection. No contract may be
created on a package once its archive has committed.
"""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from config.core.errors import ValidationFailed
from contracts_app.models import Contract
from contracts_app.services.provisioning import contract_provision
from packages_app.models import Package
from packages_app.services.packages import package_archive
from tests.contracts_app.contract_builders import make_customer, make_package

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
WAIT = 10  # seconds; only reached when a lock is missing or a thread is stuck


def _in_own_connection(work):
    def run(*args):
        try:
            return work(*args)
        finally:
            connection.close()

    return run


def test_an_archive_waits_for_a_provisioning_in_flight():
    package, customer = make_package(), make_customer()
    provisioned, release = threading.Event(), threading.Event()
    archive_done = threading.Event()

    @_in_own_connection
    def provision():
        with transaction.atomic():
            contract_provision(customer=customer, package=package, starting_at=START)
            provisioned.set()
            release.wait(WAIT)  # the contract is written, not yet committed

    @_in_own_connection
    def archive():
        package_archive(package=Package.objects.get(pk=package.pk))
        archive_done.set()

    with ThreadPoolExecutor(max_workers=2) as pool:
        provisioning = pool.submit(provision)
        assert provisioned.wait(WAIT)
        archiving = pool.submit(archive)
        # then: the archive cannot commit while the provisioning holds the package
        archived_early = archive_done.wait(1.0)
        release.set()
        provisioning.result(WAIT)
        archiving.result(WAIT)

    assert not archived_early, "the archive committed under a provisioning in flight"
    package.refresh_from_db()
    contract = Contract.objects.get(package=package)
    assert contract.created_at < package.archived_at


def test_a_provisioning_waits_for_an_archive_in_flight_and_is_refused():
    package, customer = make_package(), make_customer()
    archived, release = threading.Event(), threading.Event()

    @_in_own_connection
    def archive():
        with transaction.atomic():
            package_archive(package=Package.objects.get(pk=package.pk))
            archived.set()
            release.wait(WAIT)  # archived_at written, not yet committed

    @_in_own_connection
    def provision():
        fetched = Package.objects.get(pk=package.pk)  # read before the archive commits
        try:
            contract_provision(customer=customer, package=fetched, starting_at=START)
        except ValidationFailed as refused:
            return refused
        return None

    with ThreadPoolExecutor(max_workers=2) as pool:
        archiving = pool.submit(archive)
        assert archived.wait(WAIT)
        provisioning = pool.submit(provision)
        threading.Timer(0.5, release.set).start()
        archiving.result(WAIT)
        refused = provisioning.result(WAIT)

    assert isinstance(refused, ValidationFailed) and refused.field == "package_id"
    assert not Contract.objects.filter(package=package).exists()


def test_many_provisions_racing_an_archive_create_nothing_after_it():
    package = make_package()
    customers = [make_customer(name=f"Customer {n}") for n in range(16)]
    start = threading.Barrier(len(customers) + 1)

    @_in_own_connection
    def provision(customer):
        start.wait(WAIT)
        try:
            contract_provision(customer=customer, package=package, starting_at=START)
        except ValidationFailed:
            return "refused"
        return "created"

    @_in_own_connection
    def archive():
        start.wait(WAIT)
        package_archive(package=Package.objects.get(pk=package.pk))

    with ThreadPoolExecutor(max_workers=len(customers) + 1) as pool:
        outcomes = [pool.submit(provision, customer) for customer in customers]
        archiving = pool.submit(archive)
        archiving.result(WAIT * 3)
        results = [outcome.result(WAIT * 3) for outcome in outcomes]

    package.refresh_from_db()
    created = list(Contract.objects.filter(package=package).values_list("created_at", flat=True))
    assert len(created) == results.count("created")
    assert all(created_at < package.archived_at for created_at in created)
