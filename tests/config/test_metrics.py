"""GET /metrics: protected Prometheus series for requests, queries, tasks, queues and aliases."""

import datetime as dt
import re
import uuid

import pytest
from django.utils import timezone

from config.api.tasks import worker_heartbeat
from packages_app.services.packages import package_create
from tests.factories import user_with_token

pytestmark = pytest.mark.django_db


def _scrape(client, token: str | None) -> tuple[int, str]:
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    response = client.get("/metrics", **headers)
    return response.status_code, response.content.decode()


def _value(text: str, series: str) -> float:
    """The value of one exact series line, e.g. 'pricing_http_requests_total{...}'."""
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{series} not in the scrape")


def test_metrics_need_a_token_with_the_metrics_permission(client):
    _, plain = user_with_token()
    _, scraper = user_with_token("metrics.view_metrics")

    assert _scrape(client, None)[0] == 401
    assert _scrape(client, plain)[0] == 403
    status, text = _scrape(client, scraper)
    assert status == 200
    assert "# TYPE pricing_http_requests_total counter" in text


def test_a_local_scraper_needs_no_token_only_when_the_setting_allows_it(client, settings):
    settings.METRICS_ALLOW_LOOPBACK = True
    assert _scrape(client, None)[0] == 200
    settings.METRICS_ALLOW_LOOPBACK = False
    assert _scrape(client, None)[0] == 401


def test_requests_are_counted_per_route_name_and_status_with_latency_and_queries(client):
    _, token = user_with_token("packages_app.view_package", "metrics.view_metrics")
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    _, before = _scrape(client, token)
    labels = '{method="POST",route="package-list-api",status="200"}'
    count_before = (
        _value(before, f"pricing_http_requests_total{labels}") if labels in before else 0.0
    )

    # when: three package lists and one bad request
    for _ in range(3):
        assert (
            client.post("/v1/packages/list", {}, "application/json", **headers).status_code == 200
        )
    client.post("/v1/packages/list", "[", "application/json", **headers)

    # then
    _, text = _scrape(client, token)
    assert _value(text, f"pricing_http_requests_total{labels}") == count_before + 3
    assert (
        'pricing_http_requests_total{method="POST",route="package-list-api",status="400"}' in text
    )
    assert _value(text, f"pricing_http_request_duration_seconds_count{labels}") >= 3
    assert _value(text, 'pricing_db_queries_per_request_count{route="package-list-api"}') >= 4
    assert _value(text, 'pricing_db_queries_total{route="package-list-api"}') >= 3
    # raw paths never become labels (bounded cardinality)
    assert not re.search(r'route="/', text)


def test_alias_repoints_in_the_next_24_hours_and_queue_depths_are_read_at_scrape_time(client):
    _, token = user_with_token("metrics.view_metrics")
    _, before = _scrape(client, token)
    soon = timezone.now() + dt.timedelta(hours=3)
    later = timezone.now() + dt.timedelta(days=3)

    package_create(created_by="tests", name="v2", aliases=[{"name": "m", "starting_at": soon}])
    package_create(created_by="tests", name="v3", aliases=[{"name": "n", "starting_at": later}])

    _, text = _scrape(client, token)
    series = 'pricing_alias_repoints_next_24h{kind="package"}'
    assert _value(text, series) == _value(before, series) + 1
    assert 'pricing_celery_queue_depth{queue="default"}' in text
    assert 'pricing_celery_queue_depth{queue="bulk"}' in text


def test_task_outcomes_are_counted(client):
    _, token = user_with_token("metrics.view_metrics")
    series = (
        'pricing_celery_tasks_total{outcome="succeeded",task="config.api.tasks.worker_heartbeat"}'
    )
    _, before = _scrape(client, token)
    count_before = _value(before, series) if series in before else 0.0

    worker_heartbeat.apply(args=[uuid.uuid4().hex])

    _, text = _scrape(client, token)
    assert _value(text, series) == count_before + 1
