"""The customer calls missing so far, through the official SDK in strict mode: setName,
setIngestAliases, updateConfig."""

from __future__ import annotations

import metronome
import pytest

from contracts_app.models import Customer
from tests.contracts_app.contract_builders import make_customer


@pytest.fixture
def customer(transactional_db):
    return make_customer("Acme", ingest_aliases=["acme-old"])


def test_set_name(sdk, customer):
    answer = sdk.v1.customers.set_name(customer_id=str(customer.id), name="Acme GmbH " + "x" * 200)
    assert answer.data.id == str(customer.id)
    assert answer.data.name == ("Acme GmbH " + "x" * 200)[:160]
    assert sdk.v1.customers.retrieve(customer_id=str(customer.id)).data.name == answer.data.name
    with pytest.raises(metronome.BadRequestError) as blank:
        sdk.v1.customers.set_name(customer_id=str(customer.id), name="  ")
    assert blank.value.body["field"] == "name"
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.customers.set_name(customer_id="00000000-0000-4000-8000-000000000000", name="x")


def test_set_ingest_aliases_replaces_them_and_refuses_taken_ones(sdk, customer):
    sdk.v1.customers.set_ingest_aliases(customer_id=str(customer.id), ingest_aliases=["a", "b"])
    assert sdk.v1.customers.retrieve(customer_id=str(customer.id)).data.ingest_aliases == [
        "a",
        "b",
    ]
    # idempotent
    sdk.v1.customers.set_ingest_aliases(customer_id=str(customer.id), ingest_aliases=["a", "b"])
    other = make_customer("Other", external_id="other-ext")
    with pytest.raises(metronome.ConflictError) as taken:
        sdk.v1.customers.set_ingest_aliases(
            customer_id=str(other.id), ingest_aliases=["fresh", "b"]
        )
    assert taken.value.body["field"] == "ingest_aliases[1]"
    assert Customer.objects.get(id=other.id).ingest_aliases == []
    with pytest.raises(metronome.BadRequestError) as wrong:
        sdk.v1.customers.set_ingest_aliases(
            customer_id=str(customer.id), ingest_aliases=["a"], extra_body={"ingest_alias": 1}
        )
    assert "ingest_alias" in str(wrong.value.body)


def test_update_config_sets_and_clears(sdk, customer):
    sdk.v1.customers.update_config(
        customer_id=str(customer.id),
        salesforce_account_id="0015000000XyZ",
        leave_stripe_invoices_in_draft=True,
    )
    detail = sdk.v1.customers.retrieve(customer_id=str(customer.id)).data
    assert detail.customer_config.salesforce_account_id == "0015000000XyZ"
    assert Customer.objects.get(id=customer.id).details["customer_config"] == {
        "salesforce_account_id": "0015000000XyZ",
        "leave_stripe_invoices_in_draft": True,
    }
    sdk.v1.customers.update_config(customer_id=str(customer.id), salesforce_account_id=None)
    detail = sdk.v1.customers.retrieve(customer_id=str(customer.id)).data
    assert detail.customer_config.salesforce_account_id is None


def test_customer_calls_need_the_change_permission(sdk_for, customer):
    reader = sdk_for("contracts_app.view_customer")
    with pytest.raises(metronome.PermissionDeniedError):
        reader.v1.customers.set_name(customer_id=str(customer.id), name="x")
    with pytest.raises(metronome.PermissionDeniedError):
        reader.v1.customers.update_config(customer_id=str(customer.id), salesforce_account_id="x")


def test_each_customer_call_is_one_audit_entry(sdk, customer):
    from config.audit.models import AuditLogEntry

    sdk.v1.customers.set_name(customer_id=str(customer.id), name="Renamed")
    sdk.v1.customers.set_ingest_aliases(customer_id=str(customer.id), ingest_aliases=["n"])
    sdk.v1.customers.update_config(customer_id=str(customer.id), salesforce_account_id="sf")
    entries = AuditLogEntry.objects.filter(resource_id=str(customer.id)).order_by("timestamp")
    assert [e.action for e in entries] == ["set_name", "set_ingest_aliases", "update_config"]
    assert entries[0].changes == {"name": {"before": "Acme", "after": "Renamed"}}
