"""Cohort migrations on the wire: request shapes (checked here; resolved by the services) and the
response forms (declared for the OpenAPI schema, rendered by the functions below)."""

from __future__ import annotations

from rest_framework import serializers

from config.api.schema import IdOutput
from config.api.serializers import StrictSerializer, require_exactly_one
from config.core.instants import format_instant
from contracts_app.models import CohortMigration, CohortMigrationItem
from contracts_app.services.cohort_migrations import MAX_CUSTOMER_IDS, migration_input
from packages_app.api.response_serializers import NumberOutput

Timing = CohortMigration.Timing


class TargetInput(StrictSerializer):
    package_id = serializers.UUIDField(required=False)
    package_alias = serializers.CharField(required=False, max_length=400)

    def validate(self, attrs):
        require_exactly_one(attrs, "package_id", "package_alias")
        return attrs


# The target's package reference, and for an alias the time it is read at.
class SourceInput(TargetInput):
    as_of = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        attrs = super().validate(attrs)
        if "package_alias" in attrs and "as_of" not in attrs:
            raise serializers.ValidationError(
                {"as_of": ["Required with package_alias: the alias's package at that time."]}
            )
        if "package_id" in attrs and "as_of" in attrs:
            raise serializers.ValidationError({"as_of": ["Only with package_alias."]})
        return attrs


class EffectiveInput(StrictSerializer):
    type = serializers.ChoiceField(choices=Timing.values)
    at = serializers.DateTimeField(required=False)
    not_before = serializers.DateTimeField(required=False)

    def validate(self, attrs):
        needs = {Timing.AT: "at", Timing.NEXT_BILLING_PERIOD: "not_before"}.get(attrs["type"])
        if needs and needs not in attrs:
            raise serializers.ValidationError({needs: [f"Required when type is {attrs['type']}."]})
        for name in ("at", "not_before"):
            if name in attrs and name != needs:
                raise serializers.ValidationError({name: [f"Not used with {attrs['type']}."]})
        return attrs


class MigrationPreviewInput(StrictSerializer):
    source = SourceInput()
    target = TargetInput()
    effective = EffectiveInput()
    customer_ids = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=MAX_CUSTOMER_IDS
    )
    exclude_customer_ids = serializers.ListField(
        child=serializers.UUIDField(), required=False, max_length=MAX_CUSTOMER_IDS
    )
    edited_contracts = serializers.ChoiceField(
        choices=CohortMigration.EditedContracts.values, required=False
    )
    allow_past = serializers.BooleanField(
        required=False,
        default=False,
        help_text="An effective.at (or effective.not_before) in the past moves contracts "
        "retroactively, over periods already billed, and such a migration cannot be reverted: "
        "it is refused (400 naming the field) unless this is true.",
    )


class CanaryInput(StrictSerializer):
    count = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_CUSTOMER_IDS,
        help_text="Move the first N eligible contracts (in plan order) first",
    )
    customer_ids = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        min_length=1,
        max_length=MAX_CUSTOMER_IDS,
        help_text="Move these customers' contracts first",
    )

    def validate(self, attrs):
        require_exactly_one(attrs, "count", "customer_ids")
        return attrs


class MigrationCreateInput(MigrationPreviewInput):
    name = serializers.CharField(required=False, allow_blank=True, max_length=400)
    run_at = serializers.DateTimeField(required=False)
    uniqueness_key = serializers.CharField(required=False, min_length=1, max_length=128)
    canary = CanaryInput(
        required=False,
        help_text="A staged rollout: these contracts move first, then the job stops PAUSED "
        "until /v1/packages/migrations/resume",
    )


def resolved_input(data: dict):
    """A validated preview or create body (API and CLI alike) resolved by the service: packages,
    alias, effective time and customer lists checked against the database."""
    return migration_input(
        source=data["source"],
        target=data["target"],
        effective=data["effective"],
        customer_ids=data.get("customer_ids"),
        exclude_customer_ids=data.get("exclude_customer_ids"),
        edited_contracts=data.get("edited_contracts", CohortMigration.EditedContracts.SKIP),
        allow_past=data.get("allow_past", False),
    )


class MigrationRefInput(StrictSerializer):
    migration_id = serializers.UUIDField()


class MigrationRevertInput(StrictSerializer):
    migration_id = serializers.UUIDField()
    scope = serializers.ChoiceField(
        choices=["ALL", "NOT_IN_EFFECT"],
        required=False,
        default="ALL",
        help_text="ALL: every moved contract (refused once any has taken effect); "
        "NOT_IN_EFFECT: only those whose effective instant is still ahead (the others stay, "
        "in effect)",
    )
    customer_ids = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        min_length=1,
        max_length=MAX_CUSTOMER_IDS,
        help_text="Revert only these customers' moved contracts (each must have one in the job)",
    )


class MigrationListInput(StrictSerializer):
    status = serializers.ChoiceField(choices=CohortMigration.Status.values, required=False)
    package_id = serializers.UUIDField(required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100)
    next_page = serializers.CharField(required=False, allow_null=True)


class MigrationItemsInput(StrictSerializer):
    migration_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=CohortMigrationItem.Status.values, required=False)
    reason = serializers.ChoiceField(choices=CohortMigrationItem.Reason.values, required=False)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=100)
    next_page = serializers.CharField(required=False, allow_null=True)


# --- output (schema declarations; rendering below) ----------------------------------------------


class CountsOutput(serializers.Serializer):
    total = serializers.IntegerField()
    pending = serializers.IntegerField()
    migrated = serializers.IntegerField()
    skipped = serializers.IntegerField()
    failed = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    reverted = serializers.IntegerField()
    revert_blocked = serializers.IntegerField(
        help_text="Moved contracts a revert left on the new package (items REVERT_BLOCKED)"
    )


class ProgressOutput(serializers.Serializer):
    percent = serializers.FloatField()
    items_per_second = serializers.FloatField(allow_null=True)
    eta = serializers.DateTimeField(allow_null=True)


class CanaryOutput(serializers.Serializer):
    count = serializers.IntegerField(required=False, help_text="The canary as `{count}`")
    customers = serializers.IntegerField(
        required=False,
        help_text="The canary as `{customer_ids}`: how many customers it named (the ids are "
        "not echoed: up to 100,000)",
    )


class RevertRequestOutput(serializers.Serializer):
    scope = serializers.ChoiceField(choices=["ALL", "NOT_IN_EFFECT"])
    customer_ids = serializers.IntegerField(
        allow_null=True, help_text="How many customers the revert named (null: all)"
    )
    reverting = serializers.IntegerField(help_text="Moved contracts this revert gives back")
    blocked = serializers.IntegerField(
        help_text="Chosen moved contracts it must leave (changed, archived or followed since "
        "the move): items REVERT_BLOCKED"
    )
    kept_in_effect = serializers.IntegerField(
        help_text="Moved contracts of the chosen customers already in effect, left as they are "
        "(scope NOT_IN_EFFECT)"
    )
    not_chosen = serializers.IntegerField(
        help_text="Moved contracts of customers the revert did not name, left as they are"
    )
    at = serializers.DateTimeField()


class MigrationOutput(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    status = serializers.ChoiceField(choices=CohortMigration.Status.values)
    source = serializers.DictField()
    target = serializers.DictField()
    effective = serializers.DictField()
    edited_contracts = serializers.ChoiceField(choices=CohortMigration.EditedContracts.values)
    run_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    created_by = serializers.CharField()
    counts = CountsOutput()
    progress = ProgressOutput()
    last_error = serializers.CharField(allow_null=True)
    ended_before_effective = serializers.IntegerField(
        help_text="The source's live contracts that had ended by the effective time when the "
        "job was planned (not items)"
    )
    canary = CanaryOutput(
        allow_null=True, help_text="The staged rollout's canary as sent (null: none)"
    )
    canary_open = serializers.BooleanField(
        help_text="The canary is still moving: the job pauses once it has"
    )
    paused_at = serializers.DateTimeField(allow_null=True)
    revert = RevertRequestOutput(
        allow_null=True, help_text="The last revert asked: its scope and how many of each"
    )


class MigrationEnvelope(serializers.Serializer):
    data = MigrationOutput()


class MigrationListEnvelope(serializers.Serializer):
    data = MigrationOutput(many=True)
    next_page = serializers.CharField(allow_null=True)


class IdEnvelope(serializers.Serializer):
    data = IdOutput()


class ItemOutput(serializers.Serializer):
    contract_id = serializers.UUIDField()
    customer_id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=CohortMigrationItem.Status.values)
    reason = serializers.ChoiceField(choices=CohortMigrationItem.Reason.values, allow_null=True)
    message = serializers.CharField(allow_null=True)
    effective_at = serializers.DateTimeField(allow_null=True)
    new_contract_id = serializers.UUIDField(allow_null=True)


class ItemListEnvelope(serializers.Serializer):
    data = ItemOutput(many=True)
    next_page = serializers.CharField(allow_null=True)


class EditNotCarriedOutput(serializers.Serializer):
    id = serializers.UUIDField()
    kind = serializers.CharField()
    timestamp = serializers.DateTimeField()
    fields = serializers.ListField(child=serializers.CharField())


def _per_credit_type(help_text: str) -> serializers.DictField:
    return serializers.DictField(child=NumberOutput(), help_text=help_text)


class PreviewSampleMoneyOutput(serializers.Serializer):
    months = serializers.IntegerField(help_text="The window: this many months from the move")
    before = _per_credit_type(
        "Charges per credit type id over the window on the source package, the old contract "
        "running on (to its own end), from the package's terms and rate card; usage not included"
    )
    after = _per_credit_type(
        "Charges per credit type id over the window on the target package, a new contract "
        "from the effective instant"
    )
    delta = _per_credit_type("after - before, per credit type id")


class PreviewMoneyOutput(serializers.Serializer):
    months = serializers.IntegerField(help_text="The window: this many months from each move")
    method = serializers.ChoiceField(
        choices=["ALL", "SAMPLE"],
        help_text="ALL: every eligible contract priced (the sample is the whole cohort); "
        "SAMPLE: the sampled moving contracts' sums x population / sample_size",
    )
    sample_size = serializers.IntegerField(help_text="Moving contracts priced")
    population = serializers.IntegerField(help_text="Eligible contracts (the ones that move)")
    before = _per_credit_type("The cohort's charges per credit type id on the source package")
    after = _per_credit_type("The cohort's charges per credit type id on the target package")
    delta = _per_credit_type("after - before, per credit type id")
    credit_types = serializers.DictField(
        child=serializers.CharField(allow_blank=True), help_text="Credit type id -> name"
    )
    usage_included = serializers.BooleanField(
        help_text="False: usage is not priced (no usage data), only the terms' charges"
    )


class PreviewSampleOutput(serializers.Serializer):
    customer_id = serializers.UUIDField()
    contract_id = serializers.UUIDField()
    effective_at = serializers.DateTimeField(allow_null=True)
    old_contract = serializers.DictField()
    new_contract = serializers.DictField(allow_null=True)
    outcome = serializers.ChoiceField(choices=["MIGRATE", "SKIP"])
    reason = serializers.ChoiceField(choices=CohortMigrationItem.Reason.values, allow_null=True)
    has_edits = serializers.BooleanField()
    edits_not_carried = EditNotCarriedOutput(many=True)
    money = PreviewSampleMoneyOutput(
        allow_null=True, help_text="The move's money for this customer (null when skipped)"
    )


class PreviewEditsOutput(serializers.Serializer):
    contracts = serializers.IntegerField(help_text="Contracts of the cohort with any edit")
    by_kind = serializers.DictField(
        child=serializers.IntegerField(), help_text="Contracts with an edit of each kind"
    )


class OnDateSideOutput(serializers.Serializer):
    package_id = serializers.UUIDField()
    before = serializers.IntegerField(
        help_text="Contracts listContractsOnPackage lists on the package at the date now"
    )
    after = serializers.IntegerField(help_text="The same count once the job has run")


class OnDateOutput(serializers.Serializer):
    date = serializers.DateTimeField(
        help_text="The migration's date: `at` (AT) or `not_before` (NEXT_BILLING_PERIOD)"
    )
    source = OnDateSideOutput()
    target = OnDateSideOutput(
        allow_null=True,
        help_text="The target package, or the one the target alias names at the date "
        "(null when it names none)",
    )


class PreviewOutput(serializers.Serializer):
    total = serializers.IntegerField(
        help_text="Contracts in the cohort (running at the effective time), archived included "
        "(skipped as CONTRACT_ARCHIVED)"
    )
    eligible = serializers.IntegerField()
    ended_before_effective = serializers.IntegerField(
        help_text="The source's live contracts that ended before the effective time: not in "
        "the cohort; total minus CONTRACT_ARCHIVED plus these is the package's contracts"
    )
    on_date = OnDateOutput(
        allow_null=True,
        help_text="Contracts on the source and target packages at the migration's date, before "
        "and after the job (null for END_OF_TERM: no single date)",
    )
    skipped = serializers.DictField(child=serializers.IntegerField())
    edited_contracts = serializers.ChoiceField(choices=CohortMigration.EditedContracts.values)
    edits = PreviewEditsOutput()
    sample = PreviewSampleOutput(many=True)
    diff = serializers.DictField(
        allow_null=True,
        help_text="The package diff (terms_added, terms_removed, terms_changed, "
        "fields_changed); each line's `customers`: how many customers it touches (every "
        "eligible contract is rebuilt from the target)",
    )
    money = PreviewMoneyOutput(
        help_text="The cohort's charges before and after the move over `months`, per credit type"
    )


class PreviewEnvelope(serializers.Serializer):
    data = PreviewOutput()


def migration_data(migration: CohortMigration, progress: dict) -> dict:
    return {
        "id": str(migration.id),
        "name": migration.name,
        "status": migration.status,
        "source": migration.source,
        "target": migration.target,
        "effective": migration.effective,
        "edited_contracts": migration.edited_contracts,
        "run_at": format_instant(migration.run_at),
        "created_at": format_instant(migration.created_at),
        "started_at": format_instant(migration.started_at),
        "finished_at": format_instant(migration.finished_at),
        "created_by": migration.created_by,
        "counts": progress["counts"],
        "progress": {
            "percent": progress["percent"],
            "items_per_second": progress["items_per_second"],
            "eta": format_instant(progress["eta"]),
        },
        "last_error": migration.last_error or None,
        "ended_before_effective": migration.ended_before_effective,
        "canary": _canary(migration.canary),
        "canary_open": migration.canary_open,
        "paused_at": format_instant(migration.paused_at),
        "revert": _revert_request(migration.revert_request),
    }


def _canary(canary: dict | None) -> dict | None:
    if canary is None or "customer_ids" not in canary:
        return canary
    return {"customers": len(canary["customer_ids"])}


REVERT_REQUEST_KEYS = ("scope", "customer_ids", "reverting", "blocked", "kept_in_effect")


def _revert_request(request: dict | None) -> dict | None:
    """The stored request in the documented key order (JSONB keeps its own)."""
    if request is None:
        return None
    return {key: request.get(key) for key in (*REVERT_REQUEST_KEYS, "not_chosen", "at")}


def item_data(item: CohortMigrationItem) -> dict:
    return {
        "contract_id": str(item.contract_id),
        "customer_id": str(item.customer_id),
        "status": item.status,
        "reason": item.reason or None,
        "message": item.message or None,
        "effective_at": format_instant(item.effective_at),
        "new_contract_id": str(item.new_contract_id) if item.new_contract_id else None,
    }
