"""Audit entries in the page's words: the one place that turns the trail's internal names
(`rate_card`, `package_id`, `add_rates`, UUIDs) into what people read on /activity/ and in the
History sections of object pages: resource types and fields as labels, referenced objects as
their names with links, actions as verbs. The API (`/v1/auditLogs`) keeps its own words.

config.audit imports no app: the models and pages it names are looked up by their labels
(`apps.get_model`, URL names) in RESOURCES, at render time.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.apps import apps
from django.urls import NoReverseMatch, reverse

from config.audit.models import AuditLogEntry
from config.core.instants import format_day_or_minute, parse_instant


@dataclass(frozen=True)
class Resource:
    label: str  # "Rate card"
    model: str | None = None  # "packages_app.RateCard": where its name is read
    url_name: str | None = None  # its page, reversed with the id
    name_field: str = "name"


# Every resource type the trail records, in words; the order is the /activity/ select's.
RESOURCES: dict[str, Resource] = {
    "package": Resource("Package", "packages_app.Package", "contracts:package-detail"),
    "rate_card": Resource("Rate card", "packages_app.RateCard", "packages:ratecard-detail"),
    "alias": Resource("Alias", "packages_app.AliasName", "packages:alias-detail"),
    "product": Resource("Product", "packages_app.Product"),
    "billable_metric": Resource("Billable metric", "packages_app.BillableMetric"),
    "credit_type": Resource("Credit type", "packages_app.CreditType"),
    "customer": Resource("Customer", "contracts_app.Customer", "contracts:customer-detail"),
    "contract": Resource("Contract", "contracts_app.Contract", "contracts:contract-detail"),
    "subscription": Resource("Subscription"),
    "cohort_migration": Resource(
        "Cohort migration", "contracts_app.CohortMigration", "contracts:migration-detail"
    ),
    "webhook": Resource("Webhook", "webhooks.WebhookEndpoint", "webhooks:webhook-detail", "url"),
    "api_token": Resource("API token"),
    "user": Resource("User", "auth.User", name_field="username"),
    "group": Resource("Group", "auth.Group"),
    "billing_provider_configuration": Resource("Billing configuration"),
}

# A change's key that names another object: its resource type.
REFERENCE_KEYS = {
    "package_id": "package",
    "rate_card_id": "rate_card",
    "customer_id": "customer",
    "contract_id": "contract",
    "to_contract_id": "contract",
    "new_contract_id": "contract",
    "product_id": "product",
    "billable_metric_id": "billable_metric",
    "credit_type_id": "credit_type",
    "fiat_credit_type_id": "credit_type",
    "migration_id": "cohort_migration",
    "webhook_id": "webhook",
    "customer_ids": "customer",
    "exclude_customer_ids": "customer",
}

FIELD_LABELS = {
    "package_id": "Package",
    "rate_card_id": "Rate card",
    "customer_id": "Customer",
    "contract_id": "Contract",
    "to_contract_id": "Followed by",
    "new_contract_id": "New contract",
    "rate_ids": "Rates added",
    "replaced": "Rates replaced",
    "starting_at": "Starts",
    "ending_before": "Ends",
    "archived_at": "Archived",
    "run_at": "Runs at",
    "terms": "Terms",
    "terms_added": "Terms added",
    "counts": "Changed",
    "events": "Events",
    "url": "URL",
    "event_id": "Event",
    "status": "Status",
    "effective": "Moves",
    "edited_contracts": "Edited contracts",
    "canary": "Staged rollout",
    "revert": "Reverts",
    "source": "From",
    "target": "To",
    "package_alias": "Alias",
    "as_of": "As of",
    "customer_ids": "Customers",
    "exclude_customer_ids": "Leaving out",
    "billing_provider": "Billing provider",
    "delivery_method": "Delivery method",
    "billing_provider_configuration_ids": "Billing configurations",
    "billing_provider_configuration_id": "Billing configuration",
}

# The same field read differently after another action ("Rates ended", not "Rates added").
ACTION_FIELD_LABELS = {
    ("end_rates", "rate_ids"): "Rates ended",
    ("end_rates", "ending_before"): "Ended from",
}

# Values the API spells as enums (`SCHEDULED`, `AT`, `SKIP`, `NOT_IN_EFFECT`), in the words the
# pages use for them; a value of such a key missing here reads as lower-case words.
VALUE_WORDS: dict[str, Mapping[str, str]] = {
    "status": {
        "SCHEDULED": "scheduled",
        "RUNNING": "running",
        "PAUSED": "paused",
        "COMPLETED": "completed",
        "FAILED": "failed",
        "CANCELLED": "cancelled",
        "REVERTING": "reverting",
        "REVERTED": "reverted",
        "PARTIALLY_REVERTED": "partially reverted",
        "PENDING": "pending",
        "MIGRATED": "moved",
        "SKIPPED": "skipped",
        "REVERT_BLOCKED": "not reverted",
    },
    "edited_contracts": {
        "SKIP": "skipped (they stay on their edited contracts)",
        "MIGRATE": "moved too (their edits are not carried over)",
    },
    "scope": {
        "ALL": "every moved contract",
        "NOT_IN_EFFECT": "only the moves that have not taken effect",
    },
    "timing": {
        "AT": "at one instant",
        "NEXT_BILLING_PERIOD": "at each contract's next billing period",
        "END_OF_TERM": "at the end of each contract's term",
    },
    "type": {"RENEWAL": "renewal", "DEFAULT": "default"},
    "reason": {
        "CANARY_DONE": "the canary moved",
        "CANARY_EMPTY": "the canary matched no contract that moves",
        "REQUESTED": "asked for",
    },
    # The apps add theirs (billing providers, delivery methods): register_value_words.
}
# Keys inside a revert's request that say nothing to a reader (its own bookkeeping).
REVERT_HIDDEN = {"judged_before", "at"}

# How many of a list of ids are named (a job may list 100,000 customers): "… and 99,990 more".
LIST_SHOWN = 10

# Keys that say nothing on a page: the entry's own id, internal links.
HIDDEN_KEYS = {"id", "edit_id", "subscription_id"}

ACTION_WORDS = {
    "create": "Created",
    "update": "Changed",
    "archive": "Archived",
    "unarchive": "Unarchived",
    "add_rates": "Added rates",
    "assign": "Scheduled",
    "update_end_date": "Moved the end",
    "transition": "Followed by a new contract",
    "revert_migration": "Migration reverted",
    "extend_recurring_terms": "Recurring terms extended",
    "rotate_secret": "Rotated the secret",
    "resend": "Resent an event",
    "start": "Started",
    "cancel": "Cancelled",
    "complete": "Completed",
    "finish": "Finished",
    "revert": "Revert started",
    "move_start": "Moved the start",
    "set_name": "Renamed",
    "revoke": "Revoked",
    "add_billing_provider_configuration": "Added a billing configuration",
    "archive_billing_provider_configurations": "Archived billing configurations",
    "update_config": "Changed settings",
    "change_password": "Changed the password",
    "end_rates": "Ended rates",
    "pause": "Paused",
    "resume": "Resumed",
    "retry_failed": "Retried the failed contracts",
    "edit": "Edited",
    "edit_commit": "Edited a commit",
    "edit_credit": "Edited a credit",
    "amend": "Amended",
    "set_ingest_aliases": "Changed the ingest aliases",
    "delete": "Deleted",
}

DECIMAL_TEXT = re.compile(r"^-?\d+\.\d+$")
ENUM_TEXT = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*|[a-z][a-z0-9]*(?:_[a-z0-9]+)+")
UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


def resource_label(resource_type: str) -> str:
    """ "rate_card" → "Rate card"; an unknown type in words all the same."""
    known = RESOURCES.get(resource_type)
    return known.label if known else resource_type.replace("_", " ").capitalize()


def resource_choices() -> list[tuple[str, str]]:
    return [(key, resource.label) for key, resource in RESOURCES.items()]


def action_words(action: str) -> str:
    return ACTION_WORDS.get(action) or action.replace("_", " ").capitalize()


def field_label(key: str, action: str = "") -> str:
    if (action, key) in ACTION_FIELD_LABELS:
        return ACTION_FIELD_LABELS[(action, key)]
    if key in FIELD_LABELS:
        return FIELD_LABELS[key]
    return key.removesuffix("_ids").removesuffix("_id").replace("_", " ").capitalize()


def register_value_words(key: str, words: Mapping[str, str]) -> None:
    """An app's words for the values of one of its keys ("aws_sqs" → "AWS SQS"), registered from
    its AppConfig.ready(): the History reads the app's own mapping, never a copy of it."""
    VALUE_WORDS[key] = words


def value_words(key: str, value: str) -> str:
    """An enum value of `key` in words: "SCHEDULED" → "scheduled", "SKIP" → "skipped (…)"."""
    known = VALUE_WORDS.get(key, {})
    if value in known:
        return known[value]
    return value.replace("_", " ").lower() if ENUM_TEXT.fullmatch(value) else value


@dataclass(frozen=True)
class Part:
    """One piece of a value: words, linked when `url` is set."""

    text: str
    url: str | None = None


@dataclass
class Change:
    label: str
    before: list[Part] | None = None
    after: list[Part] | None = None
    value: list[Part] | None = None


@dataclass
class EntryRow:
    entry: AuditLogEntry
    action: str
    resource: Part
    resource_type_label: str
    changes: list[Change] = field(default_factory=list)
    description: str = ""
    is_group: bool = False

    @property
    def who(self) -> str:
        return who_words(self.entry)


def who_words(entry: AuditLogEntry) -> str:
    """The Who column: the person or process; a Celery task by what it does ("background job:
    migration batch"), not its dotted name; a management command by its name ("command:
    seed_demo"), a script by what it is ("a command-line job", not the interpreter's "-c")."""
    name = entry.actor_name
    if entry.channel == AuditLogEntry.Channel.TASK and name.startswith("task "):
        return "background job: " + name.rsplit(".", 1)[-1].replace("_", " ")
    if entry.channel == AuditLogEntry.Channel.SYSTEM:
        if command := _command_of(name):
            return f"command: {command}"
        if _is_script(name):
            return "a command-line job"
    return name


def _command_of(actor_name: str) -> str:
    """ "manage.py seed_demo" → "seed_demo": the names context.current_actor gives a command."""
    program, _, command = actor_name.partition(" ")
    return command if program in ("manage.py", "django-admin") and command else ""


def _is_script(actor_name: str) -> bool:
    """A script's writes, named by its interpreter: "python -c" (older entries: "-c")."""
    return actor_name.startswith(("-", "python -"))


def _is_uuid(value: Any) -> bool:
    return isinstance(value, str) and bool(UUID_TEXT.fullmatch(value))


class _Names:
    """Names and page links of the objects a batch of entries mentions: one query per type."""

    def __init__(self) -> None:
        self.wanted: dict[str, set[str]] = defaultdict(set)
        self.rates: set[str] = set()
        self.found: dict[tuple[str, str], Part] = {}

    def want(self, resource_type: str, value: Any) -> None:
        if value not in (None, "") and resource_type in RESOURCES:
            self.wanted[resource_type].add(str(value))

    def load(self) -> None:
        for resource_type, ids in self.wanted.items():
            resource = RESOURCES[resource_type]
            if resource.model is None:
                continue
            model = apps.get_model(resource.model)
            pk_is_uuid = model._meta.pk.get_internal_type() == "UUIDField"
            keys = [key for key in ids if _is_uuid(key) or (not pk_is_uuid and key.isdigit())]
            rows = model._default_manager.filter(pk__in=keys).values_list("pk", resource.name_field)
            for pk, name in rows:
                self.found[(resource_type, str(pk))] = Part(
                    name or f"{resource.label.lower()} {str(pk)[:8]}",
                    _url(resource, pk),
                )
        if self.rates:
            rate_model = apps.get_model("packages_app.Rate")
            for pk, product, starting_at in rate_model._default_manager.filter(
                pk__in=[key for key in self.rates if _is_uuid(key)]
            ).values_list("pk", "product__name", "starting_at"):
                self.found[("rate", str(pk))] = Part(
                    f"{product} from {format_day_or_minute(starting_at)}"
                )

    def part(self, resource_type: str, value: Any) -> Part:
        found = self.found.get((resource_type, str(value)))
        if found is not None:
            return found
        resource = RESOURCES.get(resource_type)
        label = resource.label.lower() if resource else resource_type.replace("_", " ")
        # Not found (deleted, or never a row): its kind and a short id, never a bare UUID.
        return Part(f"{label} {str(value)[:8]}…" if _is_uuid(value) else str(value))


def _url(resource: Resource, pk: Any) -> str | None:
    if not resource.url_name:
        return None
    try:
        return reverse(resource.url_name, args=[pk])
    except NoReverseMatch:
        return None


def _plain_number(value: Any) -> str:
    """`10.00000000000000000000` as `10`, `0.2500` as `0.25` (never an exponent)."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    text = format(number.normalize(), "f")
    return text


def _words(value: Any) -> str:
    """A recorded value as text: ISO dates, `key: value` pairs, lists joined, `—` for nothing."""
    if value is None or value == {} or value == []:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal | float) or (isinstance(value, str) and DECIMAL_TEXT.match(value)):
        return _plain_number(value)
    if isinstance(value, dict):
        return "; ".join(
            f"{field_label(key)}: "
            + (
                value_words(key, item)
                if key in VALUE_WORDS and isinstance(item, str)
                else _words(item)
            )
            for key, item in value.items()
            if key not in HIDDEN_KEYS
        )
    if isinstance(value, list | tuple):
        return ", ".join(_words(item) for item in value)
    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and value[10:11] == "T":
        try:
            return format_day_or_minute(parse_instant(value))
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        return format_day_or_minute(value)
    if _is_uuid(value):
        return f"{value[:8]}…"
    return str(value)


def _collect(names: _Names, entry: AuditLogEntry) -> None:
    names.want(entry.resource_type, entry.resource_id)
    _collect_changes(names, entry.changes or {})


def _collect_changes(names: _Names, changes: dict) -> None:
    for key, value in changes.items():
        if key in REFERENCE_KEYS:
            for item in _both(value)[:LIST_SHOWN]:
                names.want(REFERENCE_KEYS[key], item)
        elif key == "rate_ids":
            names.rates.update(str(item) for item in value or [])
        elif key == "replaced":
            names.rates.update(
                str(item.get("id")) for item in value or [] if isinstance(item, dict)
            )
        elif isinstance(value, dict):  # a nested object: {"source": {"package_id": …}}
            _collect_changes(names, value)


def _both(value: Any) -> list[Any]:
    """The ids a change mentions: a value, a list, or {"before", "after"}."""
    if isinstance(value, dict):
        return [value.get("before"), value.get("after")]
    if isinstance(value, list):
        return list(value)
    return [value]


def _joined(parts: list[list[Part]], separator: str) -> list[Part]:
    joined: list[Part] = []
    for index, piece in enumerate(parts):
        if index:
            joined.append(Part(separator))
        joined.extend(piece)
    return joined


def _value_parts(names: _Names, key: str, value: Any) -> list[Part]:
    if key == "canary":
        return [Part(_canary_words(value))]
    if value in (None, "", []):
        return [Part("—")]
    if key in VALUE_WORDS and isinstance(value, str):
        return [Part(value_words(key, value))]
    if key == "effective" and isinstance(value, dict) and "type" in value:
        return [Part(_effective_words(value))]
    if key == "revert" and isinstance(value, dict):
        return [Part(_revert_words(value))]
    if key in REFERENCE_KEYS:
        if isinstance(value, int) and not isinstance(value, bool):
            return [Part(f"{value} listed")]  # a count of ids, not the ids
        items = value if isinstance(value, list) else [value]
        shown = [[names.part(REFERENCE_KEYS[key], item)] for item in items[:LIST_SHOWN]]
        more = len(items) - LIST_SHOWN
        return _joined(shown, ", ") + ([Part(f" and {more} more")] if more > 0 else [])
    if key == "rate_ids":
        return _joined([[names.part("rate", item)] for item in value], ", ")
    if key == "replaced" and isinstance(value, list):
        # [{"id": rate, "price": {"before": 10, "after": 12}}] → "API calls from …: Price 10 → 12"
        return _joined([_replaced_parts(names, item) for item in value], "; ")
    if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in REFERENCE_KEYS:
        # {"package_id": …} as From / To: the package named, not "Package: …"
        inner, item = next(iter(value.items()))
        return _value_parts(names, inner, item)
    if isinstance(value, dict) and any(
        inner in REFERENCE_KEYS or isinstance(item, dict) for inner, item in value.items()
    ):
        return _joined(
            [
                [Part(f"{field_label(inner)}: "), *_value_parts(names, inner, item)]
                for inner, item in value.items()
                if inner not in HIDDEN_KEYS
            ],
            "; ",
        )
    return [Part(_words(value))]


def _effective_words(effective: dict) -> str:
    """{"type": "AT", "at": …} → "at 2027-03-01" (the migration pages' words)."""
    timing = effective.get("type")
    when = effective.get("at") or effective.get("not_before")
    if timing == "AT":
        return f"at {_words(when)}"
    if timing == "NEXT_BILLING_PERIOD":
        return f"at each contract's next billing period on or after {_words(when)}"
    if timing == "END_OF_TERM":
        return "at the end of each contract's term"
    return _words(effective)


def _canary_words(canary: Any) -> str:
    """{"count": 3} → "the first 3 contracts, then a pause"; none: every contract at once."""
    if not canary:
        return "none: every contract moves as planned"
    if not isinstance(canary, dict):
        return _words(canary)
    if canary.get("count") is not None:
        n = canary["count"]
        first = f"the first {n} contract{'s' if n != 1 else ''}"
    else:
        listed = canary.get("customer_ids") or canary.get("customers") or []
        n = listed if isinstance(listed, int) else len(listed)
        first = f"the contracts of {n} listed customer{'s' if n != 1 else ''}"
    return f"{first} move first, then the job pauses until resumed"


def _revert_words(request: dict) -> str:
    """A revert as asked and planned, in words: its scope, then how many of each."""
    scope = value_words("scope", str(request.get("scope") or "ALL"))
    customers = request.get("customer_ids")
    parts = [scope + (f", of {customers} listed customers" if customers else "")]
    counts = (
        ("reverting", "to revert"),
        ("kept_in_effect", "kept (already in effect)"),
        ("blocked", "kept (changed since the move)"),
        ("not_chosen", "of other customers, kept"),
    )
    for key, words in counts:
        n = request.get(key)
        if n or key == "reverting":
            parts.append(f"{n or 0} {words}")
    rest = {
        key: value
        for key, value in request.items()
        if key not in REVERT_HIDDEN
        and key not in {"scope", "customer_ids"}
        and key not in dict(counts)
    }
    return "; ".join(parts + ([_words(rest)] if rest else []))


def _replaced_parts(names: _Names, item: Any) -> list[Part]:
    if not isinstance(item, dict):
        return [Part(_words(item))]
    changed = [
        f"{field_label(key)} {_words(change.get('before'))} → {_words(change.get('after'))}"
        if isinstance(change, dict)
        else f"{field_label(key)} {_words(change)}"
        for key, change in item.items()
        if key != "id"
    ]
    return [names.part("rate", item.get("id")), Part(": " + ", ".join(changed) if changed else "")]


def _changes(names: _Names, entry: AuditLogEntry) -> list[Change]:
    rows = []
    for key, value in (entry.changes or {}).items():
        if key in HIDDEN_KEYS or value == [] or (key in REFERENCE_KEYS and value is None):
            continue  # (an alias names a package or a rate card: not "Rate card —")
        label = field_label(key, entry.action)
        if isinstance(value, dict) and set(value) <= {"before", "after"} and value:
            before = value.get("before")
            rows.append(
                Change(
                    label,
                    before=None if before is None else _value_parts(names, key, before),
                    after=_value_parts(names, key, value.get("after")),
                )
            )
        else:
            rows.append(Change(label, value=_value_parts(names, key, value)))
    return rows


def entry_rows(entries: Iterable[AuditLogEntry]) -> list[EntryRow]:
    """Each entry in words, the objects it mentions named and linked (one query per type)."""
    entries = list(entries)
    names = _Names()
    for entry in entries:
        _collect(names, entry)
    names.load()
    return [
        EntryRow(
            entry=entry,
            action=action_words(entry.action),
            resource=names.part(entry.resource_type, entry.resource_id),
            resource_type_label=resource_label(entry.resource_type),
            changes=_changes(names, entry),
            description=_description(entry),
        )
        for entry in entries
    ]


# The entries whose description says what their changes do not ("Planned 12 contracts to move,
# 2 skipped"); others show theirs only when they record no changes.
DESCRIBED = {("cohort_migration", action) for action in ("start", "pause", "cancel")}
DESCRIBED.add(("cohort_migration", "retry_failed"))


def _description(entry: AuditLogEntry) -> str:
    if entry.changes and (entry.resource_type, entry.action) not in DESCRIBED:
        return ""
    return UUID_TEXT.sub(lambda m: f"{m.group()[:8]}…", entry.description)


# --- who made something ----------------------------------------------------------------------


def actor_words(entry: AuditLogEntry) -> str:
    """Who wrote an entry, in words: a person, "alice through the API (token “ci”)", the
    command line ("manage.py cohort_migration"), a background task or another process."""
    name = entry.actor_name or "someone"
    channel = entry.channel
    if channel == AuditLogEntry.Channel.API:
        token = ""
        if entry.api_token_id is not None:
            token_model = apps.get_model("api", "ApiToken")
            found = token_model._default_manager.filter(pk=entry.api_token_id).values_list(
                "name", "key_prefix"
            )
            token = next((tname or f"{prefix}…" for tname, prefix in found), "")
        via = f"the API (token “{token}”)" if token else "the API"
        return f"{name} through {via}"
    if channel == AuditLogEntry.Channel.ADMIN:
        return f"{name} in the admin"
    if channel == AuditLogEntry.Channel.TASK:
        return f"a background task ({name.removeprefix('task ')})"
    if channel == AuditLogEntry.Channel.SYSTEM:
        if _command_of(name):
            return f"the command line ({name})"
        if _is_script(name):
            return "a command-line job"
        return f"the process “{name}”"
    return name


def created_by_words(resource_type: str, resource_id: Any, fallback: str = "") -> str:
    """Who created an object, read from its "create" entry of the trail (one query, two with a
    token): the person, the API and its token, the command line or the process. `fallback`
    (the object's own created_by) when the trail has no such entry."""
    entry = (
        AuditLogEntry.objects.filter(
            resource_type=resource_type, resource_id=str(resource_id), action="create"
        )
        .order_by("timestamp", "id")
        .first()
    )
    if entry is not None:
        return actor_words(entry)
    return fallback or "unknown (not recorded)"


# --- /activity/: a batch's many contract entries as one row --------------------------------------


@dataclass
class GroupRow:
    """One transaction that changed many contracts (a migration's batch, its revert, the
    recurring-terms job): a line in words, its entries behind a disclosure."""

    entry: AuditLogEntry
    action: str
    words: str
    migration: Part | None
    entries: int
    contracts: int
    is_group: bool = True

    @property
    def who(self) -> str:
        return who_words(self.entry)


def _migration_of(contract_ids: list[str]) -> dict[str, Part]:
    """contract id (old or new) → its cohort migration, named and linked: one query."""
    if not contract_ids:
        return {}
    item_model = apps.get_model("contracts_app.CohortMigrationItem")
    resource = RESOURCES["cohort_migration"]
    ids = [key for key in contract_ids if _is_uuid(key)]
    found: dict[str, Part] = {}
    rows = (
        item_model._default_manager.filter(contract_id__in=ids)
        .values_list("contract_id", "migration_id", "migration__name")
        .union(
            item_model._default_manager.filter(new_contract_id__in=ids).values_list(
                "new_contract_id", "migration_id", "migration__name"
            )
        )
    )
    for contract_id, migration_id, name in rows:
        found[str(contract_id)] = Part(
            name or f"{str(migration_id)[:8]}…", _url(resource, migration_id)
        )
    return found


def _group_action(group: dict, migration: Part | None) -> str:
    if migration is not None and group["moved"]:
        return "Moved contracts"
    if migration is not None and group["reverted"]:
        return "Reverted contracts"
    return "Changed contracts"


def _group_words(head: AuditLogEntry, group: dict, migration: Part | None) -> str:
    contracts = group["contracts"]
    if migration is not None and group["moved"]:
        return f"moved {group['moved']} contract{'s' if group['moved'] != 1 else ''}"
    if migration is not None and group["reverted"]:
        return f"reverted {group['reverted']} contract{'s' if group['reverted'] != 1 else ''}"
    return f"{action_words(head.action)}: {contracts} contracts"


def activity_rows(entries: list[AuditLogEntry], groups: dict[int, dict]) -> list:
    """The /activity/ page's rows: an EntryRow per entry, except that a transaction that
    touched many contracts (`groups`, from selectors.batch_groups) is one GroupRow, and a small
    one is listed entry by entry."""
    expanded: list[AuditLogEntry] = []
    big: dict[str, dict] = {}
    for entry in entries:
        group = groups.get(entry.xact_id) if entry.resource_type == "contract" else None
        if group is None or group["entries"] == 1:
            expanded.append(entry)
        elif "members" in group:
            expanded.extend(group["members"])
        else:
            big[str(entry.id)] = group
            expanded.append(entry)
    migrations = _migration_of([e.resource_id for e in expanded if str(e.id) in big])
    rows = entry_rows(entry for entry in expanded if str(entry.id) not in big)
    by_id = {str(row.entry.id): row for row in rows}
    result: list = []
    for entry in expanded:
        group = big.get(str(entry.id))
        if group is None:
            result.append(by_id[str(entry.id)])
            continue
        migration = migrations.get(entry.resource_id)
        result.append(
            GroupRow(
                entry=entry,
                action=_group_action(group, migration),
                words=_group_words(entry, group, migration),
                migration=migration,
                entries=group["entries"],
                contracts=group["contracts"],
            )
        )
    return result
