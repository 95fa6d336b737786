"""Celery tasks of the catalog room: thin, idempotent."""

from __future__ import annotations

from celery import shared_task

from packages_app.services.alias_announcements import alias_repointings_announce


@shared_task(name="packages_app.tasks.alias_repointings_announce_task", acks_late=True)
def alias_repointings_announce_task(**_ignored) -> int:
    """Beat, every few seconds: `alias.repointed` for each assignment that took effect."""
    return alias_repointings_announce()
