"""The audit trail: same transaction as the write, append-only, every channel (admin, commands,
Celery tasks, browser), request ids, and the /activity/ and History pages."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction

from config.audit.context import audit_actor
from config.audit.models import AuditLogEntry
from config.celery import app as celery_app
from contracts_app.models import Customer
from packages_app.models import CreditType, Package
from packages_app.services.credit_types import credit_type_create
from tests.contracts_app.contract_builders import make_customer, make_package, make_rate_card
from tests.factories import UserFactory, api_post, user_with_token


def _entries(**filters) -> list[AuditLogEntry]:
    return list(AuditLogEntry.objects.filter(**filters).order_by("timestamp", "id"))


# --- same transaction: no phantom entries -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_write_that_fails_after_recording_leaves_no_entry_and_no_row(client):
    # given a package create whose alias is refused after the package row and its entry exist
    make_rate_card()
    _, token = user_with_token(superuser=True)
    body = {
        "name": "Doomed",
        "rate_card_id": str(make_rate_card("Doomed rates").id),
        "aliases": [
            {
                "name": "doomed",
                "starting_at": "2024-02-01T00:00:00Z",
                "ending_before": "2024-01-01T00:00:00Z",
            }
        ],
    }
    # when
    response = api_post(client, token, "/v1/packages/create", body)
    # then the request failed as a whole: neither the package nor its entry was committed
    assert response.status_code == 400, response.content
    assert not Package.objects.filter(name="Doomed").exists()
    assert not _entries(resource_type="package")


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_service_call_leaves_no_entry():
    # given / when a service's write rolled back by its caller
    with pytest.raises(RuntimeError), transaction.atomic():
        credit_type_create(name="Phantom")
        assert _entries(resource_type="credit_type")  # recorded inside the transaction
        raise RuntimeError("the caller gives up")
    # then
    assert not CreditType.objects.filter(name="Phantom").exists()
    assert not _entries(resource_type="credit_type")


@pytest.mark.django_db(transaction=True)
def test_a_refused_duplicate_records_only_the_first_write(client):
    # given
    make_rate_card()
    _, token = user_with_token(superuser=True)
    body = {"name": "Once", "rate_card_id": str(make_rate_card("r").id), "uniqueness_key": "k1"}

    def create():
        return api_post(client, token, "/v1/packages/create", body)

    # when the same key is sent twice
    assert create().status_code == 200
    assert create().status_code == 409
    # then one package, one entry
    assert len(_entries(resource_type="package", action="create")) == 1


def test_recording_outside_a_transaction_is_refused(transactional_db):
    from config.audit.services import audit_record

    with pytest.raises(RuntimeError, match="inside the write's transaction"):
        audit_record(action="create", resource_type="thing", resource_id="1")


# --- append-only --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_entries_cannot_be_updated_or_deleted_even_in_sql():
    # given an entry
    with audit_actor(name="test"):
        credit_type_create(name="Tokens")
    entry = _entries(resource_type="credit_type")[0]
    # when / then: the ORM and plain SQL are refused by the database
    for attempt in (
        lambda: AuditLogEntry.objects.filter(pk=entry.pk).update(action="tampered"),
        lambda: AuditLogEntry.objects.filter(pk=entry.pk).delete(),
        lambda: connection.cursor().execute(
            "UPDATE audit_auditlogentry SET actor_name = 'someone else'"
        ),
        lambda: connection.cursor().execute("DELETE FROM audit_auditlogentry"),
    ):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            attempt()
    entry.refresh_from_db()
    assert (entry.action, entry.actor_name) == ("create", "test")


@pytest.fixture
def admin_client(client, db):
    user = UserFactory(is_superuser=True, is_staff=True, username="root")
    client.force_login(user)
    client.user = user
    return client


def test_admin_shows_entries_read_only_and_cannot_delete_them(admin_client):
    # given
    with audit_actor(name="test"):
        credit_type_create(name="Tokens")
    entry = _entries()[0]
    # when / then: listed and shown, but neither changeable nor deletable
    assert admin_client.get("/admin/audit/auditlogentry/").status_code == 200
    page = admin_client.get(f"/admin/audit/auditlogentry/{entry.pk}/change/")
    assert page.status_code == 200
    assert b'name="action"' not in page.content  # no editable field
    assert admin_client.get(f"/admin/audit/auditlogentry/{entry.pk}/delete/").status_code == 403
    posted = admin_client.post(
        "/admin/audit/auditlogentry/",
        {"action": "delete_selected", "_selected_action": [str(entry.pk)]},
    )
    assert posted.status_code in (200, 302)
    assert AuditLogEntry.objects.filter(pk=entry.pk).exists()


# --- admin writes -------------------------------------------------------------------------------


def test_an_admin_edit_records_before_and_after(admin_client):
    # given
    customer = make_customer(name="Old name")
    # when the customer is renamed in the admin
    response = admin_client.post(
        f"/admin/contracts_app/customer/{customer.pk}/change/",
        {
            "name": "New name",
            "custom_fields": "{}",
            "billing_provider_configurations-TOTAL_FORMS": "0",
            "billing_provider_configurations-INITIAL_FORMS": "0",
        },
        HTTP_USER_AGENT="browser/1",
    )
    # then
    assert response.status_code == 302, response.content.decode()[:2000]
    (entry,) = _entries(resource_type="customer", action="update")
    assert entry.resource_id == str(customer.pk)
    assert entry.changes == {"name": {"before": "Old name", "after": "New name"}}
    assert (entry.channel, entry.actor_user_id, entry.user_agent) == (
        "admin",
        admin_client.user.pk,
        "browser/1",
    )
    assert re.fullmatch(r"[0-9a-f]{32}", entry.request_id)


def test_an_admin_add_and_a_bulk_action_are_recorded(admin_client):
    # when a credit type is added in the admin
    response = admin_client.post("/admin/packages_app/credittype/add/", {"name": "Gems"})
    assert response.status_code == 302
    gems = CreditType.objects.get(name="Gems")
    # and three customers are archived with the bulk action
    customers = [make_customer(name=f"c{i}") for i in range(3)]
    admin_client.post(
        "/admin/contracts_app/customer/",
        {"action": "archive_selected", "_selected_action": [str(c.pk) for c in customers]},
    )
    # then: one entry for the add, one per archived customer
    (added,) = _entries(resource_type="credit_type", action="create")
    assert (added.resource_id, added.channel) == (str(gems.pk), "admin")
    archived = _entries(resource_type="customer", action="archive")
    assert sorted(e.resource_id for e in archived) == sorted(str(c.pk) for c in customers)
    assert Customer.objects.filter(archived_at__isnull=False).count() == 3


def test_a_user_permission_change_in_admin_is_recorded(admin_client):
    # given
    user = UserFactory(username="pat")
    # when pat is made staff in the admin
    response = admin_client.post(
        f"/admin/auth/user/{user.pk}/change/",
        {
            "username": "pat",
            "is_active": "on",
            "is_staff": "on",
            "date_joined_0": "2024-01-01",
            "date_joined_1": "00:00:00",
        },
    )
    # then
    assert response.status_code == 302, response.content.decode()[:3000]
    (entry,) = _entries(resource_type="user", action="update")
    assert entry.changes["is_staff"] == {"before": False, "after": True}


def test_a_password_change_in_admin_is_recorded_without_the_password(admin_client):
    # given
    user = UserFactory(username="sam")
    # when an admin sets sam's password on the admin's own page
    response = admin_client.post(
        f"/admin/auth/user/{user.pk}/password/",
        {"password1": "a-Long-new-pass-42", "password2": "a-Long-new-pass-42"},
    )
    # then
    assert response.status_code == 302, response.content.decode()[:3000]
    user.refresh_from_db()
    assert user.check_password("a-Long-new-pass-42")
    (entry,) = _entries(resource_type="user", action="change_password")
    assert entry.resource_id == str(user.pk)
    assert "a-Long-new-pass-42" not in json.dumps(entry.changes) + entry.description


# --- commands and Celery tasks ------------------------------------------------------------------


@pytest.mark.django_db
def test_audit_actor_names_who_writes_outside_a_request():
    # when a command or job writes under audit_actor
    user = UserFactory(username="ops", first_name="Olga", last_name="Ops")
    with audit_actor(name="nightly import"):
        credit_type_create(name="A")
    with audit_actor(user):
        credit_type_create(name="B")
    # then
    first, second = _entries(resource_type="credit_type")
    assert (first.actor_name, first.actor_user_id, first.channel) == (
        "nightly import",
        None,
        "system",
    )
    assert (second.actor_name, second.actor_user_id) == ("Olga Ops", user.pk)


@pytest.mark.django_db
def test_a_management_command_write_is_recorded_with_a_system_actor():
    # when
    UserFactory(username="robot")
    call_command("create_api_token", "robot", stdout=open("/dev/null", "w"))  # noqa: SIM115
    # then
    (entry,) = _entries(resource_type="api_token", action="create")
    assert entry.channel == "system" and entry.actor_name
    assert entry.actor_user_id is None


@celery_app.task(name="tests.audit.write_credit_type")
def _write_credit_type(name: str) -> None:
    credit_type_create(name=name)


@pytest.mark.django_db
def test_a_celery_task_write_is_attributed_to_the_task():
    # when the task runs (its prerun/postrun signals fire as in a worker)
    result = _write_credit_type.apply(args=["From a task"])
    # then
    (entry,) = _entries(resource_type="credit_type")
    assert entry.channel == "task"
    assert entry.actor_name == "task tests.audit.write_credit_type"
    assert entry.request_id == result.id


# --- request ids --------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sent", "kept"),
    [(None, False), ("abc-123", True), ("bad id with spaces", False), ("x" * 300, False)],
)
def test_every_response_carries_a_request_id(client, sent, kept):
    headers = {"HTTP_X_REQUEST_ID": sent} if sent else {}
    response = client.get("/healthz", **headers)
    request_id = response["X-Request-Id"]
    if kept:
        assert request_id == sent
    else:
        assert re.fullmatch(r"[0-9a-f]{32}", request_id)


# --- /activity/ and History ---------------------------------------------------------------------


def _seed(count: int) -> Package:
    package = make_package(name="Starter")
    with audit_actor(name="seed"), transaction.atomic():
        from config.audit.services import audit_record

        for index in range(count):
            audit_record(
                action="update",
                resource_type="package",
                resource_id=package.pk,
                changes={"name": {"before": f"v{index}", "after": f"v{index + 1}"}},
            )
    return package


@pytest.mark.parametrize("count", [1, 60])
def test_activity_page_costs_the_same_queries_and_pages(
    admin_client, count, django_assert_max_num_queries
):
    _seed(count)
    # when
    with django_assert_max_num_queries(6):
        response = admin_client.get("/activity/", {"resource_type": "package"})
    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("<tr>") - 1 == min(count, 50)  # one header row
    assert ("Older →" in html) == (count > 50)


def _without_tokens(html: str) -> str:
    """The page less its random CSRF tokens (64 letters and digits), which may spell "v2"."""
    return re.sub(r"[A-Za-z0-9]{32,}", "", html)


def test_activity_filters_live_in_the_url(admin_client):
    # given two resources and two actors
    package = _seed(2)
    with audit_actor(name="robot"):
        credit_type_create(name="Gems")
    # when / then
    by_resource = _without_tokens(
        admin_client.get(
            "/activity/", {"resource_type": "package", "resource_id": str(package.pk)}
        ).content.decode()
    )
    assert "Gems" not in by_resource and "v2" in by_resource
    by_actor = _without_tokens(admin_client.get("/activity/", {"actor": "robot"}).content.decode())
    assert "credit_type" in by_actor and "v2" not in by_actor
    tomorrow = (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).date().isoformat()
    future = admin_client.get("/activity/", {"since": tomorrow}).content.decode()
    assert "No activity matches" in future
    # a paged cursor keeps the filters
    _seed(55)
    first = admin_client.get("/activity/", {"resource_type": "package"}).content.decode()
    older = re.search(r'href="(\?[^"]*after=[^"]+)"', first).group(1).replace("&amp;", "&")
    assert "resource_type=package" in older
    second = admin_client.get("/activity/" + older)
    assert second.status_code == 200 and "← Newest" in second.content.decode()


def test_activity_needs_the_permission(client, db):
    client.force_login(UserFactory(username="viewer"))
    assert client.get("/activity/").status_code == 403
    client.logout()
    assert client.get("/activity/").status_code == 302  # to the login page


def test_package_page_shows_its_history(admin_client):
    # given
    package = _seed(3)
    # when
    page = admin_client.get(f"/packages/{package.pk}/").content.decode()
    fragment = admin_client.get(f"/activity/history/package/{package.pk}/").content.decode()
    # then the page loads the History fragment, which lists the package's entries
    assert f"/activity/history/package/{package.pk}/" in page
    assert fragment.count("<tr>") == 1 + 3
    assert "v3" in fragment and "All activity on this package" in fragment


@pytest.mark.django_db
@pytest.mark.parametrize("count", [2, 40])
def test_audit_log_api_and_history_cost_fixed_queries(client, count, django_assert_max_num_queries):
    # given
    package = _seed(count)
    _, token = user_with_token(superuser=True)
    # when / then: the token (with its user) and the page, whatever the number of entries
    with django_assert_max_num_queries(2):
        response = client.get("/v1/auditLogs", {"limit": 100}, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert len(response.json()["data"]) == count + 1  # the token's own creation
    client.force_login(UserFactory(is_superuser=True, username="viewer"))
    with django_assert_max_num_queries(4):  # session, user, the entries (+ savepoint slack)
        fragment = client.get(f"/activity/history/package/{package.pk}/")
    assert fragment.content.decode().count("<tr>") == 1 + min(count, 20)


@pytest.mark.django_db
def test_writes_outside_any_context_share_the_run_id():
    # when a command writes twice without naming an actor
    credit_type_create(name="A")
    credit_type_create(name="B")
    # then both entries carry one run id and a system actor
    first, second = _entries(resource_type="credit_type")
    assert first.request_id == second.request_id != ""
    assert first.channel == "system"


@pytest.mark.django_db
def test_a_renewal_records_the_new_contract_and_the_link_on_the_old_one():
    from contracts_app.services.provisioning import contract_provision

    # given a one-year contract
    customer, package = make_customer(), make_package(duration_unit="YEARS", duration_value=1)
    jan = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    old = contract_provision(customer=customer, package=package, starting_at=jan)
    # when it is superseded half-way
    new = contract_provision(
        customer=customer,
        package=package,
        starting_at=jan.replace(month=7),
        transition={"type": "RENEWAL", "from_contract_id": str(old.id)},
    )
    # then: the old contract's end move and its link, and the new contract
    old_entries = [e.action for e in _entries(resource_type="contract", resource_id=str(old.id))]
    assert old_entries == ["create", "update_end_date", "transition"]
    (link,) = _entries(resource_id=str(old.id), action="transition")
    assert link.changes == {"to_contract_id": str(new.id), "type": "RENEWAL"}
    assert [e.action for e in _entries(resource_id=str(new.id))] == ["create"]
