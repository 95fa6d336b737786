"""Redis clients that give up: a broker that accepts connections but never answers (a paused or
overloaded server) must cost a request a bounded wait, never a thread held forever."""

from __future__ import annotations

import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry


def redis_url_for_client(broker_url: str) -> str:
    """Kombu's `redis+socket:///path` is redis-py's `unix:///path`; other URLs are the same."""
    if broker_url.startswith("redis+socket://"):
        return "unix://" + broker_url.removeprefix("redis+socket://")
    return broker_url


def health_check_client(broker_url: str) -> redis.Redis:
    """One attempt, short timeouts: a health check must answer in about a second either way."""
    return redis.Redis.from_url(
        redis_url_for_client(broker_url),
        socket_timeout=settings.REDIS_HEALTH_CHECK_TIMEOUT,
        socket_connect_timeout=settings.REDIS_HEALTH_CHECK_TIMEOUT,
        retry=Retry(NoBackoff(), 0),
    )
