"""Browser and API agree (issue 17): every form that submits through a service is fed the same
inputs as the API it stands for, one table per form, and both refuse or both accept (and what
both accept is stored alike). Refused means: the API answers 400 naming a field, the page
answers 200 with the form again and its error, and neither wrote anything.

Also the checks of issue 17's defects 3 (one rule for amounts: `packages_app.amounts`) and 4
(edits and the contract's window: `contract_edit_terms.in_contract_window`)."""

from __future__ import annotations

import json
import re

import pytest

from config.audit.models import AuditLogEntry
from contracts_app.models import Contract, ContractEdit, ContractTerm, Customer
from contracts_app.services.provisioning import contract_provision
from packages_app.models import USD_CENTS_ID, Package, Rate
from tests.contracts_app import contract_builders as build
from tests.contracts_app.contract_builders import at, credit_term

pytestmark = pytest.mark.django_db
START, END = at(2027, 1, 1), at(2028, 1, 1)  # the contracts below: 12 months from START


# --- the two channels --------------------------------------------------------------------------


@pytest.fixture
def api(post):
    """POST a JSON body to the API as a superuser's token; the response."""
    return post


@pytest.fixture
def browser(pricing_client):
    return pricing_client


@pytest.fixture
def tokens():
    build.make_rate_card()  # seeds USD cents
    return build.make_product("Input tokens", "USAGE")


def twelve_months(tokens, name: str) -> Contract:
    package = build.make_package(
        name=f"Starter {name}",
        duration_unit="MONTHS",
        duration_value=12,
        terms=[credit_term(tokens)],
    )
    return contract_provision(
        customer=build.make_customer(name), starting_at=START, package=package
    )


@pytest.fixture
def contracts(tokens):
    """Two identical contracts: one edited through the API, one through the page."""
    return twelve_months(tokens, "API"), twelve_months(tokens, "Page")


def instant(day: str | None) -> str | None:
    """A form's date as the API takes it (midnight UTC); malformed dates stay malformed."""
    return None if day is None else f"{day}T00:00:00Z"


def kept(mapping: dict) -> dict:
    """A body or form without its missing (None) values: a missing field is not sent."""
    return {key: value for key, value in mapping.items() if value is not None}


def error_beside(html: str, field_id: str) -> str:
    """The error rendered in the input's own field wrapper ("" when there is none)."""
    rest = html[html.index(f'id="{field_id}"') :]
    match = re.search(r'<span class="error"[^>]*>([^<]+)', rest[: rest.index("</div>")])
    return match.group(1) if match else ""


def assert_agree(api_response, page_response, *, accepted: bool) -> None:
    if accepted:
        assert api_response.status_code == 200, api_response.content
        assert page_response.status_code == 302, page_response.content.decode()[-3000:]
    else:
        assert api_response.status_code == 400, api_response.content
        assert api_response.json().get("field"), api_response.json()
        assert page_response.status_code == 200
        assert 'class="error"' in page_response.content.decode()


# --- contract edit forms ↔ v2/contracts/edit ----------------------------------------------------


def period_form(product: str, v: dict, **fields) -> dict:
    """An edit form's fields: the product, the form's own `fields`, and the period asked."""
    return kept(
        {
            "product": product,
            **fields,
            "starting_at": v.get("from"),
            "ending_before": v.get("until"),
        }
    )


def period_term(v: dict) -> dict:
    """The same period as the API's instants."""
    return {"starting_at": instant(v.get("from")), "ending_before": instant(v.get("until"))}


def credit_inputs(product: str, v: dict) -> tuple[dict, dict]:
    """(form fields, the add_credits entry) of the same values."""
    form = period_form(product, v, amount=v.get("amount"))
    item = kept({"amount": v.get("amount"), **period_term(v)})
    return form, {"product_id": product, "access_schedule": {"schedule_items": [item]}}


def commit_inputs(product: str, v: dict) -> tuple[dict, dict]:
    form, term = credit_inputs(product, v)
    form = kept({**form, "invoice_date": v.get("invoiced")})
    point = kept(
        {"timestamp": instant(v.get("invoiced")), "quantity": 1, "unit_price": v.get("amount")}
    )
    return form, {**term, "type": "PREPAID", "invoice_schedule": {"schedule_items": [point]}}


def override_inputs(product: str, v: dict) -> tuple[dict, dict]:
    form = period_form(product, v, multiplier=v.get("multiplier"))
    multiplier = float(v["multiplier"]) if v.get("multiplier") else None
    term = kept(
        {"type": "MULTIPLIER", "product_id": product, "multiplier": multiplier, **period_term(v)}
    )
    return form, term


EDIT_FORMS = {
    "credit": ("add_credits", credit_inputs),
    "commit": ("add_commits", commit_inputs),
    "override": ("add_overrides", override_inputs),
}
OK = {"amount": 500, "from": "2027-03-01", "until": "2027-06-01", "invoiced": "2027-03-01"}

EDIT_CASES = [
    # (form, values, accepted, the API's field when refused)
    ("credit", OK, True, None),
    ("credit", {**OK, "amount": 0}, True, None),
    ("credit", {**OK, "amount": -500}, False, "add_credits[0].access_schedule.schedule_items[0].amount"),
    ("credit", {**OK, "amount": None}, False, "add_credits[0].access_schedule.schedule_items[0].amount"),
    ("credit", {**OK, "until": "2027-02-01"}, False, "add_credits[0].access_schedule.schedule_items[0].ending_before"),
    ("credit", {**OK, "from": "2027-02-30"}, False, "add_credits[0].access_schedule.schedule_items[0].starting_at"),
    # wholly after the contract's end, wholly before its start: refused, naming the date
    ("credit", {**OK, "from": "2028-02-01", "until": "2028-05-01"}, False, "add_credits[0].access_schedule.schedule_items[0].starting_at"),
    ("credit", {**OK, "from": "2020-01-01", "until": "2020-06-01"}, False, "add_credits[0].access_schedule.schedule_items[0].ending_before"),
    # overlapping the end: cut at it, as moving the end cuts the terms already there
    ("credit", {**OK, "from": "2027-11-01", "until": "2028-03-01"}, True, None),
    ("commit", OK, True, None),
    ("commit", {**OK, "amount": -5000}, False, "add_commits[0].access_schedule.schedule_items[0].amount"),
    ("commit", {**OK, "invoiced": None}, False, "add_commits[0].invoice_schedule.schedule_items[0].timestamp"),
    ("override", {"multiplier": "0.8", "from": "2027-04-01", "until": "2027-07-01"}, True, None),
    ("override", {"multiplier": "0.8", "from": "2027-04-01"}, True, None),
    ("override", {"multiplier": "-1", "from": "2027-04-01"}, False, "add_overrides[0].multiplier"),
    ("override", {"multiplier": "0.8", "from": None}, False, "add_overrides[0].starting_at"),
    ("override", {"multiplier": "0.8", "from": "2028-06-01"}, False, "add_overrides[0].starting_at"),
]  # fmt: skip


def edited_windows(contract: Contract) -> list[tuple]:
    """What the edits stored, without ids: (kind, starting_at, ending_before, amounts)."""
    rows = ContractTerm.objects.filter(contract=contract, package_term__isnull=True)
    return sorted(
        (
            row.kind,
            row.starting_at,
            row.ending_before,
            json.dumps(
                [
                    {k: v for k, v in item.items() if k != "id"}
                    for key in ("access_schedule", "invoice_schedule")
                    for item in (row.body.get(key) or {}).get("schedule_items") or []
                ],
                sort_keys=True,
            ),
        )
        for row in rows
    )


@pytest.mark.parametrize(
    ("kind", "values", "accepted", "field"),
    EDIT_CASES,
    ids=[f"{case[0]}-{i}" for i, case in enumerate(EDIT_CASES)],
)
def test_contract_edit_forms_and_the_api_agree(
    api, browser, contracts, tokens, kind, values, accepted, field
):
    by_api, by_page = contracts
    edit_field, inputs = EDIT_FORMS[kind]
    form, term = inputs(str(tokens.id), values)
    # when
    api_response = api(
        "/v2/contracts/edit",
        {
            "customer_id": str(by_api.customer_id),
            "contract_id": str(by_api.id),
            edit_field: [term],
        },
    )
    page_response = browser.post(
        f"/contracts/{by_page.id}/edits/{kind}/",
        {f"{kind}-{name}": value for name, value in form.items()},
    )
    # then
    assert_agree(api_response, page_response, accepted=accepted)
    if accepted:
        assert edited_windows(by_api) == edited_windows(by_page) != []
    else:
        assert api_response.json()["field"] == field
        assert not ContractEdit.objects.exists()


END_DATE_CASES = [
    ("2027-09-01", True),
    ("2026-06-01", False),  # before the start
    ("2028-01-01", False),  # the end it already has: an edit that changes nothing
]


@pytest.mark.parametrize(("ending_before", "accepted"), END_DATE_CASES)
def test_end_date_form_and_the_api_agree(api, browser, contracts, ending_before, accepted):
    by_api, by_page = contracts
    api_response = api(
        "/v2/contracts/edit",
        {
            "customer_id": str(by_api.customer_id),
            "contract_id": str(by_api.id),
            "update_contract_end_date": instant(ending_before),
        },
    )
    page_response = browser.post(
        f"/contracts/{by_page.id}/edits/end-date/", {"end-date-ending_before": ending_before}
    )
    assert_agree(api_response, page_response, accepted=accepted)
    by_api.refresh_from_db()
    by_page.refresh_from_db()
    assert by_api.ending_before == by_page.ending_before
    if not accepted:
        assert api_response.json()["field"] == "update_contract_end_date"
        assert error_beside(page_response.content.decode(), "id_end-date-ending_before")


def test_a_negative_amount_is_named_beside_its_input_on_the_contract_page(
    browser, contracts, tokens
):
    _, by_page = contracts
    form, _ = credit_inputs(str(tokens.id), {**OK, "amount": -500})
    html = browser.post(
        f"/contracts/{by_page.id}/edits/credit/",
        {f"credit-{name}": value for name, value in form.items()},
    ).content.decode()
    assert "Must be 0 or more" in error_beside(html, "id_credit-amount")


# --- the package builder ↔ v1/packages/create ---------------------------------------------------

MONTHS = "MONTHS"


def builder_row(kind: str, product: str, v: dict) -> tuple[dict, dict]:
    """(the builder's fields of one row, that term in packages/create) of the same values."""
    usd = str(USD_CENTS_ID)
    if kind == "commits":
        form = {
            "product": product,
            "type": "PREPAID",
            "amount": v.get("amount"),
            "start_value": 0,
            "start_unit": MONTHS,
            "length_value": v.get("length", 3),
            "length_unit": MONTHS,
            "priority": 1,
        }
        term = {
            "product_id": product,
            "type": "PREPAID",
            "priority": 1,
            "access_schedule": {
                "credit_type_id": usd,
                "schedule_items": [
                    kept(
                        {
                            "amount": v.get("amount"),
                            "starting_at_offset": {"unit": "DAYS", "value": 0},
                            "duration": {"unit": MONTHS, "value": v.get("length", 3)},
                        }
                    )
                ],
            },
        }
    elif kind == "recurring_credits":
        form = {
            "product": product,
            "unit_price": v.get("unit_price"),
            "quantity": v.get("quantity", 1),
            "frequency": "MONTHLY",
            "start_value": 0,
            "start_unit": MONTHS,
            "length_value": 3,
            "length_unit": MONTHS,
            "periods_valid": 1,
            "priority": 1,
        }
        term = {
            "product_id": product,
            "priority": 1,
            "access_amount": kept(
                {
                    "credit_type_id": usd,
                    "unit_price": v.get("unit_price"),
                    "quantity": v.get("quantity", 1),
                }
            ),
            "commit_duration": {"value": 1, "unit": "PERIODS"},
            "recurrence_frequency": "MONTHLY",
            "starting_at_offset": {"unit": "DAYS", "value": 0},
            "duration": {"unit": MONTHS, "value": 3},
        }
    else:  # scheduled_charges
        form = {
            "product": v.get("product", product),
            "unit_price": v.get("unit_price"),
            "quantity": 1,
            "at_value": 0,
            "at_unit": MONTHS,
        }
        term = kept(
            {
                "product_id": v.get("product", product),
                "schedule": {
                    "credit_type_id": usd,
                    "schedule_items": [
                        kept(
                            {
                                "date_offset": {"unit": "DAYS", "value": 0},
                                "quantity": 1,
                                "unit_price": v.get("unit_price"),
                            }
                        )
                    ],
                },
            }
        )
    return kept(form), term


BUILDER_CASES = [
    ("commits", {"amount": 5000}, True, None),
    ("commits", {"amount": -5000}, False, "commits[0].access_schedule.schedule_items[0].amount"),
    ("commits", {"amount": 5000, "length": 0}, False, "commits[0].access_schedule.schedule_items[0].duration.value"),
    ("commits", {"amount": None}, False, "commits[0].access_schedule.schedule_items[0].amount"),
    ("recurring_credits", {"unit_price": 100}, True, None),
    ("recurring_credits", {"unit_price": -100}, False, "recurring_credits[0].access_amount.unit_price"),
    ("recurring_credits", {"unit_price": 100, "quantity": -1}, False, "recurring_credits[0].access_amount.quantity"),
    ("scheduled_charges", {"unit_price": 0}, True, None),
    ("scheduled_charges", {"unit_price": -1}, False, "scheduled_charges[0].schedule.schedule_items[0].unit_price"),
    ("scheduled_charges", {"unit_price": 1, "product": None}, False, "scheduled_charges[0].product_id"),
]  # fmt: skip
BUILDER_INPUT = {
    "commits": "amount",
    "recurring_credits": "unit_price",
    "scheduled_charges": "unit_price",
}


@pytest.mark.parametrize(
    ("kind", "values", "accepted", "field"),
    BUILDER_CASES,
    ids=[f"{case[0]}-{i}" for i, case in enumerate(BUILDER_CASES)],
)
def test_package_builder_and_the_api_agree(api, browser, tokens, kind, values, accepted, field):
    card = build.make_rate_card("Standard")
    product = str(tokens.id)
    row, term = builder_row(kind, product, values)
    package = {
        "name": "Growth",
        "rate_card_id": str(card.id),
        "duration": {"unit": MONTHS, "value": 12},
        "usage_statement_schedule": {"frequency": "MONTHLY", "day": "FIRST_OF_MONTH"},
        kind: [term],
    }
    page = {
        "name": "Growth",
        "rate_card": str(card.id),
        "duration_value": "12",
        "duration_unit": MONTHS,
        "usage_frequency": "MONTHLY",
        "usage_day": "FIRST_OF_MONTH",
        "uniqueness_key": "ui-agreement",
        "aliases-TOTAL_FORMS": "0",
        "aliases-INITIAL_FORMS": "0",
        "_action": "save",
    }
    for key in BUILDER_INPUT | {"credits": "", "recurring_commits": "", "subscriptions": ""}:
        page[f"{key}-TOTAL_FORMS"] = "1" if key == kind else "0"
        page[f"{key}-INITIAL_FORMS"] = "0"
    page["overrides-TOTAL_FORMS"] = page["overrides-INITIAL_FORMS"] = "0"
    page.update({f"{kind}-0-{name}": value for name, value in row.items()})
    # when
    api_response = api("/v1/packages/create", package)
    page_response = browser.post("/packages/new/", page)
    # then
    assert_agree(api_response, page_response, accepted=accepted)
    if accepted:
        assert Package.objects.count() == 2
    else:
        assert api_response.json()["field"] == field
        assert not Package.objects.exists()
        if "access_schedule" in field or "access_amount" in field or "schedule." in field:
            name = field.rsplit(".", 1)[1]
            input_name = "length_value" if name == "value" else name
            input_name = BUILDER_INPUT[kind] if name == "amount" else input_name
            html = page_response.content.decode()
            assert error_beside(html, f"id_{kind}-0-{input_name}")


# --- the rate-card rate form ↔ v1/contract-pricing/rate-cards/addRate ---------------------------

RATE_CASES = [
    ({"rate_type": "FLAT", "price": "5"}, True, None),
    ({"rate_type": "FLAT", "price": "0"}, True, None),
    ({"rate_type": "FLAT", "price": "-1"}, False, "price"),
    ({"rate_type": "FLAT"}, False, "price"),
    ({"rate_type": "TIERED", "tiers": [("1000", "3"), ("", "-2")]}, False, "tiers[1].price"),
    ({"rate_type": "FLAT", "price": "5", "until": "2026-06-01"}, False, "ending_before"),
    ({"rate_type": "FLAT", "price": "5", "from": None}, False, "starting_at"),
]


@pytest.mark.parametrize(("values", "accepted", "field"), RATE_CASES)
def test_rate_form_and_the_api_agree(api, browser, tokens, values, accepted, field):
    api_card, page_card = build.make_rate_card("By API"), build.make_rate_card("By page")
    starting_at = values.get("from", "2027-01-01")
    tiers = values.get("tiers")
    body = kept(
        {
            "rate_card_id": str(api_card.id),
            "product_id": str(tokens.id),
            "rate_type": values["rate_type"],
            "entitled": True,
            "starting_at": instant(starting_at),
            "ending_before": instant(values.get("until")),
            "price": float(values["price"]) if "price" in values else None,
            "tiers": [
                kept({"size": float(size) if size else None, "price": float(price)})
                for size, price in tiers
            ]
            if tiers
            else None,
        }
    )
    form = kept(
        {
            "product": str(tokens.id),
            "rate_type": values["rate_type"],
            "entitled": "on",
            "starting_at": starting_at,
            "ending_before": values.get("until"),
            "price": values.get("price"),
            "tiers": ", ".join(f"{size}:{price}" for size, price in tiers) if tiers else None,
        }
    )
    api_response = api("/v1/contract-pricing/rate-cards/addRate", body)
    page_response = browser.post(f"/rate-cards/{page_card.id}/rates/", form)
    assert_agree(api_response, page_response, accepted=accepted)
    assert Rate.objects.filter(rate_card=api_card).count() == (1 if accepted else 0)
    assert Rate.objects.filter(rate_card=page_card).count() == (1 if accepted else 0)
    if not accepted:
        assert api_response.json()["field"] == field


# --- customer and provision forms ↔ v1/customers, v1/contracts/create ---------------------------


@pytest.mark.parametrize(("name", "accepted"), [("Initech", True), ("", False), ("x" * 401, True)])
def test_customer_form_and_the_api_agree(api, browser, name, accepted):
    api_response = api("/v1/customers", {"name": name})
    page_response = browser.post("/customers/new/", {"name": name})
    assert_agree(api_response, page_response, accepted=accepted)
    assert Customer.objects.count() == (2 if accepted else 0)


@pytest.mark.parametrize(
    ("starting_at", "accepted"), [("2027-01-01", True), (None, False), ("2027-02-30", False)]
)
def test_provision_form_and_the_api_agree(api, browser, tokens, starting_at, accepted):
    package = build.make_package(
        name="Starter", duration_unit="MONTHS", duration_value=12, terms=[credit_term(tokens)]
    )
    by_api, by_page = build.make_customer("By API"), build.make_customer("By page")
    api_response = api(
        "/v1/contracts/create",
        kept(
            {
                "customer_id": str(by_api.id),
                "package_id": str(package.id),
                "starting_at": instant(starting_at),
            }
        ),
    )
    page_response = browser.post(
        f"/customers/{by_page.id}/provision/",
        kept({"package": str(package.id), "starting_at": starting_at, "_action": "confirm"}),
    )
    assert_agree(api_response, page_response, accepted=accepted)
    assert Contract.objects.filter(customer=by_api).count() == (1 if accepted else 0)
    assert Contract.objects.filter(customer=by_page).count() == (1 if accepted else 0)


# --- defect 4: edits and the contract's window, one rule whatever the order ----------------------


def edit(api, contract: Contract, **fields):
    return api(
        "/v2/contracts/edit",
        {"customer_id": str(contract.customer_id), "contract_id": str(contract.id), **fields},
    )


def credit(tokens, start: str, end: str, amount=500) -> dict:
    return credit_inputs(str(tokens.id), {"amount": amount, "from": start, "until": end})[1]


def edit_state(contract: Contract) -> tuple:
    contract.refresh_from_db()
    return (
        contract.ending_before,
        ContractEdit.objects.filter(contract=contract).count(),
        AuditLogEntry.objects.filter(resource_id=str(contract.id)).count(),
        edited_windows(contract),
    )


@pytest.mark.parametrize("credit_first", [True, False])
def test_a_credit_after_the_new_end_in_the_same_edit_is_refused_whatever_the_order(
    api, contracts, tokens, credit_first
):
    contract, _ = contracts
    before = edit_state(contract)
    fields = [
        ("add_credits", [credit(tokens, "2027-04-01", "2027-06-01")]),
        ("update_contract_end_date", "2027-03-01T00:00:00Z"),
    ]
    response = edit(api, contract, **dict(fields if credit_first else fields[::-1]))
    assert response.status_code == 400, response.content
    assert response.json()["field"] == (
        "add_credits[0].access_schedule.schedule_items[0].starting_at"
    )
    assert edit_state(contract) == before  # nothing written: neither the end nor the credit


def test_a_credit_before_the_contract_starts_is_refused(api, contracts, tokens):
    contract, _ = contracts
    before = edit_state(contract)
    response = edit(api, contract, add_credits=[credit(tokens, "2020-01-01", "2020-06-01")])
    assert response.status_code == 400
    assert response.json()["field"].endswith("schedule_items[0].ending_before")
    assert edit_state(contract) == before


def test_an_overlapping_credit_is_cut_at_the_end_in_one_call_as_in_two(api, tokens):
    one_call, two_calls = twelve_months(tokens, "One"), twelve_months(tokens, "Two")
    late = credit(tokens, "2027-02-01", "2027-06-01")
    # one edit: end moved to 2027-03-01 and a credit running past it
    response = edit(
        api, one_call, update_contract_end_date="2027-03-01T00:00:00Z", add_credits=[late]
    )
    assert response.status_code == 200, response.content
    # two edits: the credit, then the end
    assert edit(api, two_calls, add_credits=[late]).status_code == 200
    assert edit(api, two_calls, update_contract_end_date="2027-03-01T00:00:00Z").status_code == 200
    windows = edited_windows(one_call)
    assert windows == edited_windows(two_calls)
    assert [(start, end) for _, start, end, _ in windows] == [(at(2027, 2, 1), at(2027, 3, 1))]


def test_an_edit_that_changes_nothing_is_refused_and_recorded_nowhere(api, contracts, tokens):
    contract, _ = contracts
    before = edit_state(contract)
    empty = edit(api, contract)
    same_end = edit(api, contract, update_contract_end_date="2028-01-01T00:00:00Z")
    same_name = edit(api, contract, update_contract_name=contract.name)
    assert [r.status_code for r in (empty, same_end, same_name)] == [400, 400, 400]
    assert same_end.json()["field"] == "update_contract_end_date"
    assert same_name.json()["field"] == "update_contract_name"
    assert edit_state(contract) == before  # no edit row, no audit entry: not HAS_EDITS


def test_two_updates_of_one_credit_in_one_edit_are_refused_naming_the_second(
    api, contracts, tokens
):
    contract, _ = contracts
    response = edit(api, contract, add_credits=[credit(tokens, "2027-03-01", "2027-06-01")])
    credit_id = response.json()["data"]["edit"]["add_credits"][0]["id"]
    before = edit_state(contract)
    response = edit(
        api,
        contract,
        update_credits=[
            {"credit_id": credit_id, "name": "first"},
            {"credit_id": credit_id, "name": "second"},
        ],
    )
    assert response.status_code == 400
    assert response.json()["field"] == "update_credits[1].credit_id"
    assert edit_state(contract) == before


# --- defect 3: one rule for amounts, whichever writer -------------------------------------------


@pytest.mark.parametrize(
    ("kind", "values", "field"),
    [
        ("commits", {"amount": -5000}, "commits[0].access_schedule.schedule_items[0].amount"),
        ("recurring_credits", {"unit_price": -100}, "recurring_credits[0].access_amount.unit_price"),
        ("scheduled_charges", {"unit_price": -1}, "scheduled_charges[0].schedule.schedule_items[0].unit_price"),
    ],
)  # fmt: skip
def test_packages_create_refuses_a_negative_amount_naming_it(api, tokens, kind, values, field):
    _, term = builder_row(kind, str(tokens.id), values)
    response = api(
        "/v1/packages/create",
        {"name": "Negative", "duration": {"unit": MONTHS, "value": 12}, kind: [term]},
    )
    assert response.status_code == 400, response.content
    assert response.json()["field"] == field
    assert not Package.objects.exists()


def test_contract_edit_refuses_a_negative_credit_naming_it(api, contracts, tokens):
    contract, _ = contracts
    before = edit_state(contract)
    response = edit(api, contract, add_credits=[credit(tokens, "2027-03-01", "2027-06-01", -500)])
    assert response.status_code == 400
    assert response.json()["field"] == "add_credits[0].access_schedule.schedule_items[0].amount"
    assert edit_state(contract) == before


def test_credits_edit_moving_a_credit_out_of_the_contract_is_refused_naming_its_own_field(
    api, contracts, tokens
):
    contract, _ = contracts
    added = edit(api, contract, add_credits=[credit(tokens, "2027-03-01", "2027-06-01")])
    term = added.json()["data"]["edit"]["add_credits"][0]
    item_id = term["access_schedule"]["schedule_items"][0]["id"]
    before = edit_state(contract)
    response = api(
        "/v2/contracts/credits/edit",
        {
            "customer_id": str(contract.customer_id),
            "credit_id": term["id"],
            "access_schedule": {
                "update_schedule_items": [
                    {
                        "id": item_id,
                        "starting_at": "2029-01-01T00:00:00Z",
                        "ending_before": "2029-02-01T00:00:00Z",
                    }
                ]
            },
        },
    )
    assert response.status_code == 400, response.content
    assert (
        response.json()["field"] == "access_schedule"
    )  # commits/edit's field, not update_credits[0]
    assert edit_state(contract) == before


def test_amend_refuses_a_negative_credit_and_a_credit_after_the_end_naming_its_own_fields(
    api, contracts, tokens
):
    contract, _ = contracts
    before = edit_state(contract)
    body = {
        "customer_id": str(contract.customer_id),
        "contract_id": str(contract.id),
        "starting_at": "2027-02-01T00:00:00Z",
    }
    negative = api(
        "/v1/contracts/amend",
        {**body, "credits": [credit(tokens, "2027-03-01", "2027-06-01", -1)]},
    )
    late = api(
        "/v1/contracts/amend", {**body, "credits": [credit(tokens, "2029-03-01", "2029-06-01")]}
    )
    assert negative.json()["field"] == "credits[0].access_schedule.schedule_items[0].amount"
    assert late.json()["field"] == "credits[0].access_schedule.schedule_items[0].starting_at"
    assert edit_state(contract) == before
