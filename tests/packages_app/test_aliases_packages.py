"""Package aliases: re-pointing trims, splits or supersedes older intervals, never deletes."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from packages_app.models import AliasAssignment, AliasName
from packages_app.selectors.aliases import (
    alias_package_versions,
    alias_schedule,
    package_for_alias,
)
from packages_app.services.packages import package_create
from tests.factories import api_post, user_with_token

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
T1 = dt.datetime(2025, 4, 1, tzinfo=dt.UTC)
T2 = dt.datetime(2025, 7, 1, tzinfo=dt.UTC)
T3 = dt.datetime(2025, 10, 1, tzinfo=dt.UTC)


def create(name: str, *aliases: dict):
    return package_create(created_by="tests", name=name, aliases=list(aliases))


def alias(name="starter", starting_at=None, ending_before=None) -> dict:
    body: dict = {"name": name}
    if starting_at is not None:
        body["starting_at"] = starting_at
    if ending_before is not None:
        body["ending_before"] = ending_before
    return body


@pytest.fixture
def read(client):
    _, token = user_with_token("packages_app.view_package")

    def get(package) -> list[dict]:
        response = api_post(client, token, "/v1/packages/get", {"package_id": str(package.id)})
        assert response.status_code == 200
        return response.json()["data"]["aliases"]

    return get


def test_new_package_takes_the_alias_from_now_and_the_old_one_shows_its_end(read):
    # given
    old = create("v1", alias())

    # when
    before = timezone.now()
    new = create("v2", alias())
    after = timezone.now()

    # then
    (old_alias,) = read(old)
    (new_alias,) = read(new)
    assert old_alias["ending_before"] == new_alias["starting_at"]
    assert new_alias["ending_before"] is None
    start = dt.datetime.fromisoformat(new_alias["starting_at"])
    assert before - dt.timedelta(milliseconds=1) <= start <= after  # shown to the millisecond
    assert package_for_alias(name="starter", at=timezone.now()) == new
    old_start = dt.datetime.fromisoformat(old_alias["starting_at"])
    assert package_for_alias(name="starter", at=old_start) == old
    assert package_for_alias(name="starter", at=start - dt.timedelta(microseconds=1)) == old


def test_future_dated_reassignment_keeps_the_current_package_until_then(read):
    # given
    old = create("v1", alias(starting_at=T0))

    # when
    new = create("v2", alias(starting_at=T2))

    # then
    assert read(old) == [
        {"name": "starter", "starting_at": "2025-01-01T00:00:00Z", "ending_before": "2025-07-01T00:00:00Z"}
    ]  # fmt: skip
    assert read(new) == [
        {"name": "starter", "starting_at": "2025-07-01T00:00:00Z", "ending_before": None}
    ]
    assert package_for_alias(name="starter", at=T1) == old
    assert package_for_alias(name="starter", at=T2 - dt.timedelta(microseconds=1)) == old
    assert package_for_alias(name="starter", at=T2) == new
    assert package_for_alias(name="starter", at=T0 - dt.timedelta(days=1)) is None


def test_a_window_inside_an_open_interval_splits_it(read):
    # given
    base = create("base", alias(starting_at=T0))

    # when: a promotion owns the alias for one quarter
    promo = create("promo", alias(starting_at=T1, ending_before=T2))

    # then: the base package has the alias before and after the window
    assert read(base) == [
        {"name": "starter", "starting_at": "2025-01-01T00:00:00Z", "ending_before": "2025-04-01T00:00:00Z"},
        {"name": "starter", "starting_at": "2025-07-01T00:00:00Z", "ending_before": None},
    ]  # fmt: skip
    assert [package_for_alias(name="starter", at=t) for t in (T0, T1, T2, T3)] == [
        base,
        promo,
        base,
        base,
    ]


def test_an_earlier_start_trims_the_head_of_a_later_interval(read):
    # given: a future-dated package owns the alias from T1 to T3
    later = create("later", alias(starting_at=T1, ending_before=T3))

    # when: another takes [T0, T2)
    earlier = create("earlier", alias(starting_at=T0, ending_before=T2))

    # then
    assert read(later) == [
        {"name": "starter", "starting_at": "2025-07-01T00:00:00Z", "ending_before": "2025-10-01T00:00:00Z"}
    ]  # fmt: skip
    assert package_for_alias(name="starter", at=T1) == earlier
    assert package_for_alias(name="starter", at=T2) == later
    assert package_for_alias(name="starter", at=T3) is None


def test_a_covered_interval_is_superseded_not_deleted(read):
    # given
    first = create("first", alias(starting_at=T1, ending_before=T2))

    # when: a new package takes the alias for a window covering the whole interval
    second = create("second", alias(starting_at=T0))

    # then: the first package no longer shows the alias, but the schedule keeps the row
    assert read(first) == []
    name = AliasName.objects.get(kind="package", name="starter")
    rows = list(alias_schedule(alias_name=name))
    assert [(row.package, row.superseded_at is not None) for row in rows] == [
        (second, False),
        (first, True),
    ]
    assert package_for_alias(name="starter", at=T1) == second
    assert alias_package_versions(alias_name=name) == [first.id, second.id]


def test_one_package_can_carry_several_aliases(read):
    package = create("multi", alias("starter", T0), alias("basic", T1))
    assert {a["name"] for a in read(package)} == {"starter", "basic"}
    assert package_for_alias(name="basic", at=T2) == package
    assert package_for_alias(name="basic", at=T0) is None


def test_package_aliases_and_rate_card_aliases_are_separate_names():
    from packages_app.models import RateCard
    from packages_app.services.aliases import alias_assign

    rate_card = RateCard.objects.create(name="rates")
    alias_assign(kind="rate_card", name="starter", rate_card=rate_card, starting_at=T0)
    package = create("p", alias(starting_at=T0))
    assert package_for_alias(name="starter", at=T1) == package
    assert AliasAssignment.objects.filter(rate_card=rate_card, superseded_at=None).count() == 1


def test_alias_given_twice_in_one_request_is_400(client):
    _, token = user_with_token("packages_app.add_package")
    response = api_post(
        client,
        token,
        "/v1/packages/create",
        {"name": "p", "aliases": [{"name": "a"}, {"name": "a"}]},
    )
    assert response.status_code == 400
    assert response.json()["field"] == "aliases[1].name"
    assert not AliasName.objects.exists()


def test_aliases_through_the_api_accept_naive_datetimes_as_utc(client, read):
    # given
    _, token = user_with_token("packages_app.add_package")
    body = {
        "name": "p",
        "aliases": [
            {"name": "a", "starting_at": "2025-01-01T00:00:00.000", "ending_before": "2025-02-01T00:00:00+01:00"}
        ],
    }  # fmt: skip

    # when
    response = api_post(client, token, "/v1/packages/create", body)

    # then
    assert response.status_code == 200, response.content
    from packages_app.models import Package

    assert read(Package.objects.get()) == [
        {"name": "a", "starting_at": "2025-01-01T00:00:00Z", "ending_before": "2025-01-31T23:00:00Z"}
    ]  # fmt: skip


def test_each_alias_costs_a_fixed_number_of_queries(django_assert_max_num_queries):
    create("seed", alias("a", T0), alias("b", T0))
    # The package part: savepoints around the service and the insert (no references, no
    # terms). Each alias: its savepoint, get_or_create (savepoint, select, release), lock,
    # overlapping rows, the split row's package, one trim update, one insert, release. The
    # audit trail: one entry for the package, one bulk insert for every alias. The package's
    # webhook event (the outbox row).
    with django_assert_max_num_queries(8 + 2 * 10):
        create("next", alias("a", T1, T2), alias("b", T1, T2))
