"""`POST /v1/packages/aliases/schedule` and `/v1/packages/aliases/list`."""

import pytest

from packages_app.models import AliasAssignment
from packages_app.services.aliases import alias_assign
from tests.contracts_app.contract_builders import make_package
from tests.factories import api_post, user_with_token

pytestmark = pytest.mark.django_db


def post(client, path, body, token, query=""):
    return api_post(client, token, f"{path}{query}", body)


def test_schedule_trims_the_older_interval_and_keeps_history(client):
    _, token = user_with_token("packages_app.add_aliasassignment")
    v1, v2 = make_package(name="v1"), make_package(name="v2")
    alias_assign(kind="package", name="Starter", package=v1)
    body = {
        "package_id": str(v2.id),
        "name": "Starter",
        "starting_at": "2030-06-01T00:00:00Z",
        "ending_before": "2030-09-01T00:00:00Z",
    }
    response = post(client, "/v1/packages/aliases/schedule", body, token)
    assert response.status_code == 200, response.content
    assert response.json()["data"]["package_id"] == str(v2.id)
    rows = list(
        AliasAssignment.objects.in_force()
        .order_by("starting_at")
        .values_list("package__name", "ending_before__year", "ending_before__month")
    )
    assert rows == [("v1", 2030, 6), ("v2", 2030, 9), ("v1", None, None)]


def test_schedule_bad_input(client):
    _, token = user_with_token("packages_app.add_aliasassignment")
    package = make_package(name="p")
    bad_order = {
        "package_id": str(package.id),
        "name": "x",
        "starting_at": "2030-06-01T00:00:00Z",
        "ending_before": "2030-01-01T00:00:00Z",
    }
    assert post(client, "/v1/packages/aliases/schedule", bad_order, token).status_code == 400
    unknown = {"package_id": "00000000-0000-0000-0000-000000000000", "name": "x"}
    assert post(client, "/v1/packages/aliases/schedule", unknown, token).status_code == 404
    _, viewer = user_with_token("packages_app.view_aliasassignment")
    assert post(client, "/v1/packages/aliases/schedule", {"name": "x"}, viewer).status_code == 403


def test_list_pages_every_name_with_its_schedule(client, django_assert_max_num_queries):
    _, token = user_with_token("packages_app.view_aliasassignment")
    package = make_package(name="p")
    for i in range(5):
        alias_assign(kind="package", name=f"Plan {i}", package=package)
    seen, cursor = [], None
    while True:
        query = "?limit=2" + (f"&next_page={cursor}" if cursor else "")
        with django_assert_max_num_queries(5):  # token, user, names, schedules, +1 spare
            page = post(client, "/v1/packages/aliases/list", {}, token, query).json()
        seen += [item["name"] for item in page["data"]]
        assert all(item["schedule"][0]["package_id"] == str(package.id) for item in page["data"])
        cursor = page["next_page"]
        if cursor is None:
            break
    assert seen == [f"Plan {i}" for i in range(5)]
