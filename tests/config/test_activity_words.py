"""/activity/ and the History fragments: words, names with links, one row per batch, and a
page cost that does not grow with the batch (the browser flow: tests/browser/)."""

import datetime as dt
import re

import pytest
from django.core.management import call_command

from config.audit.context import audit_actor
from config.audit.models import AuditLogEntry
from contracts_app.services.provisioning import contract_provision
from packages_app.services.aliases import alias_assign
from tests.builders.migrations import create_migration
from tests.contracts_app.cohort_builders import bulk_cohort, run_to_end, two_packages
from tests.contracts_app.contract_builders import make_customer
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
START = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
MOVE = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)
JAN = dt.datetime(2027, 1, 1, tzinfo=dt.UTC)


@pytest.fixture
def reader(client):
    client.force_login(UserFactory(is_superuser=True))
    return client


def _visible(html: str) -> str:
    """The text a person reads (attributes such as href dropped)."""
    return re.sub(r"<[^>]+>", " ", html)


def test_an_alias_history_names_its_package_with_a_link_and_no_ids(reader):
    source, _ = two_packages()
    alias = alias_assign(kind="package", name="Starter Plan", package=source, starting_at=START)
    html = reader.get(f"/activity/history/alias/{alias.alias_name_id}/").content.decode()
    assert f'<a href="/packages/{source.id}/">{source.name}</a>' in html
    text = _visible(html)
    assert "package_id" not in text and "rate_card_id" not in text and not UUID.search(text)
    assert "All activity on this alias →" in text and "Scheduled" in text


def test_a_renewal_is_listed_entry_by_entry(reader):
    source, _ = two_packages()
    first = contract_provision(customer=make_customer("Acme"), starting_at=START, package=source)
    contract_provision(
        customer=first.customer,
        package=source,
        starting_at=first.ending_before,
        transition={"from_contract_id": str(first.id), "type": "RENEWAL"},
    )
    html = reader.get("/activity/").content.decode()
    assert "batch-row" not in html
    assert "Followed by a new contract" in html and html.count("<td>Created</td>") == 2


@pytest.mark.parametrize("size", [12, 60])
def test_a_migration_is_one_row_and_the_page_costs_the_same_whatever_its_size(
    reader, size, django_assert_max_num_queries
):
    source, target = two_packages()
    bulk_cohort(source, size, start=START)
    migration = create_migration(
        source, target, effective={"type": "AT", "at": MOVE}, name="Starter v1 → v2"
    )
    run_to_end(migration, batch_size=500)
    with django_assert_max_num_queries(12):
        html = reader.get("/activity/").content.decode()
    assert html.count('class="batch-row"') == 1
    assert f"Cohort migration “Starter v1 → v2” moved {size} contracts" in html
    # expanded in place: the batch's entries, in words
    xact = re.search(r"\?xact=(\d+)", html).group(1)
    members = reader.get(
        f"/activity/?xact={xact}", HTTP_HX_REQUEST="true", HTTP_HX_TARGET=f"group-{xact}"
    ).content.decode()
    assert members.count("<tr><td>") >= min(50, 3 * size)  # (+ the job's own, one transaction here)
    assert "<html" not in members


def test_a_replaced_rate_is_named_with_its_change_in_words(reader):
    from packages_app.services.rate_cards import rate_add
    from tests.contracts_app.contract_builders import make_product, make_rate_card

    card, product = make_rate_card("Standard rates"), make_product("API calls")
    rate = {"product_id": str(product.id), "entitled": True, "rate_type": "FLAT"}
    rate_add(rate_card_id=card.id, rate={**rate, "price": 10, "starting_at": JAN})
    rate_add(rate_card_id=card.id, rate={**rate, "price": 12, "starting_at": JAN})
    text = _visible(reader.get(f"/activity/history/rate_card/{card.id}/").content.decode())
    assert "Rates replaced" in text and "API calls from 2027-01-01: Price 10 → 12" in text
    assert not UUID.search(text)


def test_a_resource_type_outside_the_select_still_filters(reader):
    from django.db import transaction

    from config.audit.services import audit_record

    with transaction.atomic():
        audit_record(
            action="update", resource_type="contract_term", resource_id="t-1", changes={"x": 1}
        )
        audit_record(action="update", resource_type="package", resource_id="p-1", changes={"x": 2})
    response = reader.get("/activity/?resource_type=contract_term")
    assert [row.entry.resource_type for row in response.context["rows"]] == ["contract_term"]
    assert "Contract term" in response.content.decode()


def test_a_command_or_a_script_is_named_as_a_reader_expects(reader, monkeypatch):
    """The Who column of a write with no request or task: the management command by its name,
    a `python -c` script as a command-line job (its argv[0], "-c", said nothing)."""
    UserFactory(username="robot")
    monkeypatch.setattr("sys.argv", ["-c"])
    # a command run from a script (call_command), then the script's own write
    call_command("create_api_token", "robot", stdout=open("/dev/null", "w"))  # noqa: SIM115
    package = two_packages()[0]
    alias_assign(kind="package", name="Script plan", package=package, starting_at=START)
    # and an entry recorded before the interpreter's flag was named
    with audit_actor(name="-c"):
        alias_assign(kind="package", name="Old plan", package=package, starting_at=START)
    names = set(AuditLogEntry.objects.values_list("actor_name", flat=True))
    assert {"manage.py create_api_token", "python -c", "-c"} <= names
    html = reader.get("/activity/").content.decode()
    text = _visible(html)
    assert "command: create_api_token" in text and text.count("a command-line job") >= 2
    assert not re.search(r">\s*-c\s*<", html) and "python -c" not in text
