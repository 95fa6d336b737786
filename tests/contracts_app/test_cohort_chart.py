"""Cohort size over time: the selector's numbers are listContractsOnPackage's counts on the same
dates; one query whatever the range; the chart on the package and alias pages (marks, legend,
range form in the URL, empty state, query budgets)."""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest

from contracts_app.models import CohortMigration, Contract, Customer
from contracts_app.selectors.cohorts import cohort_sizes_over_time
from packages_app.services.aliases import alias_assign
from tests.contracts_app.cohort_page_builders import BASE, api_cohort, random_cohort
from tests.contracts_app.contract_builders import make_package
from tests.factories import UserFactory, user_with_token

pytestmark = pytest.mark.django_db
UTC = dt.UTC


@pytest.fixture
def two_versions():
    v1 = make_package(name="Starter Plan v1")
    v2 = make_package(name="Starter Plan v2")
    random_cohort(v1, 150, seed=11, prefix="Early")
    random_cohort(v2, 90, seed=12, prefix="Late")
    return v1, v2


@pytest.mark.parametrize("bucket", ["day", "week", "month"])
def test_the_sizes_are_the_api_cohort_counts_on_sampled_dates(
    client, two_versions, bucket, django_assert_num_queries
):
    # given
    v1, v2 = two_versions
    _, token = user_with_token(superuser=True)
    start, end = BASE - dt.timedelta(days=20), BASE + dt.timedelta(days=420)
    # when
    with django_assert_num_queries(1):
        sizes = cohort_sizes_over_time(
            package_ids=[v1.id, v2.id], start=start, end=end, bucket=bucket
        )
    # then
    assert sizes.points[0] <= start < sizes.points[1] and sizes.points[-1] <= end
    assert max(sizes.totals()) > 0
    step = max(1, len(sizes.points) // 6)
    for index in [*range(0, len(sizes.points), step), len(sizes.points) - 1]:
        at = sizes.points[index]
        for package in (v1, v2):
            expected = len(api_cohort(client, token, package, covering_date=at.isoformat()))
            assert sizes.sizes[package.id][index] == expected, (package.name, at)


def test_a_contract_counts_from_its_start_until_the_instant_before_its_end(two_versions):
    # the bounds exactly on a point: [starting_at, ending_before)
    package = make_package(name="Edges")
    customer = Customer.objects.create(name="Edge")
    day = dt.timedelta(days=1)
    Contract.objects.create(
        customer=customer, package=package, starting_at=BASE + day, ending_before=BASE + 3 * day
    )
    sizes = cohort_sizes_over_time(
        package_ids=[package.id], start=BASE, end=BASE + 4 * day, bucket="day"
    )
    assert sizes.sizes[package.id] == [0, 1, 1, 0, 0]


def test_the_package_page_draws_the_chart_with_alias_and_migration_marks(
    pricing_client, two_versions, django_assert_max_num_queries
):
    # given
    v1, v2 = two_versions
    alias_assign(kind="package", name="Starter", package=v1, starting_at=BASE)
    alias_assign(kind="package", name="Starter", package=v2, starting_at=BASE + dt.timedelta(100))
    CohortMigration.objects.create(
        source_package=v1,
        target_package=v2,
        timing=CohortMigration.Timing.AT,
        effective_at=BASE + dt.timedelta(days=150),
        run_at=BASE + dt.timedelta(days=150),
    )
    url = f"/packages/{v1.id}/?chart_from=2026-01-01&chart_to=2026-12-31&bucket=month"
    # when
    with django_assert_max_num_queries(16):
        html = pricing_client.get(url).content.decode()
    # then
    chart = html[html.index('id="cohort-chart"') :]
    assert '<path class="cc-area cc-0"' in chart
    assert "Starter → Starter Plan v1" in chart  # the alias's re-point onto this package
    assert "Migration Starter Plan v1 → Starter Plan v2" in chart
    assert re.search(r'<text class="cc-xlabel"[^>]*>2026-01-01<', chart)
    assert re.search(r'<text class="cc-xlabel"[^>]*>2026-12-01<', chart)
    assert 'name="bucket"' in chart and re.search(r'<option value="month" selected', chart)
    assert 'name="chart_from" value="2026-01-01"' in chart
    # htmx asks for the chart alone
    alone = pricing_client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="cohort-chart")
    assert "<html" not in alone.content.decode() and 'id="cohort-chart"' in alone.content.decode()


def test_the_package_page_queries_do_not_grow_with_the_cohort(
    pricing_client, two_versions, django_assert_max_num_queries
):
    v1, _ = two_versions
    url = f"/packages/{v1.id}/?bucket=day&chart_from=2026-01-01&chart_to=2026-06-30"
    with django_assert_max_num_queries(16) as before:
        pricing_client.get(url)
    random_cohort(v1, 200, seed=13, prefix="More")
    with django_assert_max_num_queries(len(before.captured_queries)):
        pricing_client.get(url)


def test_the_alias_chart_stacks_every_version_and_marks_each_re_point(
    pricing_client, two_versions, django_assert_max_num_queries
):
    v1, v2 = two_versions
    alias_assign(kind="package", name="Starter", package=v1, starting_at=BASE)
    row = alias_assign(
        kind="package", name="Starter", package=v2, starting_at=BASE + dt.timedelta(100)
    )
    page = pricing_client.get(f"/aliases/{row.alias_name_id}/?bucket=week").content.decode()
    assert f'hx-get="/aliases/{row.alias_name_id}/cohort/chart/?bucket=week"' in page
    # session + user, alias, history, sizes, migrations
    with django_assert_max_num_queries(6):
        chart = pricing_client.get(
            f"/aliases/{row.alias_name_id}/cohort/chart/?chart_from=2025-12-01"
            "&chart_to=2026-12-31&bucket=week&push=1",
            HTTP_HX_REQUEST="true",
        )
    html = chart.content.decode()
    assert '<path class="cc-area cc-0"' in html and '<path class="cc-area cc-1"' in html
    assert html.count('class="cc-mark cc-mark-alias"') == 2
    assert "Starter Plan v1" in html and "Starter Plan v2" in html
    assert chart["HX-Push-Url"] == (
        f"/aliases/{row.alias_name_id}/?chart_from=2025-12-01&chart_to=2026-12-31&bucket=week"
        "#cohort-chart"
    )


def test_an_empty_range_says_so_and_bad_ranges_are_field_errors(pricing_client, two_versions):
    v1, _ = two_versions
    empty = pricing_client.get(f"/packages/{v1.id}/?chart_from=2020-01-01&chart_to=2020-12-31")
    assert "No contracts on this package between 2020-01-01 and 2020-12-01" in (
        empty.content.decode()
    )
    for query, field in [
        ("chart_from=2026-13-01", "chart_from"),
        ("chart_from=2026-05-01&chart_to=2026-01-01", "chart_to"),
        ("chart_from=2000-01-01&chart_to=2026-01-01&bucket=day", "bucket"),
    ]:
        response = pricing_client.get(f"/packages/{v1.id}/?{query}")
        assert response.status_code == 200
        assert f'id="id_{field}_error"' in response.content.decode()


def test_the_alias_chart_needs_login_and_permission(client, two_versions):
    v1, _ = two_versions
    row = alias_assign(kind="package", name="Starter", package=v1, starting_at=BASE)
    url = f"/aliases/{row.alias_name_id}/cohort/chart/"
    assert client.get(url).status_code == 302
    client.force_login(UserFactory(username="nobody"))
    assert client.get(url).status_code == 403


@pytest.mark.parametrize(("peak", "labels"), [(3, [0, 1, 2, 3, 4, 5]), (17, [0, 5, 10, 15, 20])])
def test_each_y_label_is_the_count_at_its_line_and_date_labels_never_touch(peak, labels):
    """A cohort of 3 on a 0..5 axis: quarters (1.25, 2.5 …) were labelled 1, 2, 4, so 3 sat
    between "2" and "4". Monthly points from 2026-10-01: the first label starts at its point
    and reached into the second one ("2026-10-012026-12-01")."""
    from contracts_app.presenters import cohort_chart
    from contracts_app.selectors.cohorts import CohortSizes

    points = [dt.datetime(2026, 10, 1, tzinfo=UTC) + dt.timedelta(days=30.5 * i) for i in range(18)]
    sizes = CohortSizes(points=points, sizes={"v1": [peak] * 18})
    chart = cohort_chart(sizes, labels={}, hrefs={}, marks=[], title="t", now=None)
    assert [value for _, value in chart.y_ticks] == labels
    for y, value in chart.y_ticks:  # each value at its own line
        assert y == pytest.approx(
            chart.plot_top + chart.plot_height * (1 - value / labels[-1]), abs=0.1
        )
    boxes = []
    for x, label, anchor in chart.x_ticks:
        width = len(label) * 7.2
        x0 = {"start": x, "middle": x - width / 2, "end": x - width}[anchor]
        boxes.append((x0, x0 + width))
    assert all(a[1] < b[0] for a, b in itertools.pairwise(boxes)), chart.x_ticks
    assert chart.x_ticks[0][1] == "2026-10-01" and chart.x_ticks[-1][0] == max(
        x for x, _, _ in chart.x_ticks
    )
