"""Packages over HTTP with the official SDK in strict mode (v1/packages/create|get|list|archive).

The payload helpers shared with the other package test modules are in tests/builders/catalog.py.
"""

from __future__ import annotations

from packages_app.models import USD_CENTS_ID
from tests.builders.catalog import eight_terms_on, every_field, make_catalog
from tests.builders.races import race


def sdk_client(base_url: str, token: str):
    import metronome

    return metronome.Metronome(
        base_url=base_url,
        bearer_token=token,
        _strict_response_validation=True,
        max_retries=0,
        timeout=30,
    )


# --- round trips through the SDK (strict mode) -------------------------------------------------


import metronome  # noqa: E402
import pytest  # noqa: E402

from packages_app.models import Package, PackageTerm  # noqa: E402
from tests.factories import user_with_token  # noqa: E402

pytestmark = pytest.mark.django_db(transaction=True)


def test_minimal_package_answers_every_required_field(live_server):
    # given
    user, token = user_with_token(superuser=True, username="pricing-bot")
    client = sdk_client(live_server.url, token)

    # when
    created = client.v1.packages.create(name="Starter")
    raw = client.v1.packages.with_raw_response.retrieve(package_id=created.data.id)

    # then: strict parsing passed, and the defaults are there
    package = raw.parse().data
    assert package.id == created.data.id
    assert package.name == "Starter"
    assert package.created_by == user.username
    assert package.commits == [] and package.overrides == [] and package.scheduled_charges == []
    assert package.usage_statement_schedule.frequency == "MONTHLY"
    assert package.usage_statement_schedule.day == "FIRST_OF_MONTH"
    assert package.archived_at is None
    assert raw.json()["data"]["created_at"].endswith("Z")


def _term_back_to_request(value, temporary_ids: dict[str, str]):
    """Undo the documented response transformations, to compare with what was sent."""
    renames = {
        "commit_template_ids": "commit_ids",
        "recurring_commit_template_ids": "recurring_commit_ids",
        "any_commit_or_credit_template_ids": "any_commit_or_credit_ids",
        "override_tiers": "tiers",
        "subscription_template_id": "subscription_id",
    }
    if isinstance(value, list):
        return [_term_back_to_request(item, temporary_ids) for item in value]
    if isinstance(value, str):
        return temporary_ids.get(value, value)
    if not isinstance(value, dict):
        return value
    out = {}
    for key, item in value.items():
        if key == "id":
            continue
        if key == "product":
            out["product_id"] = item["id"]
        elif key == "credit_type":
            out["credit_type_id"] = item["id"]
        else:
            out[renames.get(key, key)] = _term_back_to_request(item, temporary_ids)
    return out


def _without(value, *keys):
    if isinstance(value, list):
        return [_without(item, *keys) for item in value]
    if isinstance(value, dict):
        return {k: _without(v, *keys) for k, v in value.items() if k not in keys}
    return value


def test_every_field_sent_comes_back(sdk):
    # given
    catalog = make_catalog()
    payload = every_field(catalog)

    # when
    created = sdk.v1.packages.create(**payload)
    raw = sdk.v1.packages.with_raw_response.retrieve(package_id=created.data.id)
    raw.parse()  # strict validation of the whole object
    data = raw.json()["data"]

    # then: scalars
    for key in (
        "name", "contract_name", "rate_card_id", "billing_provider", "delivery_method",
        "duration", "multiplier_override_prioritization", "net_payment_terms_days",
        "scheduled_charges_on_usage_invoices", "uniqueness_key", "usage_statement_schedule",
        "spend_threshold_configuration", "prepaid_balance_threshold_configuration",
    ):  # fmt: skip
        assert data[key] == payload[key], key
    assert "rate_card_alias" not in data  # not sent (see the next test for when it is)
    assert data["aliases"] == [
        {"name": "enterprise", "starting_at": "2025-01-01T00:00:00Z", "ending_before": None}
    ]

    # then: server ids on terms and schedule items, expansions named
    commit = data["commits"][0]
    assert commit["product"] == {"id": str(catalog.commit_product.id), "name": "Prepaid commit"}
    assert commit["access_schedule"]["credit_type"]["name"] == "USD (cents)"
    assert commit["access_schedule"]["schedule_items"][0]["amount"] == 1000.125
    assert all(item["id"] for item in commit["access_schedule"]["schedule_items"])
    assert commit["invoice_schedule"]["do_not_invoice"] is True
    assert data["credits"][0]["access_schedule"]["credit_type"] == {
        "id": str(catalog.tokens.id),
        "name": catalog.tokens.name,
    }
    recurring = data["recurring_commits"][0]
    subscription = data["subscriptions"][0]
    assert recurring["subscription_config"]["subscription_template_id"] == subscription["id"]
    specifier = data["overrides"][0]["override_specifiers"][0]
    assert specifier["commit_template_ids"] == [commit["id"]]
    assert specifier["recurring_commit_template_ids"] == [
        recurring["id"],
        data["recurring_credits"][0]["id"],
    ]
    assert data["overrides"][1]["override_tiers"][0] == {"multiplier": 0.9, "size": 1000}
    assert data["overrides"][0]["overwrite_rate"]["credit_type"]["id"] == str(catalog.tokens.id)
    assert "temporary_id" not in str(data)

    # then: each term, with the documented transformations undone, is exactly what was sent
    temporary_ids = {
        commit["id"]: "commit-a",
        recurring["id"]: "rc-a",
        data["recurring_credits"][0]["id"]: "rcr-a",
        subscription["id"]: "seats",
    }
    sent = _without(payload, "temporary_id")
    # Documented defaults the response must carry although they were not sent.
    sent["recurring_credits"][0]["rate_type"] = "COMMIT_RATE"
    sent["recurring_credits"][0]["access_amount"]["credit_type_id"] = (
        "00000000-0000-0000-0000-000000000000"
    )
    for key in (
        "commits", "credits", "recurring_commits", "recurring_credits", "subscriptions",
        "scheduled_charges", "overrides", "spend_trackers",
    ):  # fmt: skip
        assert _term_back_to_request(data[key], temporary_ids) == sent[key], key


def test_rate_card_alias_sent_comes_back(sdk):
    # given: a package naming its rate card by alias only
    catalog = make_catalog()
    sdk.v1.contracts.rate_cards.update(
        rate_card_id=str(catalog.rate_card.id), aliases=[{"name": "list-rates"}]
    )
    package_id = sdk.v1.packages.create(name="By alias", rate_card_alias="list-rates").data.id

    # when
    raw = sdk.v1.packages.with_raw_response.retrieve(package_id=package_id)
    listed = sdk.v1.packages.with_raw_response.list()

    # then: strict mode accepts the extra key, and get and list both carry it
    raw.parse()
    listed.parse()
    data = raw.json()["data"]
    assert data["rate_card_alias"] == "list-rates"
    assert "rate_card_id" not in data
    assert [p.get("rate_card_alias") for p in listed.json()["data"]] == ["list-rates"]


def test_terms_are_stored_in_request_form_with_server_ids(sdk):
    # given
    catalog = make_catalog()
    payload = every_field(catalog)

    # when
    package_id = sdk.v1.packages.create(**payload).data.id

    # then: the stored form other modules read (contract with the contracts engineer)
    package = Package.objects.get(id=package_id)
    terms = {(t.kind, t.ordinal): t for t in PackageTerm.objects.filter(package=package)}
    commit = terms[(PackageTerm.Kind.COMMIT, 0)]
    assert str(commit.id) == commit.body["id"]
    assert commit.body["product_id"] == str(catalog.commit_product.id)
    assert commit.product_id == catalog.commit_product.id
    assert all(item["id"] for item in commit.body["access_schedule"]["schedule_items"])
    assert all(item["id"] for item in commit.body["invoice_schedule"]["schedule_items"])
    subscription = terms[(PackageTerm.Kind.SUBSCRIPTION, 0)]
    assert subscription.product_id == catalog.subscription_product.id
    recurring = terms[(PackageTerm.Kind.RECURRING_COMMIT, 0)]
    assert recurring.body["subscription_config"]["subscription_id"] == subscription.body["id"]
    override = terms[(PackageTerm.Kind.OVERRIDE, 0)]
    assert override.body["override_specifiers"][0]["commit_ids"] == [commit.body["id"]]
    assert package.settings["usage_statement_schedule"]["frequency"] == "QUARTERLY"
    assert (package.duration_unit, package.duration_value) == ("YEARS", 1)
    assert len(terms) == 10


def test_eight_term_package_parses_strictly_in_get_and_list(sdk):
    # given
    catalog = make_catalog()
    payload = eight_terms_on(catalog)

    # when
    package_id = sdk.v1.packages.create(name="Eight", **payload).data.id
    got = sdk.v1.packages.retrieve(package_id=package_id).data
    listed = list(sdk.v1.packages.list())

    # then
    assert [p.id for p in listed] == [package_id]
    assert listed[0].model_dump() == got.model_dump()
    assert got.recurring_commits[0].access_amount.credit_type_id == str(USD_CENTS_ID)
    assert got.recurring_commits[0].rate_type == "COMMIT_RATE"
    assert got.subscriptions[0].proration.invoice_behavior == "BILL_IMMEDIATELY"
    assert got.commits[1].invoice_schedule.do_not_invoice is False


def test_list_pages_through_everything_and_filters_archived(sdk):
    # given
    ids = [sdk.v1.packages.create(name=f"P{i}").data.id for i in range(5)]
    sdk.v1.packages.archive(package_id=ids[1])

    # when
    default = [p.id for p in sdk.v1.packages.list(limit=2)]
    archived = [p.id for p in sdk.v1.packages.list(archive_filter="ARCHIVED")]
    everything = [p.id for p in sdk.v1.packages.list(limit=1, archive_filter="ALL")]
    first_page = sdk.v1.packages.list(limit=2)

    # then
    assert default == [ids[0], *ids[2:]]
    assert archived == [ids[1]]
    assert everything == ids
    assert first_page.next_page and len(first_page.data) == 2


def test_archive_is_one_way_and_repeatable(sdk):
    # given
    package_id = sdk.v1.packages.create(name="Old").data.id

    # when
    assert sdk.v1.packages.archive(package_id=package_id).data.id == package_id
    first = sdk.v1.packages.retrieve(package_id=package_id).data.archived_at
    sdk.v1.packages.archive(package_id=package_id)

    # then: still readable, archived once
    again = sdk.v1.packages.retrieve(package_id=package_id).data.archived_at
    assert first is not None and again == first


@pytest.mark.parametrize("package_id", ["0b8f3ba2-4a57-4d55-a1d8-9d1f3a4e7c11", "nope", ""])
def test_unknown_package_is_404_on_get_and_archive(sdk, package_id):
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.packages.retrieve(package_id=package_id or "x")
    with pytest.raises(metronome.NotFoundError):
        sdk.v1.packages.archive(package_id=package_id or "x")


def test_reused_uniqueness_key_is_409_and_writes_nothing(sdk):
    # given
    sdk.v1.packages.create(name="First", uniqueness_key="k-1")

    # when
    with pytest.raises(metronome.ConflictError) as caught:
        sdk.v1.packages.create(name="Second", uniqueness_key="k-1", aliases=[{"name": "dup"}])

    # then
    assert caught.value.response.headers["x-should-retry"] == "false"
    assert caught.value.body["field"] == "uniqueness_key"
    assert list(Package.objects.values_list("name", flat=True)) == ["First"]
    assert not PackageTerm.objects.exists()


def test_concurrent_identical_creates_make_exactly_one_package(live_server):
    # given: eight clients sending the same request at the same moment
    _, token = user_with_token(superuser=True)
    catalog = make_catalog()
    payload = eight_terms_on(catalog)

    # when
    outcomes = race(
        8,
        lambda client: client.v1.packages.create(name="Race", uniqueness_key="race-1", **payload),
        prepare=lambda: sdk_client(live_server.url, token),
        timeout=60,
    )

    # then
    assert outcomes == ["conflict"] * 7 + ["created"]
    assert Package.objects.filter(uniqueness_key="race-1").count() == 1
    assert PackageTerm.objects.count() == 8


def test_permissions_decide_what_a_token_may_do(sdk_for):
    reader = sdk_for("packages_app.view_package")
    writer = sdk_for("packages_app.add_package")

    package_id = writer.v1.packages.create(name="Mine").data.id
    assert reader.v1.packages.retrieve(package_id=package_id).data.name == "Mine"
    with pytest.raises(metronome.PermissionDeniedError):
        reader.v1.packages.create(name="Nope")
    with pytest.raises(metronome.PermissionDeniedError):
        reader.v1.packages.archive(package_id=package_id)
    with pytest.raises(metronome.PermissionDeniedError):
        writer.v1.packages.list()
