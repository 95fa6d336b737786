"""The contract page's edit history and edit forms: each form goes through the v2
contracts/edit serializer and service, and what it stored is read back through the API."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from config.audit.models import AuditLogEntry
from contracts_app.models import ContractEdit, ContractTerm
from contracts_app.services.contract_edits import contract_edit
from contracts_app.services.provisioning import contract_provision
from tests.contracts_app import contract_builders as build
from tests.contracts_app.contract_builders import at, credit_term, override_term
from tests.factories import UserFactory, user_with_token

pytestmark = pytest.mark.django_db
START = at(2027, 1, 1)


@pytest.fixture
def tokens():
    return build.make_product("Input tokens", "USAGE")


@pytest.fixture
def contract(tokens):
    package = build.make_package(
        name="Starter v1",
        duration_unit="MONTHS",
        duration_value=12,
        terms=[credit_term(tokens), override_term(tokens)],
    )
    return contract_provision(
        customer=build.make_customer("Initech"), starting_at=START, package=package
    )


@pytest.fixture
def editor(pricing_client):
    return pricing_client


@pytest.fixture
def api_get():
    """The stored contract as `POST /v2/contracts/get` returns it (a client of its own)."""
    _, token = user_with_token(superuser=True)
    api = Client()

    def get(contract) -> dict:
        response = api.post(
            "/v2/contracts/get",
            data=json.dumps(
                {"customer_id": str(contract.customer_id), "contract_id": str(contract.id)}
            ),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert response.status_code == 200, response.content
        return response.json()["data"]

    return get


def page_of(client, contract) -> str:
    response = client.get(f"/contracts/{contract.id}/")
    assert response.status_code == 200
    return response.content.decode()


def key_of(html: str, kind: str) -> str:
    """The uniqueness key rendered into one edit form."""
    form = html[html.index(f'id="edit-{kind}"') :]
    return re.search(rf'name="{kind}-uniqueness_key" value="([^"]+)"', form).group(1)


def post_form(client, contract, kind: str, fields: dict, *, key: str | None = None, **extra):
    data = {f"{kind}-{name}": value for name, value in fields.items()}
    if key is not None:
        data[f"{kind}-uniqueness_key"] = key
    return client.post(f"/contracts/{contract.id}/edits/{kind}/", data, **extra)


def post_from_the_page(client, contract, kind: str, fields: dict, max_queries):
    """Post one edit form with the uniqueness key its page rendered, in a pinned number of queries."""
    key = key_of(page_of(client, contract), kind)
    with max_queries(16):  # the edit, plus its webhook event (the outbox row)
        return post_form(client, contract, kind, fields, key=key)


def counts(contract) -> tuple[int, int, int]:
    return (
        ContractEdit.objects.filter(contract=contract).count(),
        ContractTerm.objects.filter(contract=contract).count(),
        AuditLogEntry.objects.filter(resource_id=str(contract.id)).count(),
    )


def error_beside(html: str, field_id: str) -> str:
    """The error text rendered in the input's own field wrapper, right after the input."""
    rest = html[html.index(f'id="{field_id}"') :]
    wrapper = rest[: rest.index("</div>")]
    match = re.search(r'<span class="error"[^>]*>([^<]+)', wrapper)
    assert match, f"no error beside {field_id}"
    return match.group(1)


# --- happy paths, read back through the API ------------------------------------------------------


def test_add_credit_form_stores_the_credit_the_form_asked_for(
    editor, contract, tokens, api_get, django_assert_max_num_queries
):
    # given the contract page with its forms
    before = {c["id"] for c in api_get(contract)["credits"]}

    # when the credit form is posted
    response = post_from_the_page(
        editor,
        contract,
        "credit",
        {
            "product": tokens.id,
            "amount": "2500",
            "starting_at": "2027-03-01",
            "ending_before": "2027-06-01",
            "priority": "5",
            "name": "Goodwill",
        },
        django_assert_max_num_queries,
    )

    # then it redirects to the page, and the API shows exactly that credit
    assert response.status_code == 302
    assert response["Location"] == f"/contracts/{contract.id}/#edit-history"
    added = [c for c in api_get(contract)["credits"] if c["id"] not in before]
    assert len(added) == 1
    credit = added[0]
    assert credit["product"]["id"] == str(tokens.id) and credit["name"] == "Goodwill"
    assert Decimal(str(credit["priority"])) == 5
    (item,) = credit["access_schedule"]["schedule_items"]
    assert Decimal(str(item["amount"])) == 2500
    assert item["starting_at"].startswith("2027-03-01T00:00:00")
    assert item["ending_before"].startswith("2027-06-01T00:00:00")
    # and the page lists the edit in words, with who made it, and the new term on the timeline
    html = editor.get(response["Location"].split("#")[0]).content.decode()
    assert (
        "Added credit on Input tokens: $25.00, usable 2027-03-01 → 2027-06-01; priority 5" in html
    )
    assert "<td>pricing</td>" in html
    assert (
        "Credit added: $25.00 on Input tokens (usage), usable from 2027-03-01 until 2027-06-01"
        in html
    )
    assert "<td>2027-03-01</td><td>2027-06-01</td><td>$25.00</td>" in html


def test_add_commit_form_stores_a_prepaid_commit_with_its_invoice(
    editor, contract, tokens, api_get, django_assert_max_num_queries
):
    response = post_from_the_page(
        editor,
        contract,
        "commit",
        {
            "product": tokens.id,
            "amount": "100000",
            "invoice_date": "2027-02-01",
            "starting_at": "2027-02-01",
            "ending_before": "2028-01-01",
        },
        django_assert_max_num_queries,
    )
    assert response.status_code == 302
    (commit,) = api_get(contract)["commits"]
    assert commit["type"] == "PREPAID" and commit["product"]["id"] == str(tokens.id)
    (access,) = commit["access_schedule"]["schedule_items"]
    assert Decimal(str(access["amount"])) == 100000
    assert access["starting_at"].startswith("2027-02-01") and access["ending_before"].startswith(
        "2028-01-01"
    )
    (invoice,) = commit["invoice_schedule"]["schedule_items"]
    assert (
        invoice["timestamp"].startswith("2027-02-01") and Decimal(str(invoice["amount"])) == 100000
    )


def test_add_override_form_stores_a_multiplier_for_the_period(
    editor, contract, tokens, api_get, django_assert_max_num_queries
):
    before = {o["id"] for o in api_get(contract)["overrides"]}
    response = post_from_the_page(
        editor,
        contract,
        "override",
        {
            "product": tokens.id,
            "multiplier": "0.8",
            "starting_at": "2027-04-01",
            "ending_before": "2027-07-01",
        },
        django_assert_max_num_queries,
    )
    assert response.status_code == 302
    (override,) = [o for o in api_get(contract)["overrides"] if o["id"] not in before]
    assert override["type"] == "MULTIPLIER" and Decimal(str(override["multiplier"])) == Decimal(
        "0.8"
    )
    assert override["product"]["id"] == str(tokens.id)
    assert override["starting_at"].startswith("2027-04-01")
    assert override["ending_before"].startswith("2027-07-01")
    # by tags instead of a product
    response = post_form(
        editor,
        contract,
        "override",
        {"product_tags": "ai, batch", "multiplier": "0.5", "starting_at": "2027-05-01"},
        key="tags-1",
    )
    assert response.status_code == 302
    tagged = [o for o in api_get(contract)["overrides"] if o.get("applicable_product_tags")]
    assert tagged[0]["applicable_product_tags"] == ["ai", "batch"]
    html = page_of(editor, contract)
    assert (
        "Added override on Input tokens: rates multiplied by 0.8, 2027-04-01 → 2027-07-01" in html
    )
    assert (
        "Added override on tag ai, tag batch: rates multiplied by 0.5, 2027-05-01 → open-ended"
        in html
    )


def test_end_date_form_moves_and_clears_the_end(
    editor, contract, api_get, django_assert_max_num_queries
):
    assert api_get(contract)["ending_before"].startswith("2028-01-01")
    with django_assert_max_num_queries(14):  # the edit, plus its webhook event (the outbox row)
        response = post_form(
            editor, contract, "end-date", {"ending_before": "2027-09-01"}, key="e1"
        )
    assert response.status_code == 302
    assert api_get(contract)["ending_before"].startswith("2027-09-01")
    response = post_form(editor, contract, "end-date", {"open_ended": "on"}, key="e2")
    assert response.status_code == 302
    assert api_get(contract).get("ending_before") is None
    html = page_of(editor, contract)
    assert "End date moved to 2027-09-01" in html and "End date cleared: open-ended" in html
    # newest first
    assert html.index("End date cleared") < html.index("End date moved to")
    assert "→ open-ended" in html


# --- bad input: the error beside its field, nothing written ---------------------------------------


@pytest.mark.parametrize(
    ("fields", "field_id", "message"),
    [
        (
            {"amount": "-5", "starting_at": "2027-03-01", "ending_before": "2027-06-01"},
            "id_credit-amount",
            "Must be 0 or more",
        ),
        (
            {"amount": "5", "starting_at": "2027-06-01", "ending_before": "2027-03-01"},
            "id_credit-ending_before",
            "Must be after the start.",
        ),
        (
            {"amount": "5", "starting_at": "2027-03-01"},
            "id_credit-ending_before",
            "This field is required.",
        ),
        (
            {
                "product": "not-a-product",
                "amount": "5",
                "starting_at": "2027-03-01",
                "ending_before": "2027-06-01",
            },
            "id_credit-product",
            "Select a valid choice",
        ),
    ],
)
def test_bad_credit_input_shows_the_error_beside_the_field_and_writes_nothing(
    editor, contract, tokens, fields, field_id, message
):
    fields = {"product": tokens.id, **fields}
    before = counts(contract)
    response = post_form(editor, contract, "credit", fields, key="bad-1")
    html = response.content.decode()
    assert response.status_code == 200
    assert message in error_beside(html, field_id)
    assert counts(contract) == before
    # the htmx request gets the form alone, with the same error, status 200
    partial = post_form(editor, contract, "credit", fields, key="bad-1", HTTP_HX_REQUEST="true")
    text = partial.content.decode()
    assert partial.status_code == 200 and text.lstrip().startswith('<form id="edit-credit"')
    assert message in error_beside(text, field_id) and counts(contract) == before


def test_errors_of_the_service_land_beside_their_fields(editor, contract, tokens):
    """Paths the serializer and service name (not the form's own checks) map onto inputs."""
    before = counts(contract)
    # an end before the contract's start: contract_ends' ending_before
    html = post_form(
        editor, contract, "end-date", {"ending_before": "2026-06-01"}, key="svc-1"
    ).content.decode()
    assert "after the contract" in error_beside(html, "id_end-date-ending_before")
    # an archived product passes the (live) choices only if it was listed: the service names it
    tokens.archived_at = START
    tokens.save(update_fields=["archived_at"])
    html = post_form(
        editor,
        contract,
        "override",
        {"product": tokens.id, "multiplier": "0.9", "starting_at": "2027-02-01"},
        key="svc-2",
    ).content.decode()
    assert "Select a valid choice" in error_beside(html, "id_override-product")
    # missing everything
    html = post_form(editor, contract, "commit", {}, key="svc-3").content.decode()
    for name in ("product", "amount", "invoice_date", "starting_at", "ending_before"):
        assert "required" in error_beside(html, f"id_commit-{name}")
    assert counts(contract) == before


def test_override_needs_a_product_or_tags_and_end_after_start(editor, contract, tokens):
    before = counts(contract)
    html = post_form(
        editor, contract, "override", {"multiplier": "0.9", "starting_at": "2027-02-01"}, key="o"
    ).content.decode()
    assert "one of them" in error_beside(html, "id_override-product")
    html = post_form(
        editor,
        contract,
        "override",
        {"product": tokens.id, "multiplier": "-1", "starting_at": "2027-02-01"},
        key="o",
    ).content.decode()
    assert "greater than or equal to 0" in error_beside(html, "id_override-multiplier")
    assert counts(contract) == before


# --- once only ------------------------------------------------------------------------------------


def test_a_double_submit_makes_one_edit_and_says_already_applied(editor, contract, tokens):
    key = key_of(page_of(editor, contract), "credit")
    fields = {
        "product": tokens.id,
        "amount": "700",
        "starting_at": "2027-03-01",
        "ending_before": "2027-04-01",
    }
    first = post_form(editor, contract, "credit", fields, key=key)
    edits, terms, audits = counts(contract)
    second = post_form(editor, contract, "credit", fields, key=key, HTTP_HX_REQUEST="true")
    assert first.status_code == 302 and second.status_code == 200
    # htmx gets the page's body again, saying so, in place of a redirect
    assert second["HX-Retarget"] == "#contract-body"
    assert "already applied" in second.content.decode()
    assert counts(contract) == (edits, terms, audits) and edits == 1
    # one audit entry for the edit, attributed to the browser's user
    entry = AuditLogEntry.objects.get(resource_id=str(contract.id), action="edit")
    assert entry.actor_user.username == "pricing" and entry.channel != "api"
    html = page_of(editor, contract)
    assert "already applied" not in html  # said once, not again on a later page
    # a fresh render carries a fresh key
    assert key_of(html, "credit") != key


# --- permissions ----------------------------------------------------------------------------------


def test_pages_and_forms_need_login_and_change_contract(client, contract, tokens):
    url = f"/contracts/{contract.id}/edits/credit/"
    fields = {"credit-product": tokens.id, "credit-amount": "5"}
    assert client.get(f"/contracts/{contract.id}/")["Location"].startswith("/login/")
    assert client.post(url, fields)["Location"].startswith("/login/")
    viewer = UserFactory(username="viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_contract"))
    client.force_login(viewer)
    html = page_of(client, contract)
    assert "Edit history" in html and 'id="edit-credit"' not in html
    assert "Edit this contract" not in html
    before = counts(contract)
    for kind in ("credit", "commit", "override", "end-date"):
        assert client.post(f"/contracts/{contract.id}/edits/{kind}/", fields).status_code == 403
    assert counts(contract) == before
    viewer.user_permissions.add(Permission.objects.get(codename="change_contract"))
    html = page_of(_logged_in(viewer), contract)
    assert all(f'id="edit-{kind}"' in html for kind in ("credit", "commit", "override", "end-date"))


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_unknown_form_kind_is_404(editor, contract):
    assert editor.post(f"/contracts/{contract.id}/edits/rename/", {}).status_code == 404
    assert editor.get(f"/contracts/{contract.id}/edits/credit/").status_code == 302


# --- history and query counts --------------------------------------------------------------------


def _many_edits(contract, tokens, count: int) -> None:
    for index in range(count):
        contract_edit(
            contract=contract,
            data={
                "add_credits": [
                    build.credit_edit(tokens, Decimal(100 + index), at(2027, 2, 1), at(2027, 3, 1))
                ],
                "update_contract_name": f"Initech #{index}",
            },
            created_by="sales",
        )


def test_empty_history_says_so(editor, contract):
    html = page_of(editor, contract)
    assert "No edits yet" in html and "Load older edits" not in html


def test_contract_page_queries_are_constant_with_many_edits(
    editor, contract, tokens, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        page_of(editor, contract)
    _many_edits(contract, tokens, 25)
    with django_assert_max_num_queries(8):
        html = page_of(editor, contract)
    # newest first, a page of 20, then "Load older edits" (keyset) for the rest
    assert html.count("Renamed to “Initech #") == 20
    assert html.index("Initech #24") < html.index("Initech #23")
    more = re.search(r'href="(/contracts/[^"]+/edits/\?after=[^"]+)"', html).group(1)
    with django_assert_max_num_queries(4):
        rows = editor.get(more.replace("&amp;", "&"), HTTP_HX_REQUEST="true").content.decode()
    assert rows.count("Renamed to") == 5 and "Initech #4" in rows and "Load older" not in rows
    assert "Initech #0" in rows and "Initech #5" not in rows
    # without JS the link opens a page of its own
    assert "Edit history" in editor.get(more.replace("&amp;", "&")).content.decode()
    # a forged cursor starts from the newest
    assert "Initech #24" in editor.get(f"/contracts/{contract.id}/edits/?after=zz").content.decode()


def test_an_archive_refused_for_htmx_is_its_rows_form_again_with_the_reason(editor, contract):
    """A term no edit added (the package's credit): the archive button's own fragment comes
    back open, naming why, with the term it was for; nothing is written."""
    term = ContractTerm.objects.filter(contract=contract).first()
    before = counts(contract)
    response = post_form(
        editor, contract, "archive", {"term": str(term.id)}, key="ui-x", HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<main" not in html
    assert html.lstrip().startswith('<details class="confirm" open>')
    assert "This term was not added by an edit, or is already archived." in html
    assert f'name="archive-term" value="{term.id}"' in html
    assert counts(contract) == before
