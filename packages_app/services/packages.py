"""Writing packages: create (terms in one bulk insert) and archive (DESIGN.md §3).

A package is stored as one Package row (scalar columns + `settings` JSON) and one PackageTerm row
per term whose `body` is the validated request form of that term plus server ids: `id` on the
term (equal to the row's primary key) and on every schedule item. References made with
`temporary_id` (override specifiers, recurring subscription configs) are stored resolved to those
server ids, so readers never need the temporary ids. Whatever the number of terms, a create
costs a fixed number of queries: one per referenced model (rate card, products, credit types),
the package insert, one bulk insert of terms, plus a few per alias.

The package's response object is rendered here, once, into `Package.wire` (reads send it as
stored, selectors/packages.py). It shows product and credit type names as of the rendering,
so a rename forgets the wires that show the old name (`package_wires_invalidate`), a product
rename scheduled for later sets when they go stale (`package_wires_expire`, and at rendering
`Package.wire_expires_at` from the products' own schedules), and they render again at their
next read after that (`package_wires_fill`). The names are read under a share lock, so a rename
committing meanwhile either waits for this write (and then invalidates it) or is seen by it.

Ids the request names are stored in their canonical form (`str(UUID)`), whatever case or
spelling was sent, so responses and name look-ups see one spelling (`_References`).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import json
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Model, Q, QuerySet
from django.utils import timezone

from config.audit.services import audit_record, queryset_update_recorded
from config.core.errors import Conflict, NotFound, ValidationFailed
from config.core.jsonutil import ExactDecimalEncoder
from config.core.money import exact_sum, line_amount
from config.webhooks.services import events_record
from packages_app.amounts import amounts_check
from packages_app.models import (
    USD_CENTS_ID,
    AliasName,
    CreditType,
    Package,
    PackageTerm,
    Product,
    RateCard,
)
from packages_app.package_wire import Output
from packages_app.selectors.catalog import product_name_at
from packages_app.selectors.packages import (
    package_answers,
    packages_to_render,
    term_names_wanted,
)
from packages_app.services.aliases import alias_assign_many

Body = dict[str, Any]

DEFAULT_USAGE_STATEMENT_SCHEDULE = {"frequency": "MONTHLY", "day": "FIRST_OF_MONTH"}

# Request key → term kind, in the order terms are validated and stored.
TERM_LISTS: tuple[tuple[str, str], ...] = (
    ("commits", PackageTerm.Kind.COMMIT),
    ("credits", PackageTerm.Kind.CREDIT),
    ("recurring_commits", PackageTerm.Kind.RECURRING_COMMIT),
    ("recurring_credits", PackageTerm.Kind.RECURRING_CREDIT),
    ("subscriptions", PackageTerm.Kind.SUBSCRIPTION),
    ("scheduled_charges", PackageTerm.Kind.SCHEDULED_CHARGE),
    ("overrides", PackageTerm.Kind.OVERRIDE),
    ("spend_trackers", PackageTerm.Kind.SPEND_TRACKER),
)
SCHEDULES_WITH_ITEMS = ("access_schedule", "invoice_schedule", "schedule")


def _new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class _References:
    """Ids the request names, each with the path of the field that named it.

    Recording an id also rewrites it where it stands (`holder[key]`, in the body being
    stored) in its canonical form, `str(UUID)`: an id sent upper-case or without hyphens is
    stored, answered and looked up by the one spelling the database uses. Malformed ids stay
    as sent and are refused by `_parsed_ids`, naming the path.
    """

    products: list[tuple[str, str]] = field(default_factory=list)
    credit_types: list[tuple[str, str]] = field(default_factory=list)

    @staticmethod
    def _record(found: list[tuple[str, str]], path: str, holder: Any, key: str | int) -> None:
        value = holder.get(key) if isinstance(holder, dict) else holder[key]
        if value is None:
            return
        found.append((path, value))
        with contextlib.suppress(ValueError):
            holder[key] = str(uuid.UUID(value))

    def product(self, path: str, holder: Any, key: str | int = "product_id") -> None:
        self._record(self.products, path, holder, key)

    def products_in(self, path: str, body: Mapping[str, Any]) -> None:
        """applicable_product_ids and specifiers[].product_id of a drawdown-like body."""
        product_ids = body.get("applicable_product_ids") or []
        for index in range(len(product_ids)):
            self.product(f"{path}.applicable_product_ids[{index}]", product_ids, index)
        for index, specifier in enumerate(body.get("specifiers", ())):
            self.product(f"{path}.specifiers[{index}].product_id", specifier)

    def credit_type(self, path: str, holder: Any, key: str = "credit_type_id") -> None:
        self._record(self.credit_types, path, holder, key)


def _parsed_ids(pairs: list[tuple[str, str]], what: str) -> dict[uuid.UUID, str]:
    """{uuid: first path naming it}; a malformed id is a 400 on its field."""
    wanted: dict[uuid.UUID, str] = {}
    for path, raw in pairs:
        try:
            wanted.setdefault(uuid.UUID(raw), path)
        except ValueError:
            raise ValidationFailed(f"{what} {raw} not found", field=path) from None
    return wanted


def _names_for_share(
    model: type[Model], keys: Iterable[uuid.UUID], *extra_columns: str
) -> dict[uuid.UUID, tuple]:
    """{id: (name, *extra)} of `model` rows, share-locked until commit (see the module doc)."""
    columns = ", ".join(("id", "name", *extra_columns))
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT {columns} FROM "{model._meta.db_table}" WHERE id = ANY(%s) FOR SHARE',
            [list(keys)],
        )
        return {row[0]: row[1:] for row in cursor.fetchall()}


@dataclass
class _ProductNames:
    """Product names as of one instant, and when a scheduled update next renames each."""

    names: dict[str, str] = field(default_factory=dict)
    renamed_at: dict[str, dt.datetime] = field(default_factory=dict)

    def expiry(self, product_ids: Iterable[str]) -> dt.datetime | None:
        """When a rendering showing these products' names goes stale (None: not foreseen)."""
        return min(
            (self.renamed_at[key] for key in product_ids if key in self.renamed_at), default=None
        )


def _products_for_share(
    keys: Iterable[uuid.UUID], at: dt.datetime
) -> tuple[_ProductNames, dict[uuid.UUID, dt.datetime | None]]:
    """(names as of `at`, archived_at by id) of products, share-locked (see the module doc)."""
    names = _ProductNames()
    archived = {}
    rows = _names_for_share(Product, keys, "details::text", "archived_at")
    for key, (column_name, details, archived_at) in rows.items():
        name, renamed_at = product_name_at(json.loads(details), column_name, at)
        names.names[str(key)] = name
        if renamed_at is not None:
            names.renamed_at[str(key)] = renamed_at
        archived[key] = archived_at
    return names, archived


def _check_products(refs: _References, *, at: dt.datetime) -> _ProductNames:
    """Checks every product the request names; returns their names as of `at`."""
    wanted = _parsed_ids(refs.products, "Product")
    if not wanted:
        return _ProductNames()
    names, archived = _products_for_share(wanted, at)
    for key, path in wanted.items():
        if key not in archived:
            raise ValidationFailed(f"Product {key} not found", field=path)
        if archived[key] is not None:
            raise ValidationFailed(f"Product {key} is archived", field=path)
    return names


def _check_credit_types(refs: _References, *, default_shown: bool) -> dict[str, str]:
    """Checks every credit type the request names; returns their names by id, and USD cents'
    when a response schedule falls back to it (`default_shown`). No query if none is needed."""
    wanted = _parsed_ids(refs.credit_types, "Credit type")
    keys = {*wanted, USD_CENTS_ID} if default_shown else set(wanted)
    found = _names_for_share(CreditType, keys, "archived_at") if keys else {}
    for key, path in wanted.items():
        if key not in found:
            raise ValidationFailed(f"Credit type {key} not found", field=path)
        if found[key][1] is not None:
            raise ValidationFailed(f"Credit type {key} is archived", field=path)
    return {str(key): name for key, (name, _archived_at) in found.items()}


def _check_rate_card(
    rate_card_id: str | None, rate_card_alias: str | None
) -> tuple[uuid.UUID | None, str]:
    if rate_card_id is not None and rate_card_alias is not None:
        raise ValidationFailed(
            "Give rate_card_id or rate_card_alias, not both", field="rate_card_alias"
        )
    if rate_card_id is not None:
        (key,) = _parsed_ids([("rate_card_id", rate_card_id)], "Rate card")
        archived = list(RateCard.objects.filter(id=key).values_list("archived_at", flat=True))
        if not archived:
            raise ValidationFailed(f"Rate card {rate_card_id} not found", field="rate_card_id")
        if archived[0] is not None:
            raise ValidationFailed(f"Rate card {rate_card_id} is archived", field="rate_card_id")
        return key, ""
    if rate_card_alias is not None:
        # Resolved as of each contract's start; here it must at least name a rate card alias.
        if not AliasName.objects.filter(
            kind=AliasName.Kind.RATE_CARD, name=rate_card_alias
        ).exists():
            raise ValidationFailed(
                f"No rate card has the alias {rate_card_alias!r}", field="rate_card_alias"
            )
        return None, rate_card_alias
    return None, ""


def _amount_total(items: Sequence[Mapping[str, Any]]) -> Decimal:
    return exact_sum(item["amount"] for item in items)


def _charge_total(items: Sequence[Mapping[str, Any]]) -> Decimal:
    return exact_sum(line_amount(item["unit_price"], item["quantity"]) for item in items)


@dataclass
class _TemporaryIds:
    """temporary_id → server id, per namespace, filled while the terms get their ids."""

    commits: dict[str, str] = field(default_factory=dict)
    recurring: dict[str, str] = field(default_factory=dict)
    subscriptions: dict[str, str] = field(default_factory=dict)

    def add(self, table: dict[str, str], path: str, body: Mapping[str, Any]) -> None:
        temporary_id = body.get("temporary_id")
        if temporary_id is None:
            return
        if temporary_id in self.commits or temporary_id in self.recurring or temporary_id in table:
            raise ValidationFailed(
                f"temporary_id {temporary_id!r} is used twice", field=f"{path}.temporary_id"
            )
        table[temporary_id] = body["id"]


def _resolve(ids: Sequence[str], table: Mapping[str, str], path: str, what: str) -> list[str]:
    resolved = []
    for index, temporary_id in enumerate(ids):
        if temporary_id not in table:
            raise ValidationFailed(
                f"{temporary_id!r} is not the temporary_id of a {what} in this package",
                field=f"{path}[{index}]",
            )
        resolved.append(table[temporary_id])
    return resolved


def _with_server_ids(body: Mapping[str, Any]) -> Body:
    term = copy.deepcopy(dict(body))
    term["id"] = _new_id()
    for key in SCHEDULES_WITH_ITEMS:
        if key in term:
            term[key] = dict(term[key])
            term[key]["schedule_items"] = [
                {**item, "id": _new_id()} for item in term[key]["schedule_items"]
            ]
    return term


def _enumerate(terms: Sequence[Mapping[str, Any]], key: str) -> Iterator[tuple[str, Mapping]]:
    for index, term in enumerate(terms):
        yield f"{key}[{index}]", term


def _check_drawdown(path: str, body: Mapping[str, Any]) -> None:
    if body.get("specifiers") and (
        body.get("applicable_product_ids") or body.get("applicable_product_tags")
    ):
        raise ValidationFailed(
            "specifiers cannot be combined with applicable_product_ids or applicable_product_tags",
            field=f"{path}.specifiers",
        )


def _check_postpaid(path: str, commit: Mapping[str, Any]) -> None:
    if commit["type"] != "POSTPAID":
        return
    invoice = commit.get("invoice_schedule")
    if invoice is None:
        raise ValidationFailed(
            "A POSTPAID commit needs an invoice_schedule", field=f"{path}.invoice_schedule"
        )
    access_total = _amount_total(commit["access_schedule"]["schedule_items"])
    invoice_total = _charge_total(invoice["schedule_items"])
    if access_total != invoice_total:
        raise ValidationFailed(
            f"A POSTPAID commit's invoice_schedule total ({invoice_total}) must equal its "
            f"access_schedule total ({access_total})",
            field=f"{path}.invoice_schedule",
        )


def _check_override_prioritization(
    overrides: Sequence[Mapping[str, Any]], prioritization: str | None
) -> None:
    explicit = prioritization == "EXPLICIT"
    for path, override in _enumerate(overrides, "overrides"):
        tiered = "tiers" in override or override.get("type") == "TIERED"
        if tiered and not explicit:
            raise ValidationFailed(
                "Tiered overrides need multiplier_override_prioritization EXPLICIT",
                field=f"{path}.tiers",
            )
        if explicit and "priority" not in override:
            raise ValidationFailed(
                "multiplier_override_prioritization EXPLICIT needs a priority on every override",
                field=f"{path}.priority",
            )


def _spend_tracker_aliases(trackers: Sequence[Mapping[str, Any]]) -> None:
    seen: set[str] = set()
    for path, tracker in _enumerate(trackers, "spend_trackers"):
        if tracker["alias"] in seen:
            raise ValidationFailed(
                f"Spend tracker alias {tracker['alias']!r} is used twice", field=f"{path}.alias"
            )
        seen.add(tracker["alias"])


def _bodies_with_ids(
    term_lists: Mapping[str, Sequence[Mapping[str, Any]]], refs: _References
) -> tuple[dict[str, list[Body]], _TemporaryIds]:
    """Copies of the terms, by request key, with server ids; their temporary ids; records the
    credit types their schedules name."""
    temporary = _TemporaryIds()
    bodies: dict[str, list[Body]] = {key: [] for key, _ in TERM_LISTS}
    temporary_tables = {
        "commits": temporary.commits,
        "recurring_commits": temporary.recurring,
        "recurring_credits": temporary.recurring,
        "subscriptions": temporary.subscriptions,
    }
    for key, _kind in TERM_LISTS:
        for path, term in _enumerate(term_lists.get(key) or (), key):
            body = _with_server_ids(term)
            bodies[key].append(body)
            if key in temporary_tables:
                temporary.add(temporary_tables[key], path, body)
            for schedule_key in SCHEDULES_WITH_ITEMS:
                if schedule_key in body:
                    refs.credit_type(f"{path}.{schedule_key}.credit_type_id", body[schedule_key])
    return bodies, temporary


def _resolve_subscription_configs(
    bodies: Mapping[str, list[Body]], temporary: _TemporaryIds
) -> None:
    """Recurring subscription configs point at subscriptions of this payload: stores the
    server ids in place of their temporary ids."""
    for key in ("recurring_commits", "recurring_credits"):
        for path, body in _enumerate(bodies[key], key):
            config = body.get("subscription_config")
            if config is not None:
                temporary_id = config["subscription_id"]
                if temporary_id not in temporary.subscriptions:
                    raise ValidationFailed(
                        f"{temporary_id!r} is not the temporary_id of a subscription in this "
                        "package",
                        field=f"{path}.subscription_config.subscription_id",
                    )
                config["subscription_id"] = temporary.subscriptions[temporary_id]


def _resolve_override_specifiers(
    bodies: Mapping[str, list[Body]], temporary: _TemporaryIds, refs: _References
) -> None:
    """Commit-specific overrides name commits by temporary_id: stores the server ids instead;
    records the products and credit types the overrides name."""
    any_table = {**temporary.commits, **temporary.recurring}
    for path, override in _enumerate(bodies["overrides"], "overrides"):
        for spec_path, spec in _enumerate(
            override["override_specifiers"], f"{path}.override_specifiers"
        ):
            if "commit_ids" in spec:
                spec["commit_ids"] = _resolve(
                    spec["commit_ids"], temporary.commits, f"{spec_path}.commit_ids", "commit"
                )
            if "recurring_commit_ids" in spec:
                spec["recurring_commit_ids"] = _resolve(
                    spec["recurring_commit_ids"],
                    temporary.recurring,
                    f"{spec_path}.recurring_commit_ids",
                    "recurring commit or credit",
                )
            if "any_commit_or_credit_ids" in spec:
                spec["any_commit_or_credit_ids"] = _resolve(
                    spec["any_commit_or_credit_ids"],
                    any_table,
                    f"{spec_path}.any_commit_or_credit_ids",
                    "commit, recurring commit or recurring credit",
                )
            refs.product(f"{spec_path}.product_id", spec)
        if "overwrite_rate" in override:
            refs.credit_type(f"{path}.overwrite_rate.credit_type_id", override["overwrite_rate"])


def _term_rows(
    bodies: Mapping[str, list[Body]], refs: _References
) -> list[tuple[str, int, Body, str | None]]:
    """(kind, ordinal, body, product id) for every term, in TERM_LISTS order; records the
    products and credit types each term names."""
    rows: list[tuple[str, int, Body, str | None]] = []
    for key, kind in TERM_LISTS:
        for ordinal, body in enumerate(bodies[key]):
            path = f"{key}[{ordinal}]"
            if kind == PackageTerm.Kind.SUBSCRIPTION:
                refs.product(f"{path}.subscription_rate.product_id", body["subscription_rate"])
                product_id = body["subscription_rate"]["product_id"]
            elif kind in (PackageTerm.Kind.OVERRIDE, PackageTerm.Kind.SPEND_TRACKER):
                product_id = None
            else:
                refs.product(f"{path}.product_id", body)
                product_id = body["product_id"]
            if key in ("commits", "credits", "recurring_commits", "recurring_credits"):
                refs.products_in(path, body)
            for amount_key in ("access_amount", "invoice_amount"):
                if amount_key in body:
                    refs.credit_type(f"{path}.{amount_key}.credit_type_id", body[amount_key])
            if kind == PackageTerm.Kind.SPEND_TRACKER:
                refs.credit_type(f"{path}.credit_type_id", body)
            rows.append((kind, ordinal, body, product_id))
    return rows


def _terms_with_ids(
    term_lists: Mapping[str, Sequence[Mapping[str, Any]]], refs: _References
) -> list[tuple[str, int, Body, str | None]]:
    """(kind, ordinal, body, product id) for every term, ids assigned and references resolved."""
    bodies, temporary = _bodies_with_ids(term_lists, refs)
    _resolve_subscription_configs(bodies, temporary)
    _resolve_override_specifiers(bodies, temporary, refs)
    return _term_rows(bodies, refs)


def _threshold_references(
    refs: _References,
    spend_threshold_configuration: Mapping[str, Any] | None,
    prepaid_balance_threshold_configuration: Mapping[str, Any] | None,
) -> None:
    """Records (and canonicalises in place) the ids the threshold configurations name."""
    if spend_threshold_configuration is not None:
        refs.product(
            "spend_threshold_configuration.commit.product_id",
            spend_threshold_configuration["commit"],
        )
    if prepaid_balance_threshold_configuration is not None:
        path = "prepaid_balance_threshold_configuration"
        commit = prepaid_balance_threshold_configuration["commit"]
        refs.product(f"{path}.commit.product_id", commit)
        refs.products_in(f"{path}.commit", commit)
        refs.credit_type(
            f"{path}.custom_credit_type_id",
            prepaid_balance_threshold_configuration,
            "custom_credit_type_id",
        )


def _wire_text(wire: Body) -> str:
    """Compact JSON (as DRF renders), Decimals written with every digit."""
    return json.dumps(wire, cls=ExactDecimalEncoder, separators=(",", ":"))


def _insert(package: Package) -> None:
    try:
        with transaction.atomic():
            package.save(force_insert=True)
    except IntegrityError as exc:
        if "package_uniqueness_key" in str(exc):
            raise Conflict(
                f"A package with uniqueness_key {package.uniqueness_key!r} already exists",
                field="uniqueness_key",
            ) from None
        raise


def _check_alias_names(aliases: Sequence[Mapping[str, Any]]) -> None:
    """Refuses an alias name given twice in one request."""
    alias_names = [alias["name"] for alias in aliases]
    for index, alias_name in enumerate(alias_names):
        if alias_name in alias_names[:index]:
            raise ValidationFailed(
                f"Alias {alias_name!r} is given twice", field=f"aliases[{index}].name"
            )


def _check_request_rules(
    term_lists: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    aliases: Sequence[Mapping[str, Any]],
    multiplier_override_prioritization: str,
    spend_threshold_configuration: Mapping[str, Any] | None,
    prepaid_balance_threshold_configuration: Mapping[str, Any] | None,
) -> None:
    """Checks the create request's rules that need no database (so a bad request costs no
    query): amounts, POSTPAID commits, drawdown specifiers, override prioritization, spend
    tracker aliases and alias names."""
    amounts_check(
        {
            "commits": term_lists["commits"],
            "credits": term_lists["credits"],
            "recurring_commits": term_lists["recurring_commits"],
            "recurring_credits": term_lists["recurring_credits"],
            "subscriptions": term_lists["subscriptions"],
            "scheduled_charges": term_lists["scheduled_charges"],
            "overrides": term_lists["overrides"],
            "spend_threshold_configuration": spend_threshold_configuration,
            "prepaid_balance_threshold_configuration": prepaid_balance_threshold_configuration,
        }
    )
    for path, commit in _enumerate(term_lists["commits"], "commits"):
        _check_postpaid(path, commit)
    for key in ("commits", "credits", "recurring_commits", "recurring_credits"):
        for path, term in _enumerate(term_lists[key], key):
            _check_drawdown(path, term)
    _check_override_prioritization(
        term_lists["overrides"], multiplier_override_prioritization or None
    )
    _spend_tracker_aliases(term_lists["spend_trackers"])
    _check_alias_names(aliases)


@dataclass
class _CheckedReferences:
    """What the create request names, checked against the database: the terms (ids assigned,
    references resolved), the threshold configurations (copies, ids canonical), the rate card,
    and the names of the products and credit types the response shows."""

    rows: list[tuple[str, int, Body, str | None]]
    spend_threshold_configuration: Body | None
    prepaid_balance_threshold_configuration: Body | None
    rate_card_key: uuid.UUID | None
    rate_card_alias: str
    product_names: _ProductNames
    credit_type_names: dict[str, str]


def _checked_references(
    term_lists: Mapping[str, Sequence[Mapping[str, Any]]],
    *,
    spend_threshold_configuration: Mapping[str, Any] | None,
    prepaid_balance_threshold_configuration: Mapping[str, Any] | None,
    rate_card_id: str | None,
    rate_card_alias: str | None,
) -> _CheckedReferences:
    """Assigns the terms their ids and checks every reference the request makes, in one query
    per referenced model."""
    refs = _References()
    # Copies: ids in them are rewritten in their canonical form (see _References).
    spend_threshold_configuration = copy.deepcopy(spend_threshold_configuration)
    prepaid_balance_threshold_configuration = copy.deepcopy(prepaid_balance_threshold_configuration)
    rows = _terms_with_ids(term_lists, refs)
    _threshold_references(
        refs, spend_threshold_configuration, prepaid_balance_threshold_configuration
    )
    rate_card_key, rate_card_alias_name = _check_rate_card(rate_card_id, rate_card_alias)
    product_names = _check_products(refs, at=timezone.now())
    credit_type_names = _check_credit_types(
        refs,
        default_shown=any(key in body for _, _, body, _ in rows for key in SCHEDULES_WITH_ITEMS),
    )
    return _CheckedReferences(
        rows=rows,
        spend_threshold_configuration=spend_threshold_configuration,
        prepaid_balance_threshold_configuration=prepaid_balance_threshold_configuration,
        rate_card_key=rate_card_key,
        rate_card_alias=rate_card_alias_name,
        product_names=product_names,
        credit_type_names=credit_type_names,
    )


def _package_settings(
    usage_statement_schedule: Mapping[str, Any] | None, checked: _CheckedReferences
) -> Body:
    """The package's `settings` JSON: its usage statement schedule (default monthly) and the
    threshold configurations it was given."""
    settings: Body = {
        "usage_statement_schedule": dict(
            usage_statement_schedule or DEFAULT_USAGE_STATEMENT_SCHEDULE
        )
    }
    if checked.spend_threshold_configuration is not None:
        settings["spend_threshold_configuration"] = checked.spend_threshold_configuration
    if checked.prepaid_balance_threshold_configuration is not None:
        settings["prepaid_balance_threshold_configuration"] = (
            checked.prepaid_balance_threshold_configuration
        )
    return settings


def _package_terms(
    package: Package, rows: Sequence[tuple[str, int, Body, str | None]]
) -> list[PackageTerm]:
    """Unsaved PackageTerm rows of `package`, one per (kind, ordinal, body, product id)."""
    return [
        PackageTerm(
            id=uuid.UUID(body["id"]),
            package=package,
            kind=kind,
            ordinal=ordinal,
            product_id=uuid.UUID(product_id) if product_id else None,
            body=body,
        )
        for kind, ordinal, body, product_id in rows
    ]


def _store_new_package(
    package: Package, checked: _CheckedReferences, aliases: Sequence[Mapping[str, Any]]
) -> None:
    """Renders the new package's wire, inserts it and its terms, records the audit entry and
    the `package.created` event, and assigns its aliases."""
    terms = _package_terms(package, checked.rows)
    output = Output(checked.credit_type_names, checked.product_names.names)
    package.wire = _wire_text(output.wire(package, terms))
    package.wire_expires_at = checked.product_names.expiry(str(term.product_id) for term in terms)
    _insert(package)
    PackageTerm.objects.bulk_create(terms)
    audit_record(
        action="create",
        resource_type="package",
        resource_id=package.pk,
        changes={"id": package.pk, "name": package.name, "terms": len(terms)},
    )
    events_record("package.created", {"id": package.pk, "name": package.name})
    # Without a starting_at an alias points here from now (cut to the millisecond the API shows).
    alias_assign_many(kind=AliasName.Kind.PACKAGE, entries=aliases, package=package)


@transaction.atomic
def package_create(
    *,
    created_by: str,
    name: str,
    contract_name: str = "",
    rate_card_id: str | None = None,
    rate_card_alias: str | None = None,
    aliases: Sequence[Mapping[str, Any]] = (),
    duration: Mapping[str, Any] | None = None,
    billing_provider: str = "",
    delivery_method: str = "",
    net_payment_terms_days: Decimal | None = None,
    multiplier_override_prioritization: str = "",
    scheduled_charges_on_usage_invoices: str = "",
    usage_statement_schedule: Mapping[str, Any] | None = None,
    spend_threshold_configuration: Mapping[str, Any] | None = None,
    prepaid_balance_threshold_configuration: Mapping[str, Any] | None = None,
    uniqueness_key: str | None = None,
    commits: Sequence[Mapping[str, Any]] = (),
    credits: Sequence[Mapping[str, Any]] = (),
    recurring_commits: Sequence[Mapping[str, Any]] = (),
    recurring_credits: Sequence[Mapping[str, Any]] = (),
    subscriptions: Sequence[Mapping[str, Any]] = (),
    scheduled_charges: Sequence[Mapping[str, Any]] = (),
    overrides: Sequence[Mapping[str, Any]] = (),
    spend_trackers: Sequence[Mapping[str, Any]] = (),
) -> Package:
    """Create an immutable package with its terms and aliases; all or nothing.

    Terms are given in their validated request form (api/package_serializers.py). Bad
    references and broken cross-field rules raise ValidationFailed naming the field; a reused
    uniqueness_key raises Conflict, decided by the database's unique constraint so concurrent
    identical requests create exactly one package.
    """
    term_lists = {
        "commits": commits,
        "credits": credits,
        "recurring_commits": recurring_commits,
        "recurring_credits": recurring_credits,
        "subscriptions": subscriptions,
        "scheduled_charges": scheduled_charges,
        "overrides": overrides,
        "spend_trackers": spend_trackers,
    }
    _check_request_rules(  # first, so a bad request costs no query
        term_lists,
        aliases=aliases,
        multiplier_override_prioritization=multiplier_override_prioritization,
        spend_threshold_configuration=spend_threshold_configuration,
        prepaid_balance_threshold_configuration=prepaid_balance_threshold_configuration,
    )

    checked = _checked_references(
        term_lists,
        spend_threshold_configuration=spend_threshold_configuration,
        prepaid_balance_threshold_configuration=prepaid_balance_threshold_configuration,
        rate_card_id=rate_card_id,
        rate_card_alias=rate_card_alias,
    )
    package = Package(
        name=name,
        contract_name=contract_name,
        rate_card_id=checked.rate_card_key,
        rate_card_alias=checked.rate_card_alias,
        billing_provider=billing_provider,
        delivery_method=delivery_method,
        duration_unit=duration["unit"] if duration else "",
        duration_value=duration["value"] if duration else None,
        net_payment_terms_days=net_payment_terms_days,
        multiplier_override_prioritization=multiplier_override_prioritization,
        scheduled_charges_on_usage_invoices=scheduled_charges_on_usage_invoices,
        settings=_package_settings(usage_statement_schedule, checked),
        uniqueness_key=uniqueness_key,
        created_by=created_by,
    )
    # Field checks only: references were checked above in one query per model, and the
    # constraints are the database's job (a uniqueness pre-check would race).
    package.full_clean(exclude=["rate_card"], validate_unique=False, validate_constraints=False)
    _store_new_package(package, checked, aliases)
    return package


def package_hold_for_provisioning(*, package: Package) -> dt.datetime | None:
    """Lock the package row FOR SHARE until the caller's transaction ends; its `archived_at`.

    Provisioning calls this before writing a contract: concurrent provisions share the lock,
    while an archive's FOR UPDATE waits for them to commit, and a provision that comes during
    an archive waits for it and then reads the committed `archived_at`. So no contract is ever
    created on a package after its archive commits.
    """
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT archived_at FROM "{Package._meta.db_table}" WHERE id = %s FOR SHARE',
            [package.pk],
        )
        row = cursor.fetchone()
    if row is None:
        raise NotFound("Package not found", field="package_id")
    package.archived_at = row[0]
    return row[0]


@transaction.atomic
def package_archive(*, package: Package) -> Package:
    """Archive once: a second archive is accepted and keeps the first `archived_at`.

    Metronome documents archiving as one-way and says nothing of repeats; answering 200 again
    (rather than 400) makes a retried request after a timeout harmless, which is what the SDK's
    automatic retries need. The row lock (FOR UPDATE) waits for provisions holding the package
    (see `package_hold_for_provisioning`), and `archived_at` is read after it, so every
    contract of the package was created before it.
    """
    locked = Package.objects.select_for_update().only("archived_at").get(pk=package.pk)
    if locked.archived_at is None:
        locked.archived_at = timezone.now()
        Package.objects.filter(pk=package.pk).update(archived_at=locked.archived_at)
        audit_record(
            action="archive",
            resource_type="package",
            resource_id=package.pk,
            changes={"archived_at": {"before": None, "after": locked.archived_at}},
        )
        events_record("package.archived", {"id": package.pk})
    package.archived_at = locked.archived_at
    return package


@transaction.atomic
def packages_archive(*, packages: QuerySet[Package]) -> int:
    """Archive many packages (admin action); returns how many were archived. Locks them first
    in id order (no deadlock between two archives), like `package_archive`, and stamps
    `archived_at` after the locks are held."""
    ids = list(
        Package.objects.filter(pk__in=packages.values("pk"), archived_at__isnull=True)
        .select_for_update()
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return queryset_update_recorded(
        Package.objects.filter(pk__in=ids, archived_at__isnull=True),
        action="archive",
        resource_type="package",
        archived_at=timezone.now(),
    )


@transaction.atomic
def package_wires_fill(*, package_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str | None]:
    """Render and store the wire of packages that have none (see `Package.wire`); returns
    their response texts. Six queries whatever the number of packages. Idempotent: readers
    filling the same package at once write the same value."""
    packages = packages_to_render(package_ids=package_ids)
    terms = [term for package in packages for term in package.terms.all()]
    credit_type_ids, product_ids = term_names_wanted(terms)
    product_names, _archived = _products_for_share(product_ids, timezone.now())
    output = Output(
        {str(key): name for key, (name,) in _names_for_share(CreditType, credit_type_ids).items()},
        product_names.names,
    )
    for package in packages:
        package.wire = _wire_text(output.wire(package, package.terms.all()))
        package.wire_expires_at = product_names.expiry(
            str(term.product_id) for term in package.terms.all()
        )
    Package.objects.bulk_update(packages, ["wire", "wire_expires_at"])
    return package_answers(package_ids=[package.pk for package in packages])


def package_wires_expire(*, product_ids: Iterable[uuid.UUID], at: dt.datetime) -> int:
    """Packages showing these products' names render again from `at` on (call when a rename
    is scheduled for `at`, in the same transaction): reads treat their wire as missing then."""
    return (
        Package.objects.filter(wire__isnull=False, terms__product_id__in=list(product_ids))
        .filter(Q(wire_expires_at__isnull=True) | Q(wire_expires_at__gt=at))
        .distinct()
        .update(wire_expires_at=at)
    )


def package_wires_invalidate(
    *, product_ids: Iterable[uuid.UUID] = (), credit_type_ids: Iterable[uuid.UUID] = ()
) -> int:
    """Forget the stored wire of packages showing these products' or credit types' names (call
    after renaming them, in the same transaction); they render again at their next read."""
    forgotten = 0
    product_ids = list(product_ids)
    if product_ids:
        forgotten += (
            Package.objects.filter(wire__isnull=False, terms__product_id__in=product_ids)
            .distinct()
            .update(wire=None)
        )
    for credit_type_id in credit_type_ids:
        # Its id anywhere in the wire: a few packages may render again needlessly, none is missed.
        forgotten += Package.objects.filter(wire__contains=f'"{credit_type_id}"').update(wire=None)
    return forgotten
