"""Everything `make run` does before it starts serving, in one process.

Each `manage.py` process pays for importing Django and the project (seconds on a busy machine);
the launcher used to start four of them in a row. A step with nothing to do says so and costs
next to nothing.
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor

# Written into STATIC_ROOT after a collection: the fingerprint of the sources it collected.
STATIC_FINGERPRINT_FILE = ".collected-from"


def pending_migrations(database: str = DEFAULT_DB_ALIAS) -> list:
    executor = MigrationExecutor(connections[database])
    return executor.migration_plan(executor.loader.graph.leaf_nodes())


def static_sources_fingerprint() -> str:
    """A hash of every file collectstatic would collect (path, size, mtime) and of the storage
    that writes them: a new package version or an edited stylesheet changes it."""
    digest = hashlib.sha256(repr(settings.STORAGES.get("staticfiles")).encode())
    entries = []
    for finder in finders.get_finders():
        for path, storage in finder.list([]):
            stat = os.stat(storage.path(path))
            prefix = getattr(storage, "prefix", None) or ""
            entries.append(f"{prefix}/{path}\0{stat.st_size}\0{stat.st_mtime_ns}")
    for entry in sorted(entries):
        digest.update(entry.encode() + b"\n")
    return digest.hexdigest()


def static_is_collected(fingerprint: str) -> bool:
    marker = Path(settings.STATIC_ROOT) / STATIC_FINGERPRINT_FILE
    return marker.is_file() and marker.read_text().strip() == fingerprint


class Command(BaseCommand):
    help = (
        "Get ready to serve: apply migrations, collect static files when their sources changed, "
        "create the first administrator and seed the demo world on an empty database."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--no-seed", action="store_true", help="Do not seed the demo world (seed_demo)"
        )

    def step(self, message: str) -> None:
        self.stdout.write(f"[setup] {message}")
        self.stdout.flush()

    def handle(self, *args, no_seed: bool, **options):
        started = time.monotonic()
        plan = pending_migrations()
        if plan:
            self.step(f"migrating the database ({len(plan)} migrations to apply)…")
            call_command("migrate", interactive=False, verbosity=0)
        else:
            self.step("database schema is up to date")

        fingerprint = static_sources_fingerprint()
        if static_is_collected(fingerprint):
            self.step("static files are up to date")
        else:
            self.step("collecting static files…")
            call_command("collectstatic", interactive=False, verbosity=0)
            (Path(settings.STATIC_ROOT) / STATIC_FINGERPRINT_FILE).write_text(fingerprint + "\n")

        call_command("ensure_admin", stdout=self.stdout)
        if not no_seed:
            call_command("seed_demo", if_empty=True, stdout=self.stdout)
        self.step(f"ready in {time.monotonic() - started:.1f}s")
