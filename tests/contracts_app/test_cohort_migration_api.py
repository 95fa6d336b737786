"""The cohort migrations API: shapes, validation (400 naming the field, nothing written), 404,
409, permissions, paging, and a whole create → run → get → revert round trip."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest

from contracts_app.models import CohortMigration, CohortMigrationItem
from contracts_app.services.cohort_migration_batches import (
    migration_batch_run,
    migration_revert_batch_run,
)
from contracts_app.services.cohort_migrations import migration_finish_if_done, migration_start
from contracts_app.services.contracts import contract_archive
from tests.contracts_app.cohort_builders import cohort, two_packages
from tests.factories import api_post, user_with_token

pytestmark = pytest.mark.django_db

BASE = "/v1/packages/migrations"
AT = "2030-02-10T00:00:00Z"
ALL = (
    "contracts_app.view_cohortmigration",
    "contracts_app.add_cohortmigration",
    "contracts_app.change_cohortmigration",
    "contracts_app.view_contract",
)


@pytest.fixture
def token():
    return user_with_token(*ALL)[1]


def post(client, path: str, token: str, body, **query):
    url = path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")
    return api_post(client, token, url, body)


@pytest.fixture
def packages():
    return two_packages()


def body(packages, **extra):
    source, target = packages
    return {
        "source": {"package_id": str(source.id)},
        "target": {"package_id": str(target.id)},
        "effective": {"type": "AT", "at": AT},
        **extra,
    }


def run(migration_id, revert=False):
    step = migration_revert_batch_run if revert else migration_batch_run
    while step(migration_id=migration_id, batch_size=5):
        pass
    migration_finish_if_done(migration_id=migration_id)


def test_create_run_get_list_items_and_revert_round_trip(client, token, packages):
    # given a cohort of three, one archived
    source, target = packages
    contracts = cohort(source, 3)
    contract_archive(contract=contracts[2])

    def contract_get(contract):
        response = post(
            client,
            "/v1/contracts/get",
            token,
            {"customer_id": str(contract.customer_id), "contract_id": str(contract.id)},
        )
        assert response.status_code == 200, response.content
        return response.json()["data"]

    before = [contract_get(c) for c in contracts]
    # when created, run, read, reverted
    created = post(
        client, f"{BASE}/create", token, body(packages, name="v1 → v2", uniqueness_key="k-1")
    )
    assert created.status_code == 200, created.content
    migration_id = created.json()["data"]["id"]
    assert migration_start(migration_id=migration_id)
    run(migration_id)
    got = post(client, f"{BASE}/get", token, {"migration_id": migration_id}).json()["data"]
    # then
    assert set(got) == {
        "id",
        "name",
        "edited_contracts",
        "status",
        "source",
        "target",
        "effective",
        "run_at",
        "created_at",
        "started_at",
        "finished_at",
        "created_by",
        "counts",
        "progress",
        "last_error",
        "ended_before_effective",
        "canary",
        "canary_open",
        "paused_at",
        "revert",
    }
    assert got["status"] == "COMPLETED"
    assert got["effective"] == {"type": "AT", "at": AT}
    assert got["source"] == {"package_id": str(source.id)}
    assert got["counts"] == {
        "total": 3,
        "pending": 0,
        "migrated": 2,
        "skipped": 1,
        "failed": 0,
        "cancelled": 0,
        "reverted": 0,
        "revert_blocked": 0,
    }
    assert got["progress"]["percent"] == 100.0
    assert got["run_at"].endswith("Z")
    items = post(
        client, f"{BASE}/listItems", token, {"migration_id": migration_id, "status": "SKIPPED"}
    ).json()
    assert items["data"] == [
        {
            "contract_id": str(contracts[2].id),
            "customer_id": str(contracts[2].customer_id),
            "status": "SKIPPED",
            "reason": "CONTRACT_ARCHIVED",
            "message": None,
            "effective_at": AT,
            "new_contract_id": None,
        }
    ]
    migrated = post(
        client, f"{BASE}/listItems", token, {"migration_id": migration_id, "status": "MIGRATED"}
    ).json()["data"]
    new = migrated[0]
    new_contract = contract_get(
        type("C", (), {"customer_id": new["customer_id"], "id": new["new_contract_id"]})
    )
    assert new_contract["package_id"] == str(target.id)
    assert contract_get(contracts[0])["package_id"] == str(source.id)
    listed = post(client, f"{BASE}/list", token, {"package_id": str(target.id)}).json()
    assert [m["id"] for m in listed["data"]] == [migration_id]
    assert listed["next_page"] is None
    again = post(client, f"{BASE}/create", token, body(packages, uniqueness_key="k-1"))
    assert again.status_code == 409
    assert again.headers["x-should-retry"] == "false"
    reverted = post(client, f"{BASE}/revert", token, {"migration_id": migration_id})
    assert reverted.status_code == 200, reverted.content
    assert reverted.json()["data"]["status"] == "REVERTING"
    run(migration_id, revert=True)
    assert [contract_get(c) for c in contracts] == before
    final = post(client, f"{BASE}/get", token, {"migration_id": migration_id}).json()["data"]
    assert final["status"] == "REVERTED"
    assert final["counts"]["reverted"] == 2


def test_preview_answers_totals_sample_and_diff(client, token, packages):
    source, _ = packages
    cohort(source, 2)
    response = post(client, f"{BASE}/preview", token, body(packages))
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert set(data) == {
        "total",
        "eligible",
        "skipped",
        "edited_contracts",
        "edits",
        "sample",
        "diff",
        "ended_before_effective",
        "on_date",
        "money",
    }
    assert (data["edited_contracts"], data["edits"]) == ("SKIP", {"contracts": 0, "by_kind": {}})
    assert data["sample"][0]["has_edits"] is False
    assert (data["total"], data["eligible"], data["skipped"]) == (2, 2, {})
    assert data["sample"][0]["effective_at"] == AT
    assert data["sample"][0]["outcome"] == "MIGRATE"
    assert data["sample"][0]["old_contract"] == {
        "starting_at": "2030-01-01T00:00:00Z",
        "ending_before": "2031-01-01T00:00:00Z",
        "new_ending_before": AT,
    }
    assert data["sample"][0]["new_contract"]["starting_at"] == AT
    assert set(data["diff"]) >= {"terms_added", "terms_removed", "terms_changed", "fields_changed"}
    assert not CohortMigration.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"source": {"package_id": "x", "package_alias": "y"}}, "source.package_id"),
        ({"source": {}}, "source.package_id"),
        ({"source": {"package_id": "not-a-uuid"}}, "source.package_id"),
        ({"source": {"package_alias": "Starter"}}, "source.as_of"),
        ({"target": {"package_id": "x", "package_alias": "y"}}, "target.package_id"),
        ({"effective": {"type": "SOMETIME"}}, "effective.type"),
        ({"effective": {"type": "AT"}}, "effective.at"),
        ({"effective": {"type": "NEXT_BILLING_PERIOD"}}, "effective.not_before"),
        ({"effective": {"type": "END_OF_TERM", "at": AT}}, "effective.at"),
        ({"effective": {"type": "AT", "at": "yesterday"}}, "effective.at"),
        ({"customer_ids": ["nope"]}, "customer_ids[0]"),
        ({"run_at": "soon"}, "run_at"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(
    client, token, packages, change, field
):
    response = post(client, f"{BASE}/create", token, body(packages) | change)
    assert response.status_code == 400, response.content
    assert response.json()["field"] == field
    assert not CohortMigration.objects.exists()


def test_source_equal_to_target_is_a_400(client, token, packages):
    source, _ = packages
    response = post(
        client, f"{BASE}/preview", token, body(packages, target={"package_id": str(source.id)})
    )
    assert response.status_code == 400
    assert response.json()["field"] == "target.package_id"


def test_unknown_packages_aliases_and_migrations_are_404(client, token, packages):
    missing = str(uuid.uuid4())
    for change, field in (
        ({"source": {"package_id": missing}}, "source.package_id"),
        ({"target": {"package_id": missing}}, "target.package_id"),
        ({"target": {"package_alias": "Nobody"}}, "target.package_alias"),
        ({"source": {"package_alias": "Nobody", "as_of": AT}}, "source.package_alias"),
    ):
        response = post(client, f"{BASE}/create", token, body(packages) | change)
        assert (response.status_code, response.json()["field"]) == (404, field)
    for action in ("get", "cancel", "revert", "listItems"):
        response = post(client, f"{BASE}/{action}", token, {"migration_id": missing})
        assert response.status_code == 404
    assert not CohortMigration.objects.exists()


def test_cancel_of_a_finished_job_and_a_late_revert_are_400s(client, token, packages):
    source, _ = packages
    cohort(source, 1, start=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    migration_id = post(
        client,
        f"{BASE}/create",
        token,
        body(packages, effective={"type": "AT", "at": "2020-06-01T00:00:00Z"}, allow_past=True),
    ).json()["data"]["id"]
    migration_start(migration_id=migration_id)
    run(migration_id)
    cancel = post(client, f"{BASE}/cancel", token, {"migration_id": migration_id})
    assert cancel.status_code == 400
    assert "COMPLETED migration cannot be cancelled" in cancel.json()["message"]
    revert = post(client, f"{BASE}/revert", token, {"migration_id": migration_id})
    assert revert.status_code == 400
    assert "1 migrated contract(s) have already taken effect" in revert.json()["message"]
    assert CohortMigration.objects.get(id=migration_id).status == "COMPLETED"


def test_cancel_a_scheduled_job(client, token, packages):
    migration_id = post(
        client, f"{BASE}/create", token, body(packages, run_at="2099-01-01T00:00:00Z")
    ).json()["data"]["id"]
    response = post(client, f"{BASE}/cancel", token, {"migration_id": migration_id})
    assert response.status_code == 200
    assert response.json()["data"]["status"] == "CANCELLED"
    assert response.json()["data"]["run_at"] == "2099-01-01T00:00:00Z"


def test_permissions(client, packages):
    viewer = user_with_token("contracts_app.view_cohortmigration")[1]
    assert post(client, f"{BASE}/create", viewer, body(packages)).status_code == 403
    assert post(client, f"{BASE}/preview", viewer, body(packages)).status_code == 200
    assert post(client, f"{BASE}/list", viewer, {}).status_code == 200
    nobody = user_with_token()[1]
    assert post(client, f"{BASE}/list", nobody, {}).status_code == 403
    assert post(client, f"{BASE}/list", "wrong", {}).status_code == 401
    creator = user_with_token("contracts_app.add_cohortmigration")[1]
    created = post(client, f"{BASE}/create", creator, body(packages, run_at="2099-01-01T00:00:00Z"))
    migration_id = created.json()["data"]["id"]
    assert (
        post(client, f"{BASE}/cancel", creator, {"migration_id": migration_id}).status_code == 403
    )


def test_list_and_items_page_with_keyset_cursors(
    client, token, packages, django_assert_max_num_queries
):
    source, _ = packages
    cohort(source, 5)
    for _ in range(3):
        post(client, f"{BASE}/create", token, body(packages, run_at="2099-01-01T00:00:00Z"))
    first = post(client, f"{BASE}/list", token, {"limit": 2}).json()
    assert len(first["data"]) == 2 and first["next_page"]
    second = post(
        client, f"{BASE}/list", token, {"next_page": first["next_page"], "limit": 2}
    ).json()
    assert len(second["data"]) == 1 and second["next_page"] is None
    with django_assert_max_num_queries(6):
        post(client, f"{BASE}/list", token, {"status": "SCHEDULED"})
    migration_id = post(client, f"{BASE}/create", token, body(packages)).json()["data"]["id"]
    migration_start(migration_id=migration_id)
    page = post(client, f"{BASE}/listItems", token, {"migration_id": migration_id, "limit": 3})
    page = page.json()
    assert len(page["data"]) == 3 and page["next_page"]
    rest = post(
        client,
        f"{BASE}/listItems",
        token,
        {"migration_id": migration_id},
        next_page=page["next_page"],
    ).json()
    assert len(rest["data"]) == 2
    assert {i["status"] for i in page["data"] + rest["data"]} == {"PENDING"}
    assert CohortMigrationItem.objects.filter(migration_id=migration_id).count() == 5


def test_the_openapi_schema_documents_the_migration_endpoints(client, token):
    response = client.get("/openapi.json?format=json", HTTP_AUTHORIZATION=f"Bearer {token}")
    schema = json.loads(response.content)
    for action in ("preview", "create", "get", "list", "listItems", "cancel", "revert"):
        operation = schema["paths"][f"{BASE}/{action}"]["post"]
        assert operation["requestBody"]
        assert "200" in operation["responses"]


def _component(schema: dict, ref_or_schema: dict) -> dict:
    ref = ref_or_schema.get("$ref") or next(
        (part["$ref"] for part in ref_or_schema.get("allOf", []) if "$ref" in part), None
    )
    return schema["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else ref_or_schema


def test_the_openapi_schema_documents_allow_past_and_the_partial_revert(client, token):
    schema = client.get("/openapi.json?format=json", HTTP_AUTHORIZATION=f"Bearer {token}").json()
    for action in ("preview", "create"):
        request = schema["paths"][f"{BASE}/{action}"]["post"]["requestBody"]["content"]
        properties = _component(schema, request["application/json"]["schema"])["properties"]
        assert properties["allow_past"]["type"] == "boolean"
        assert "cannot be reverted" in properties["allow_past"]["description"]
    migration = _component(schema, schema["components"]["schemas"]["MigrationOutput"])
    status = _component(schema, migration["properties"]["status"])
    assert "PARTIALLY_REVERTED" in status["enum"]
    counts = _component(schema, migration["properties"]["counts"])
    assert "revert_blocked" in counts["required"]
    item = _component(schema, schema["components"]["schemas"]["ItemOutput"])
    assert "REVERT_BLOCKED" in _component(schema, item["properties"]["status"])["enum"]
    reasons = _component(schema, item["properties"]["reason"])
    reasons = reasons.get("enum") or [
        value
        for part in reasons.get("oneOf", [])
        for value in _component(schema, part).get("enum", []) or []
    ]
    assert {"CHANGED_SINCE_MOVE", "ARCHIVED_SINCE_MOVE", "SUCCESSOR_EXISTS", "TOOK_EFFECT"} <= set(
        reasons
    )


@pytest.mark.parametrize("action", ["preview", "create"])
@pytest.mark.parametrize(
    ("effective", "field"),
    [
        ({"type": "AT", "at": "2020-06-01T00:00:00Z"}, "effective.at"),
        (
            {"type": "NEXT_BILLING_PERIOD", "not_before": "2020-06-01T00:00:00Z"},
            "effective.not_before",
        ),
    ],
)
def test_a_past_effective_time_is_refused_unless_allow_past(
    client, token, packages, action, effective, field
):
    source, _ = packages
    cohort(source, 1, start=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    refused = post(client, f"{BASE}/{action}", token, body(packages, effective=effective))
    assert refused.status_code == 400, refused.content
    assert refused.json()["field"] == field
    assert "2020-06-01T00:00:00Z is in the past" in refused.json()["message"]
    assert "allow_past" in refused.json()["message"]
    assert not CohortMigration.objects.exists()
    allowed = post(
        client, f"{BASE}/{action}", token, body(packages, effective=effective, allow_past=True)
    )
    assert allowed.status_code == 200, allowed.content


def test_a_partial_revert_reads_back_through_the_api(client, token, packages):
    # given a completed job of two, and a renewal after one new contract
    from contracts_app.models import Contract
    from contracts_app.services.provisioning import contract_provision

    source, target = packages
    contracts = cohort(source, 2)
    migration_id = post(client, f"{BASE}/create", token, body(packages)).json()["data"]["id"]
    migration_start(migration_id=migration_id)
    run(migration_id)
    item = CohortMigrationItem.objects.get(migration_id=migration_id, contract=contracts[0])
    new = Contract.objects.get(id=item.new_contract_id)
    contract_provision(
        customer=contracts[0].customer,
        package=target,
        starting_at=new.ending_before,
        transition={"from_contract_id": str(new.id), "type": "RENEWAL"},
    )
    # when reverted
    assert post(client, f"{BASE}/revert", token, {"migration_id": migration_id}).status_code == 200
    run(migration_id, revert=True)
    # then
    got = post(client, f"{BASE}/get", token, {"migration_id": migration_id}).json()["data"]
    assert got["status"] == "PARTIALLY_REVERTED"
    assert got["last_error"].startswith("1 moved contract(s) were not reverted")
    assert (got["counts"]["reverted"], got["counts"]["revert_blocked"]) == (1, 1)
    blocked = post(
        client,
        f"{BASE}/listItems",
        token,
        {"migration_id": migration_id, "status": "REVERT_BLOCKED"},
    ).json()["data"]
    assert [(i["contract_id"], i["reason"]) for i in blocked] == [
        (str(contracts[0].id), "SUCCESSOR_EXISTS")
    ]
    assert blocked[0]["message"].startswith("Not reverted: a later contract")
    listed = post(client, f"{BASE}/list", token, {"status": "PARTIALLY_REVERTED"}).json()["data"]
    assert [m["id"] for m in listed] == [migration_id]
    again = post(client, f"{BASE}/revert", token, {"migration_id": migration_id})
    assert again.status_code == 400
