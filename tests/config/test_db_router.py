"""The optional read replica: cohort pages read from it when one is configured, nothing else
does, and writes never go there. The `replica` alias of the test settings is the test database
itself (TEST MIRROR), so these tests run on committed data (transaction=True)."""

import datetime as dt

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from config.db_router import replica_reads
from contracts_app.services.provisioning import contract_provision
from packages_app.models import Product
from tests.contracts_app.contract_builders import make_customer, make_package
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True, databases=["default", "replica"])


@pytest.fixture
def cohort_url(client):
    package = make_package(name="Starter Plan v1")
    started = timezone.now().replace(microsecond=0) - dt.timedelta(days=10)  # on it now
    for i in range(3):
        contract_provision(
            customer=make_customer(f"Customer {i}"), starting_at=started, package=package
        )
    client.force_login(UserFactory(username="pricing", is_superuser=True))
    return f"/packages/{package.id}/cohort/"


def _tables(captured) -> str:
    return " ".join(q["sql"] for q in captured.captured_queries)


def _get(client, url):
    with (
        CaptureQueriesContext(connections["default"]) as default,
        CaptureQueriesContext(connections["replica"]) as replica,
    ):
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count("Customer ") == 3
    return default, replica


def test_without_a_replica_every_read_stays_on_default(client, cohort_url):
    default, replica = _get(client, cohort_url)

    assert len(replica) == 0
    assert '"contracts_app_contract"' in _tables(default)


def test_with_a_replica_the_cohort_page_reads_there_and_other_pages_do_not(
    client, cohort_url, settings
):
    settings.READ_REPLICA_ALIAS = "replica"

    default, replica = _get(client, cohort_url)
    # the cohort's reads went to the replica; the session and user stayed on default
    assert '"contracts_app_contract"' in _tables(replica)
    assert '"django_session"' in _tables(default)

    # a page that did not opt in reads from default
    with CaptureQueriesContext(connections["replica"]) as other:
        assert client.get("/customers/").status_code == 200
    assert len(other) == 0


def test_writes_never_go_to_the_replica_even_inside_replica_reads(settings):
    settings.READ_REPLICA_ALIAS = "replica"
    with (
        CaptureQueriesContext(connections["replica"]) as replica,
        CaptureQueriesContext(connections["default"]) as default,
        replica_reads(),
    ):
        product = Product.objects.create(name="Written", type="FIXED")
        assert Product.objects.filter(id=product.id).exists()  # a read: the replica

    assert "INSERT" not in _tables(replica) and "INSERT" in _tables(default)
    assert '"packages_app_product"' in _tables(replica)


def test_csv_exports_stream_from_the_replica_when_there_is_one(settings):
    from config.web import csv_response

    Product.objects.create(name="Exported", type="FIXED")

    def export():
        response = csv_response("p.csv", ["name"], Product.objects.values_list("name"))
        return b"".join(response.streaming_content).decode()

    with CaptureQueriesContext(connections["replica"]) as replica:
        assert "Exported" in export()
    assert len(replica) == 0  # off by default

    settings.READ_REPLICA_ALIAS = "replica"
    with (
        CaptureQueriesContext(connections["replica"]) as replica,
        CaptureQueriesContext(connections["default"]) as default,
    ):
        assert "Exported" in export()
    assert '"packages_app_product"' in _tables(replica)
    assert '"packages_app_product"' not in _tables(default)


def test_the_cohort_chart_and_csv_raw_sql_read_from_the_replica(client, cohort_url, settings):
    from contracts_app.selectors.cohorts import cohort_sizes_over_time

    settings.READ_REPLICA_ALIAS = "replica"
    package_id = cohort_url.split("/")[2]
    now = timezone.now()
    # the chart's one query (raw SQL, which routers do not see) inside replica_reads()
    with CaptureQueriesContext(connections["replica"]) as replica, replica_reads():
        sizes = cohort_sizes_over_time(
            package_ids=[package_id], start=now - dt.timedelta(days=30), end=now, bucket="day"
        )
    assert "generate_series" in _tables(replica)
    assert sizes.totals()[-1] == 3
    # the CSV's COPY runs as the response streams, on the replica's connection
    connections["replica"].close()
    response = client.get(cohort_url.replace("cohort/", "cohort.csv"))
    assert b"".join(response.streaming_content).count(b"Customer ") == 3
    assert connections["replica"].connection is not None
