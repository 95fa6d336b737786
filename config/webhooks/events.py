"""The event types a webhook endpoint can subscribe to (README, Webhooks), and what each means."""

from __future__ import annotations

EVENT_TYPES: dict[str, str] = {
    "contract.created": "A contract was provisioned (from a package or negotiated)",
    "contract.edited": "A contract was edited (terms or fields) or its end date moved",
    "contract.archived": "A contract was archived",
    "package.created": "A package was created",
    "package.archived": "A package was archived",
    "alias.repointed": "A scheduled alias assignment took effect: the alias now names its target",
    "cohort_migration.started": "A cohort migration was planned and began moving contracts",
    "cohort_migration.paused": "A cohort migration paused: its canary moved, or somebody paused it",
    "cohort_migration.resumed": "A paused cohort migration was resumed and moves contracts again",
    "cohort_migration.retried": "A cohort migration's failed contracts were queued to move again",
    "cohort_migration.cancelled": "A cohort migration was cancelled: its pending contracts stay",
    "cohort_migration.completed": "A cohort migration moved every contract it could",
    "cohort_migration.failed": "A cohort migration could not be planned and stopped",
    "cohort_migration.reverted": "A cohort migration's revert finished (fully or partially)",
}
