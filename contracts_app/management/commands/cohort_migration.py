"""`manage.py cohort_migration preview|create|status|list|cancel|revert|pause|resume|retry-failed`:
cohort migrations from a terminal, through the same input checks and services as the API.

    manage.py cohort_migration preview --source-package ID --target-alias "Starter" \\
        --next-billing-period 2030-03-01T00:00:00Z
    manage.py cohort_migration create --source-package ID --target-package ID \\
        --at 2030-03-01T00:00:00Z --name "Starter v1 → v2" --wait
    manage.py cohort_migration status MIGRATION_ID --follow
    manage.py cohort_migration cancel MIGRATION_ID
    manage.py cohort_migration revert MIGRATION_ID --wait
    manage.py cohort_migration create … --canary-count 5 --wait     # stops PAUSED after 5
    manage.py cohort_migration resume MIGRATION_ID --wait
    manage.py cohort_migration pause MIGRATION_ID
    manage.py cohort_migration revert MIGRATION_ID --scope NOT_IN_EFFECT --customer-id ID
    manage.py cohort_migration retry-failed MIGRATION_ID --wait

Jobs run on the Celery workers (`make run` starts them); `--inline` runs the batches in this
process instead (no worker needed).
"""

from __future__ import annotations

import json
import sys
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from config.api.errors import flatten_errors
from config.api.views_base import validated
from config.core.errors import ApplicationError
from config.core.instants import format_instant
from contracts_app.api.cohort_migration_serializers import (
    MigrationCreateInput,
    MigrationRevertInput,
    migration_data,
    resolved_input,
)
from contracts_app.models import CohortMigration
from contracts_app.selectors.cohort_migrations import (
    cohort_migration_preview,
    migration_actions,
    migration_get,
    migration_list,
    migration_progress,
)
from contracts_app.services import cohort_migrations as services
from contracts_app.services.cohort_migration_batches import (
    migration_batch_run,
    migration_revert_batch_run,
)

# Where --wait stops following (a paused job waits for a resume).
FINISHED = {"COMPLETED", "FAILED", "CANCELLED", "REVERTED", "PARTIALLY_REVERTED", "PAUSED"}
ACTION_WORDS = {
    "cancel": "cancel",
    "revert": "revert",
    "pause": "pause",
    "resume": "resume",
    "revert_not_in_effect": "revert --scope NOT_IN_EFFECT",
    "retry_failed": "retry-failed",
}
BAR = 30


class Command(BaseCommand):
    help = "Preview, create, follow, cancel and revert cohort migrations (DESIGN.md §7)."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        for name in ("preview", "create"):
            sub = commands.add_parser(name)
            source = sub.add_mutually_exclusive_group(required=True)
            source.add_argument("--source-package", metavar="ID")
            source.add_argument("--source-alias", metavar="NAME")
            sub.add_argument("--as-of", metavar="TIME", help="with --source-alias")
            target = sub.add_mutually_exclusive_group(required=True)
            target.add_argument("--target-package", metavar="ID")
            target.add_argument("--target-alias", metavar="NAME")
            timing = sub.add_mutually_exclusive_group(required=True)
            timing.add_argument("--at", metavar="TIME")
            timing.add_argument("--next-billing-period", metavar="NOT_BEFORE")
            timing.add_argument("--end-of-term", action="store_true")
            sub.add_argument("--customer-id", action="append", dest="customer_ids")
            sub.add_argument("--exclude-customer-id", action="append", dest="exclude_customer_ids")
            sub.add_argument(
                "--edited-contracts",
                help="SKIP (default: contracts with edits are skipped as HAS_EDITS) or MIGRATE "
                "(moved; their edits do not carry over)",
            )
            sub.add_argument(
                "--allow-past",
                action="store_true",
                help="accept an --at / --next-billing-period in the past: contracts change "
                "retroactively, over periods already billed, and the move cannot be reverted",
            )
            if name == "create":
                sub.add_argument("--name", default="")
                sub.add_argument("--run-at", metavar="TIME")
                sub.add_argument("--uniqueness-key")
                canary = sub.add_mutually_exclusive_group()
                canary.add_argument(
                    "--canary-count",
                    type=int,
                    metavar="N",
                    help="move the first N contracts first, then pause until resumed",
                )
                canary.add_argument(
                    "--canary-customer-id",
                    action="append",
                    dest="canary_customer_ids",
                    help="move this customer's contract first (repeat), then pause",
                )
                self._waiting(sub)
        status = commands.add_parser("status")
        status.add_argument("migration_id")
        status.add_argument("--follow", action="store_true", help="a progress bar until done")
        status.add_argument("--json", action="store_true")
        listing = commands.add_parser("list")
        listing.add_argument("--status", choices=CohortMigration.Status.values)
        for name in ("cancel", "pause", "revert", "resume", "retry-failed"):
            sub = commands.add_parser(name)
            sub.add_argument("migration_id")
            if name == "revert":
                sub.add_argument(
                    "--scope",
                    choices=["ALL", "NOT_IN_EFFECT"],
                    default="ALL",
                    help="ALL (refused once a move took effect) or NOT_IN_EFFECT (only the "
                    "moves still ahead)",
                )
                sub.add_argument(
                    "--customer-id",
                    action="append",
                    dest="customer_ids",
                    help="revert only this customer's move (repeat)",
                )
            if name in ("revert", "resume", "retry-failed"):
                self._waiting(sub)

    @staticmethod
    def _waiting(sub):
        sub.add_argument("--wait", action="store_true", help="a progress bar until done")
        sub.add_argument("--inline", action="store_true", help="run the batches here")

    def handle(self, *args, action, **options):
        try:
            getattr(self, f"_{action.replace('-', '_')}")(**options)
        except ApplicationError as exc:
            field = f" ({exc.field})" if exc.field else ""
            raise CommandError(f"{exc.message}{field}") from None
        except ValidationError as exc:
            errors = flatten_errors(exc.detail)
            raise CommandError(
                "; ".join(f"{name}: {' '.join(messages)}" for name, messages in errors.items())
            ) from None

    # --- input ---------------------------------------------------------------------------------

    def _input(self, options) -> dict:
        body: dict = {}
        if options["source_package"]:
            body["source"] = {"package_id": options["source_package"]}
        else:
            body["source"] = {"package_alias": options["source_alias"]}
            if options["as_of"]:
                body["source"]["as_of"] = options["as_of"]
        body["target"] = (
            {"package_id": options["target_package"]}
            if options["target_package"]
            else {"package_alias": options["target_alias"]}
        )
        if options["at"]:
            body["effective"] = {"type": "AT", "at": options["at"]}
        elif options["next_billing_period"]:
            body["effective"] = {
                "type": "NEXT_BILLING_PERIOD",
                "not_before": options["next_billing_period"],
            }
        else:
            body["effective"] = {"type": "END_OF_TERM"}
        for key in ("customer_ids", "exclude_customer_ids"):
            if options.get(key):
                body[key] = options[key]
        for key in ("name", "run_at", "uniqueness_key", "edited_contracts", "allow_past"):
            if options.get(key):
                body[key] = options[key]
        if options.get("canary_count") is not None:
            body["canary"] = {"count": options["canary_count"]}
        elif options.get("canary_customer_ids"):
            body["canary"] = {"customer_ids": options["canary_customer_ids"]}
        return validated(MigrationCreateInput, body)

    # --- actions -------------------------------------------------------------------------------

    def _preview(self, **options):
        resolved = resolved_input(self._input(options))
        preview = cohort_migration_preview(
            spec=resolved.spec,
            source=resolved.source_package,
            target=resolved.target_package,
            target_alias=resolved.target_alias,
        )
        self.stdout.write(json.dumps(preview, indent=2, default=str))

    def _create(self, **options):
        data = self._input(options)
        migration = services.cohort_migration_create(
            data=resolved_input(data),
            name=data.get("name", ""),
            run_at=data.get("run_at"),
            uniqueness_key=data.get("uniqueness_key"),
            created_by="manage.py cohort_migration",
            canary=data.get("canary"),
        )
        self.stdout.write(
            f"Created cohort migration {migration.id} (run at {format_instant(migration.run_at)})"
        )
        if options["inline"]:
            services.migration_start(migration_id=migration.id)
        self._wait(migration.id, options)

    def _status(self, *, migration_id, follow, **options):
        migration = migration_get(migration_id=migration_id)
        if options.get("json"):
            progress = migration_progress([migration])[migration.id]
            self.stdout.write(json.dumps(migration_data(migration, progress), indent=2))
        elif follow:
            self._follow(migration.id)
        else:
            self._line(migration, final=True)
            self._actions(migration)

    def _actions(self, migration: CohortMigration):
        """What may be asked of the job now: the selector the API and the pages ask."""
        allowed = migration_actions(migration=migration, now=timezone.now())
        offered = [
            f"{words} ({allowed[key]})" if allowed[key] is not True else words
            for key, words in ACTION_WORDS.items()
            if allowed[key]
        ]
        self.stdout.write(f"Allowed now: {', '.join(offered) if offered else 'nothing'}")

    def _list(self, *, status=None, **options):
        migrations = list(migration_list(status=status).order_by("-created_at")[:50])
        progress = migration_progress(migrations)
        for migration in migrations:
            counts = progress[migration.id]["counts"]
            self.stdout.write(
                f"{migration.id}  {migration.status:<10} {format_instant(migration.created_at)}  "
                f"{migration.source_package_id} → "
                f"{migration.target_package_id or migration.target_alias}  "
                f"{counts['migrated']}/{counts['total']} migrated  {migration.name}"
            )
        if not migrations:
            self.stdout.write("No cohort migrations.")

    def _cancel(self, *, migration_id, **options):
        migration = services.cohort_migration_cancel(
            migration=migration_get(migration_id=migration_id)
        )
        self._line(migration, final=True)

    def _revert(self, *, migration_id, scope="ALL", customer_ids=None, **options):
        data = validated(
            MigrationRevertInput,
            {"migration_id": migration_id, "scope": scope}
            | ({"customer_ids": customer_ids} if customer_ids else {}),
        )
        migration = services.cohort_migration_revert(
            migration=migration_get(migration_id=data["migration_id"]),
            scope=data["scope"],
            customer_ids=data.get("customer_ids"),
        )
        plan = migration.revert_request or {}
        self.stdout.write(
            f"Reverting {plan.get('reverting')} moved contract(s) (scope {scope}); "
            f"{plan.get('blocked')} blocked, {plan.get('kept_in_effect')} kept in effect, "
            f"{plan.get('not_chosen')} of other customers stay moved"
        )
        self._line(migration, final=True)
        self._wait(migration.id, options)

    def _pause(self, *, migration_id, **options):
        migration = services.cohort_migration_pause(
            migration=migration_get(migration_id=migration_id)
        )
        self._line(migration, final=True)

    def _resume(self, *, migration_id, **options):
        migration = services.cohort_migration_resume(
            migration=migration_get(migration_id=migration_id)
        )
        self._line(migration, final=True)
        self._wait(migration.id, options)

    def _retry_failed(self, *, migration_id, **options):
        migration = services.cohort_migration_retry_failed(
            migration=migration_get(migration_id=migration_id)
        )
        self._line(migration, final=True)
        self._wait(migration.id, options)

    # --- progress ------------------------------------------------------------------------------

    def _wait(self, migration_id, options):
        if options.get("inline"):
            self._run_inline(migration_id)
        if options.get("wait") or options.get("inline"):
            self._follow(migration_id)

    def _run_inline(self, migration_id):
        while True:
            migration = CohortMigration.objects.get(id=migration_id)
            step = {
                "RUNNING": migration_batch_run,
                "REVERTING": migration_revert_batch_run,
            }.get(migration.status)
            if step is None:
                return
            if not step(migration_id=migration_id):
                services.migration_finish_if_done(migration_id=migration_id)
            self._line(migration)

    def _follow(self, migration_id, poll: float = 1.0):
        while True:
            migration = CohortMigration.objects.get(id=migration_id)
            done = migration.status in FINISHED
            self._line(migration, final=done)
            if done:
                return
            time.sleep(poll)

    def _line(self, migration: CohortMigration, *, final: bool = False):
        progress = migration_progress([migration])[migration.id]
        counts = progress["counts"]
        filled = int(BAR * progress["percent"] / 100)
        rate = progress["items_per_second"]
        eta = progress["eta"]
        text = (
            f"[{'#' * filled}{'.' * (BAR - filled)}] {progress['percent']:5.1f}% "
            f"{migration.status:<10} total {counts['total']} migrated {counts['migrated']} "
            f"skipped {counts['skipped']} failed {counts['failed']} "
            f"cancelled {counts['cancelled']} reverted {counts['reverted']}"
            + (f"  {rate} items/s" if rate else "")
            + (f"  ETA {format_instant(eta)}" if eta and not final else "")
        )
        if sys.stdout.isatty():  # one line redrawn in place
            self.stdout.write("\r" + text, ending="\n" if final else "")
        else:
            self.stdout.write(text)
        self.stdout.flush()
