"""Customers, their contracts (with materialised terms) and subscriptions (DESIGN.md §3, §6)."""

from __future__ import annotations

import uuid

from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import RangeOperators
from django.contrib.postgres.indexes import GistIndex
from django.db import models
from django.db.models import F, Func, Q, Value

from packages_app.models import (
    ArchivableQuerySet,
    DecimalJSONField,
    InvoicingSettings,
    Package,
    PackageTerm,
    Product,
    RateCard,
    minute_label,
)


class Customer(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=400)
    external_id = models.CharField(max_length=400, null=True, blank=True)
    ingest_aliases = models.JSONField(default=list, blank=True)
    custom_fields = models.JSONField(default=dict, blank=True)
    details = DecimalJSONField(default=dict, blank=True, help_text="Other fields sent at create")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = ArchivableQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["created_at", "id"], name="customer_keyset")]
        constraints = [
            models.UniqueConstraint(
                fields=["external_id"],
                condition=Q(external_id__isnull=False, archived_at__isnull=True),
                name="customer_external_id_unique_active",
                violation_error_message="An active customer with this external_id exists.",
            )
        ]

    def __str__(self) -> str:
        return self.name


class BillingProviderConfiguration(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(
        Customer, on_delete=models.CASCADE, related_name="billing_provider_configurations"
    )
    billing_provider = models.CharField(max_length=40)
    delivery_method = models.CharField(max_length=40)
    configuration = DecimalJSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    objects = ArchivableQuerySet.as_manager()

    class Meta:
        ordering = ["customer", "created_at"]

    def __str__(self) -> str:
        return f"{self.billing_provider} / {self.delivery_method}"


class Subscription(models.Model):
    """A customer's chain of successive contracts (a Solvimon pricing-plan subscription)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="subscriptions")
    platform_id = models.CharField(max_length=200, blank=True)
    details = DecimalJSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]
        # Solvimon's permission name, as a Django permission a token's user can be granted.
        permissions = [("pricing_plan_schedule_create", "PRICING_PLAN_SCHEDULE.CREATE")]

    def __str__(self) -> str:
        return f"Subscription {self.id} ({self.customer})"


def uuid_half(field: str, take: str) -> Func:
    """The first (`take="left"`) or last 64 bits of a UUID column, as a bigint."""
    return Func(
        F(field),
        function=take,
        template="('x' || %(function)s(replace(%(expressions)s::text, '-', ''), 16))"
        "::bit(64)::bigint",
        output_field=models.BigIntegerField(),
    )


def int8_key(value: Func) -> Func:
    """An integer as the range `[n, n]`, for GiST equality (DESIGN.md §3)."""
    return Func(value, value, Value("[]"), function="int8range")


def uuid_key(field: str) -> list[tuple[Func, str]]:
    """Exclusion-constraint equality on a UUID column, for a server without btree_gist.

    DESIGN.md §3 keys such constraints on an integer as `int8range(n, n, '[]') WITH =`; a UUID is
    two 64-bit integers, so it takes two such terms: exact equality, no hash, no extra column
    to keep in sync. (`[n, n]` is stored as `[n, n+1)`, which overflows for n = 2^63-1 only:
    never a half of a version-4 UUID, whose version nibble is 4 and whose variant bit makes
    the second half negative. Ranges `[n, +inf)` would avoid that but make every GiST key
    overlap every other: inserts then took ~1 ms each, measured.)
    """
    return [(int8_key(uuid_half(field, take)), RangeOperators.EQUAL) for take in ("left", "right")]


# SQL of the contract_cohort_span index keys, for the queries that use it.
_PACKAGE_HALF_SQL = "('x' || left(replace(package_id::text, '-', ''), 16))::bit(64)::bigint"
PACKAGE_KEY_SQL = f"int8range({_PACKAGE_HALF_SQL}, {_PACKAGE_HALF_SQL}, '[]')"
SPAN_SQL = "tstzrange(starting_at, ending_before)"


def package_key(package_id) -> int:
    """PACKAGE_KEY_SQL's integer for one package id (its first 64 bits, signed)."""
    return int.from_bytes(package_id.bytes[:8], "big", signed=True)


class ContractQuerySet(ArchivableQuerySet):
    def on_package(self, package):
        return self.filter(package=package)

    def covering(self, at):
        return self.filter(
            Q(starting_at__lte=at), Q(ending_before__isnull=True) | Q(ending_before__gt=at)
        )


TIMELINE_CONSTRAINT = "contract_subscription_timeline"


class Contract(InvoicingSettings):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(Customer, on_delete=models.PROTECT, related_name="contracts")
    subscription = models.ForeignKey(
        Subscription, on_delete=models.PROTECT, null=True, blank=True, related_name="contracts"
    )
    # No index of its own: the cohort indexes lead with package_id and serve lookups by package
    # (one index less to write per contract).
    package = models.ForeignKey(
        Package,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contracts",
        db_index=False,
    )
    rate_card = models.ForeignKey(
        RateCard, on_delete=models.PROTECT, null=True, blank=True, related_name="contracts"
    )
    billing_provider_configuration = models.ForeignKey(
        BillingProviderConfiguration,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="contracts",
    )
    name = models.CharField(max_length=400, blank=True)
    starting_at = models.DateTimeField()
    ending_before = models.DateTimeField(null=True, blank=True)
    settings = DecimalJSONField(
        default=dict,
        blank=True,
        help_text="usage_statement_schedule (absolute), thresholds, transition, custom_fields",
    )
    uniqueness_key = models.CharField(max_length=128, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=200, blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)
    # The transaction that last wrote this contract's row or any of its term rows, stamped by
    # database triggers (migration 0008) so no writer can forget it: API, pages, admin, beat,
    # raw SQL. A migration writes the old and the new contract in one transaction, so while
    # both still carry the same stamp neither has changed since the move (a revert's check).
    written_xact = models.BigIntegerField(null=True, blank=True, editable=False)

    objects = ContractQuerySet.as_manager()

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # Cohort pages: contracts on a package ordered by start, keyset on (starting_at, id).
            # It covers every column a cohort item shows, so a page is an index-only scan.
            models.Index(
                fields=["package", "starting_at", "id"],
                include=["customer", "ending_before", "archived_at"],
                name="contract_cohort",
            ),
            # The cohort in two dimensions: a package's contracts covering an instant, for
            # covering_date pages where few contracts cover the date among many ended or not
            # yet started (selectors.contracts.contracts_covering_page). The package is keyed
            # by its id's first 64 bits (no btree_gist): a shared key costs a recheck only.
            GistIndex(
                int8_key(uuid_half("package_id", "left")),
                Func(F("starting_at"), F("ending_before"), function="tstzrange"),
                name="contract_cohort_span",
            ),
            models.Index(fields=["customer", "starting_at"], name="contract_customer_start"),
            models.Index(fields=["created_at", "id"], name="contract_keyset"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "uniqueness_key"],
                condition=Q(uniqueness_key__isnull=False),
                name="contract_uniqueness_key",
                violation_error_message="A contract with this uniqueness_key already exists.",
            ),
            models.CheckConstraint(
                condition=Q(ending_before__isnull=True) | Q(ending_before__gt=F("starting_at")),
                name="contract_interval_positive",
                violation_error_message="A contract must end after it starts.",
            ),
            # A subscription is one timeline: its live contracts never overlap, whichever path
            # writes them (renewals, end-date changes, schedules, migrations).
            ExclusionConstraint(
                name=TIMELINE_CONSTRAINT,
                expressions=[
                    *uuid_key("subscription_id"),
                    (
                        Func(F("starting_at"), F("ending_before"), function="tstzrange"),
                        RangeOperators.OVERLAPS,
                    ),
                ],
                condition=Q(subscription__isnull=False, archived_at__isnull=True),
                violation_error_message="The contracts of a subscription cannot overlap.",
            ),
        ]

    def __str__(self) -> str:
        return self.name or f"Contract {self.id}"


class ContractTerm(models.Model):
    """A materialised term with absolute dates, linked to the package term it came from.

    Recurring commits/credits are stored once with their absolute window and once per
    recurrence period (`generated_from` points at the recurring row).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # No index of its own: the unique (contract, kind, ordinal) index serves lookups by contract,
    # and one index less to write per materialised term keeps provisioning fast.
    contract = models.ForeignKey(
        Contract, on_delete=models.CASCADE, related_name="terms", db_index=False
    )
    kind = models.CharField(max_length=20, choices=PackageTerm.Kind.choices)
    ordinal = models.PositiveIntegerField()
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, null=True, blank=True, related_name="contract_terms"
    )
    package_term = models.ForeignKey(
        PackageTerm, on_delete=models.PROTECT, null=True, blank=True, related_name="contract_terms"
    )
    generated_from = models.ForeignKey(
        "self", on_delete=models.CASCADE, null=True, blank=True, related_name="generated_terms"
    )
    starting_at = models.DateTimeField(null=True, blank=True)
    ending_before = models.DateTimeField(null=True, blank=True)
    body = DecimalJSONField(default=dict)
    # Set by an edit (archive_commits, remove_overrides, ...): the row stays, for history and
    # for ids clients hold; reads show it archived or leave it out (contracts_app.api).
    archived_at = models.DateTimeField(null=True, blank=True)
    # Last changed by an edit. An edited package term is the contract's own from then on: a
    # later end re-materialises the package's other terms, never this one (contract_ends).
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["contract", "kind", "ordinal"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "kind", "ordinal"], name="contract_term_position"
            )
        ]

    def __str__(self) -> str:
        window = f"{minute_label(self.starting_at)} to {minute_label(self.ending_before)}"
        period = " period" if self.generated_from_id else ""
        return f"{self.get_kind_display()}{period} #{self.ordinal} ({window})"


class ContractEdit(models.Model):
    """One edit of a contract (v2 contracts/edit, commits/edit, credits/edit, v1 amend), applied
    in one transaction. `edit` is its wire form (the SDK's edit-history entry: the terms it
    added as rendered then, what it updated, archived or removed, and the stored-only fields),
    so the history is read back as written, one query whatever its size."""

    class Kind(models.TextChoices):
        EDIT = "EDIT"
        EDIT_COMMIT = "EDIT_COMMIT"
        EDIT_CREDIT = "EDIT_CREDIT"
        AMENDMENT = "AMENDMENT"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="edits")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    timestamp = models.DateTimeField(auto_now_add=True)
    created_by = models.CharField(max_length=200, blank=True)
    uniqueness_key = models.CharField(max_length=128, null=True, blank=True)
    # Amendments take effect from this instant (v1 amend's starting_at).
    starting_at = models.DateTimeField(null=True, blank=True)
    edit = DecimalJSONField(default=dict)

    class Meta:
        ordering = ["contract", "timestamp", "id"]
        indexes = [
            models.Index(fields=["contract", "timestamp", "id"], name="contract_edit_history")
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "uniqueness_key"],
                condition=Q(uniqueness_key__isnull=False),
                name="contract_edit_uniqueness_key",
                violation_error_message="An edit with this uniqueness_key already exists.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.id} of {self.contract_id}"


# --- bulk cohort migrations (DESIGN.md §7) ------------------------------------------------------


class CohortMigration(models.Model):
    """A job moving a package's contracts (a cohort) to another package (DESIGN.md §7).

    Progress counters are not columns of this row: each batch appends one
    CohortMigrationProgress row of deltas, so batches never write (nor lock) this row, and a
    status transition (an UPDATE of this row) never waits for them; a cancel takes effect at
    each chain's next batch (services.cohort_migrations, services.cohort_migration_batches).
    """

    class Status(models.TextChoices):
        SCHEDULED = "SCHEDULED"
        RUNNING = "RUNNING"
        COMPLETED = "COMPLETED"
        FAILED = "FAILED"
        CANCELLED = "CANCELLED"
        REVERTING = "REVERTING"
        REVERTED = "REVERTED"
        # The revert ended with some moved contracts kept on the new package (changed since
        # the move, or followed by a later contract): items REVERT_BLOCKED say which and why.
        PARTIALLY_REVERTED = "PARTIALLY_REVERTED", "Partially reverted"
        # Stopped until resumed: its canary moved, or somebody paused it (issue 22). Pending
        # items stay PENDING; beat never resumes it.
        PAUSED = "PAUSED"

    class Timing(models.TextChoices):
        AT = "AT"
        NEXT_BILLING_PERIOD = "NEXT_BILLING_PERIOD"
        END_OF_TERM = "END_OF_TERM"

    class EditedContracts(models.TextChoices):
        """What to do with contracts edited since provisioning (they hold terms their package
        does not, which the new contract, built from the target package, will not have)."""

        SKIP = "SKIP"
        MIGRATE = "MIGRATE"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=400, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SCHEDULED)
    # As sent (echoed by the API), and resolved: the source package is fixed at create.
    source = models.JSONField(default=dict)
    source_package = models.ForeignKey(
        Package, on_delete=models.PROTECT, related_name="cohort_migrations_from"
    )
    target = models.JSONField(default=dict)
    # One of these: a package, or an alias name resolved as of each item's effective instant.
    target_package = models.ForeignKey(
        Package,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cohort_migrations_to",
    )
    target_alias = models.CharField(max_length=400, blank=True)
    effective = models.JSONField(default=dict)
    timing = models.CharField(max_length=20, choices=Timing.choices)
    effective_at = models.DateTimeField(
        null=True, blank=True, help_text="AT: the instant; NEXT_BILLING_PERIOD: not_before"
    )
    customer_ids = models.JSONField(null=True, blank=True)
    exclude_customer_ids = models.JSONField(null=True, blank=True)
    edited_contracts = models.CharField(
        max_length=8, choices=EditedContracts.choices, default=EditedContracts.SKIP
    )
    run_at = models.DateTimeField()
    created_by = models.CharField(max_length=200, blank=True)
    uniqueness_key = models.CharField(max_length=128, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    revert_started_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # Set by the plan: the source's live contracts (within the customer filters) that had ended
    # by the effective time, so not items; items + these = the package's contracts.
    ended_before_effective = models.PositiveIntegerField(default=0)
    # Staged rollout (issue 22): the canary as sent ({"count": N} or {"customer_ids": [...]}),
    # null without one. While `canary_open`, batches move only the items marked canary; when
    # none is left pending the job stops PAUSED (migration_finish_if_done) and resuming it
    # closes the canary.
    canary = models.JSONField(null=True, blank=True)
    canary_open = models.BooleanField(default=False, db_default=False)
    paused_at = models.DateTimeField(null=True, blank=True)
    # The last revert as asked and planned: scope, customers, and how many moved contracts it
    # reverts, keeps in effect, leaves blocked or did not choose (cohort_migration_revert).
    revert_request = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["created_at", "id"], name="cohort_migration_keyset"),
            # The beat dispatcher's scan: due scheduled jobs (and running ones to re-kick).
            models.Index(
                fields=["status", "run_at"],
                condition=Q(status__in=["SCHEDULED", "RUNNING", "REVERTING"]),
                name="cohort_migration_unfinished",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["uniqueness_key"],
                condition=Q(uniqueness_key__isnull=False),
                name="cohort_migration_uniqueness_key",
                violation_error_message="A cohort migration with this uniqueness_key exists.",
            ),
            models.CheckConstraint(
                condition=Q(target_package__isnull=False) ^ ~Q(target_alias=""),
                name="cohort_migration_one_target",
                violation_error_message="A migration has a target package or a target alias.",
            ),
        ]

    # The transitions a user can ask for, by status (DESIGN.md §7); the services enforce them
    # with conditional UPDATEs and the pages ask these before offering a button.
    CANCELLABLE = frozenset({Status.SCHEDULED, Status.RUNNING, Status.PAUSED})
    # A paused job's pending items are cancelled by its revert; a partially reverted one may
    # give back what it still has moved (another scope, other customers).
    REVERTIBLE = frozenset(
        {Status.COMPLETED, Status.CANCELLED, Status.PAUSED, Status.PARTIALLY_REVERTED}
    )
    PAUSABLE = frozenset({Status.RUNNING})
    RESUMABLE = frozenset({Status.PAUSED})
    # Failed items may be queued again once the job has stopped moving (paused or completed).
    RETRYABLE = frozenset({Status.PAUSED, Status.COMPLETED})
    # Still moving: pages poll its progress.
    UNFINISHED = frozenset({Status.SCHEDULED, Status.RUNNING, Status.REVERTING})

    def __str__(self) -> str:
        return self.name or f"Cohort migration {self.id}"

    @property
    def can_cancel(self) -> bool:
        return self.status in self.CANCELLABLE

    @property
    def can_revert_status(self) -> bool:
        """Its status allows a revert; whether none of its moves has taken effect yet is
        asked of selectors.cohort_migrations.migration_revert_window."""
        return self.status in self.REVERTIBLE

    @property
    def is_unfinished(self) -> bool:
        return self.status in self.UNFINISHED


class CohortMigrationItem(models.Model):
    """One contract of a migration's cohort and what happened to it."""

    class Status(models.TextChoices):
        PENDING = "PENDING"
        MIGRATED = "MIGRATED"
        SKIPPED = "SKIPPED"
        FAILED = "FAILED"
        CANCELLED = "CANCELLED"
        REVERTED = "REVERTED"
        # Moved, and the revert left it moved: its reason says why (a *_SINCE_MOVE change, a
        # successor, or the move already took effect).
        REVERT_BLOCKED = "REVERT_BLOCKED", "Not reverted"

    class Reason(models.TextChoices):
        TARGET_ARCHIVED = "TARGET_ARCHIVED"
        TARGET_ALIAS_UNRESOLVED = "TARGET_ALIAS_UNRESOLVED"
        NO_BILLING_CONFIGURATION = "NO_BILLING_CONFIGURATION"
        AMBIGUOUS_BILLING_CONFIGURATION = "AMBIGUOUS_BILLING_CONFIGURATION"
        ALREADY_ON_TARGET = "ALREADY_ON_TARGET"
        ENDS_BEFORE_EFFECTIVE = "ENDS_BEFORE_EFFECTIVE"
        STARTS_AFTER_EFFECTIVE = "STARTS_AFTER_EFFECTIVE"
        OPEN_ENDED = "OPEN_ENDED"
        SUCCESSOR_EXISTS = "SUCCESSOR_EXISTS"
        IN_OTHER_MIGRATION = "IN_OTHER_MIGRATION"
        CONTRACT_ARCHIVED = "CONTRACT_ARCHIVED"
        HAS_EDITS = "HAS_EDITS"
        # Why a revert left a moved contract as it is (status REVERT_BLOCKED).
        CHANGED_SINCE_MOVE = "CHANGED_SINCE_MOVE"
        ARCHIVED_SINCE_MOVE = "ARCHIVED_SINCE_MOVE"
        TOOK_EFFECT = "TOOK_EFFECT"

    id = models.BigAutoField(primary_key=True)
    migration = models.ForeignKey(
        CohortMigration, on_delete=models.CASCADE, related_name="items", db_index=False
    )
    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, related_name="cohort_migration_items", db_index=False
    )
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    status = models.CharField(max_length=16, choices=Status.choices)
    reason = models.CharField(max_length=40, choices=Reason.choices, blank=True)
    message = models.TextField(blank=True)
    effective_at = models.DateTimeField(null=True, blank=True)
    target_package = models.ForeignKey(
        Package, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    new_contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    # The old contract's end, settings and the term rows the migration changed or deleted, as
    # they were: what a revert writes back (only rows that changed, not the whole contract).
    snapshot = DecimalJSONField(null=True, blank=True)
    # Staged rollouts (issue 22): moved first, before the job pauses (CohortMigration.canary);
    # chosen by the revert under way (its scope and customers), the only items it claims.
    canary = models.BooleanField(default=False, db_default=False)
    revert_selected = models.BooleanField(default=False, db_default=False)

    class Meta:
        ordering = ["migration", "id"]
        indexes = [
            # listItems pages (keyset on id) and batch claims (status = PENDING, by id).
            models.Index(fields=["migration", "status", "id"], name="cohort_item_status"),
            models.Index(fields=["migration", "id"], name="cohort_item_keyset"),
        ]
        constraints = [
            # A contract is in at most one unfinished migration (DESIGN.md §7).
            models.UniqueConstraint(
                fields=["contract"],
                condition=Q(status="PENDING"),
                name="cohort_item_one_unfinished",
                violation_error_message="The contract is pending in another migration.",
            ),
            models.CheckConstraint(
                condition=~Q(status="SKIPPED") | ~Q(reason=""),
                name="cohort_item_skip_has_reason",
                violation_error_message="A skipped item names its reason.",
            ),
        ]


class CohortMigrationChain(models.Model):
    """One chain of a job's batches (a worker's share of it) and its lease (issue 19 item 4).

    A batch holds its chain's row locked for its whole transaction (so a chain at work is never
    taken for dead) and, on commit, leaves `expires_at` a short while ahead: the time its next
    task may wait in the broker. A chain whose row is unlocked and expired died with its worker:
    the dispatcher bumps `token` and queues it again. A task carries the token it was queued
    with, so a stale or redelivered message of a superseded chain does nothing.
    """

    id = models.BigAutoField(primary_key=True)
    migration = models.ForeignKey(
        CohortMigration, on_delete=models.CASCADE, related_name="chains", db_index=False
    )
    number = models.PositiveSmallIntegerField()
    token = models.BigIntegerField(default=0)
    # Null: the chain ended (found nothing left to claim).
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["migration", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["migration", "number"], name="cohort_chain_one_per_number"
            ),
        ]


class CohortMigrationProgress(models.Model):
    """Counter deltas written by one step of a migration (the plan, a batch, a cancel)."""

    id = models.BigAutoField(primary_key=True)
    migration = models.ForeignKey(
        CohortMigration, on_delete=models.CASCADE, related_name="progress"
    )
    at = models.DateTimeField(auto_now_add=True)
    total = models.IntegerField(default=0)
    pending = models.IntegerField(default=0)
    migrated = models.IntegerField(default=0)
    skipped = models.IntegerField(default=0)
    failed = models.IntegerField(default=0)
    cancelled = models.IntegerField(default=0)
    reverted = models.IntegerField(default=0)
    revert_blocked = models.IntegerField(default=0)

    class Meta:
        ordering = ["migration", "id"]
