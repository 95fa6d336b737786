"""customers_resolve: the migration wizard's customers named by people (ids, external ids or
ingest aliases, names in any case), each found once, unknown and ambiguous ones reported."""

import uuid

import pytest
from django.utils import timezone

from contracts_app.models import Customer
from contracts_app.selectors.customers import customers_resolve
from contracts_app.services.customers import customer_create

pytestmark = pytest.mark.django_db


def test_ids_external_ids_aliases_and_names_resolve_in_two_queries(django_assert_num_queries):
    acme = customer_create(name="Acme Corp", external_id="acme-42", ingest_aliases=["acme-usage"])
    globex = customer_create(name="Globex Inc")
    initech = customer_create(name="Initech")
    customer_create(name="Twin")
    customer_create(name="Twin")
    gone = customer_create(name="Gone Ltd")
    Customer.objects.filter(id=gone.id).update(archived_at=timezone.now())
    stranger = str(uuid.uuid4())
    entries = [str(initech.id), "acme-42", "acme-usage", "GLOBEX inc", "twin", stranger, "gone ltd"]

    with django_assert_num_queries(2):
        lookup = customers_resolve(entries=entries)

    assert list(lookup.found) == [str(initech.id), "acme-42", "acme-usage", "GLOBEX inc"]
    assert lookup.ids == [str(initech.id), str(acme.id), str(globex.id)]
    assert lookup.unknown == [stranger, "gone ltd"]  # archived customers are not found by name
    assert lookup.ambiguous == {"twin": 2}
    # an archived customer is still found by its id (the API's customer ids include them)
    assert customers_resolve(entries=[str(gone.id)]).ids == [str(gone.id)]
