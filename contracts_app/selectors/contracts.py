"""Reads of contracts: one contract, a customer's contracts, a package's cohort."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import BooleanField, Prefetch, QuerySet
from django.db.models.expressions import RawSQL

from config.core.errors import NotFound, ValidationFailed
from config.core.ids import parse_uuid
from config.core.pagination import CursorPage, cursor_for, cursor_values, keyset_paginate
from contracts_app.models import (
    PACKAGE_KEY_SQL,
    SPAN_SQL,
    Contract,
    ContractEdit,
    ContractTerm,
    Customer,
    package_key,
)
from packages_app.models import (
    PACKAGE_CONTRACT_SETTINGS,
    AliasName,
    CreditType,
    Package,
    PackageTerm,
    Product,
)


def with_terms(queryset: QuerySet) -> QuerySet:
    """What rendering a full contract needs: terms (with product names) and the billing config."""
    return queryset.select_related("billing_provider_configuration").prefetch_related(
        Prefetch(
            "terms",
            queryset=ContractTerm.objects.select_related("product").order_by("kind", "ordinal"),
        )
    )


def credit_type_names() -> dict[str, str]:
    return {str(pk): name for pk, name in CreditType.objects.values_list("id", "name")}


def product_names(*, ids) -> dict[str, str]:
    """Product id (text) → name, for these ids: one query (none without ids)."""
    ids = {str(pk) for pk in ids}
    if not ids:
        return {}
    return {
        str(pk): name for pk, name in Product.objects.filter(pk__in=ids).values_list("id", "name")
    }


def contract_get(
    *, customer_id, contract_id, for_update: bool = False, full: bool = False, edits: bool = False
) -> Contract:
    """The contract of that customer (archived ones included), or 404. `full` fetches what
    rendering it needs, `edits` its edit history (v1 amendments); `for_update` locks it (inside
    a transaction)."""
    customer_pk, contract_pk = parse_uuid(customer_id), parse_uuid(contract_id)
    contract = None
    if customer_pk and contract_pk:
        queryset = Contract.objects.filter(id=contract_pk, customer_id=customer_pk)
        if full:
            queryset = with_terms(queryset)
        if edits:
            queryset = queryset.prefetch_related(
                Prefetch("edits", queryset=ContractEdit.objects.order_by("timestamp", "id"))
            )
        if for_update:
            queryset = queryset.select_for_update()
        contract = queryset.first()
    if contract is None:
        raise NotFound("Contract not found for this customer", field="contract_id")
    return contract


def _time_filters(
    queryset: QuerySet, *, covering_date: dt.datetime | None, starting_at: dt.datetime | None
) -> QuerySet:
    if covering_date is not None and starting_at is not None:
        raise ValidationFailed(
            "covering_date and starting_at cannot be given together", field="covering_date"
        )
    if covering_date is not None:
        queryset = queryset.covering(covering_date)
    if starting_at is not None:
        queryset = queryset.filter(starting_at__gte=starting_at)
    return queryset


def contract_list(
    *,
    customer: Customer,
    covering_date: dt.datetime | None = None,
    starting_at: dt.datetime | None = None,
    include_archived: bool = False,
) -> QuerySet:
    """A customer's contracts, for keyset pages on (starting_at, id)."""
    queryset = Contract.objects.filter(customer=customer)
    if not include_archived:
        queryset = queryset.not_archived()
    return _time_filters(queryset, covering_date=covering_date, starting_at=starting_at)


def package_get(*, package_id) -> Package:
    pk = parse_uuid(package_id)
    package = Package.objects.filter(id=pk).first() if pk else None
    if package is None:
        raise NotFound("Package not found", field="package_id")
    return package


# What provisioning reads of a package (not, say, its stored response form).
PROVISIONING_PACKAGE_FIELDS = (
    "id",
    "name",
    "contract_name",
    "rate_card_id",
    "rate_card_alias",
    *PACKAGE_CONTRACT_SETTINGS,
    "archived_at",
)


def package_with_terms_get(*, package_id) -> tuple[Package, list[PackageTerm]]:
    """A package and its terms for provisioning, in one query (the terms joined to their
    package; a package without terms costs a second one), or 404."""
    pk = parse_uuid(package_id)
    terms = (
        list(
            PackageTerm.objects.filter(package_id=pk)
            .select_related("package")
            .only(
                "id",
                "kind",
                "ordinal",
                "product_id",
                "body",
                *(f"package__{name}" for name in PROVISIONING_PACKAGE_FIELDS),
            )
            .order_by()  # materialisation orders terms itself
        )
        if pk
        else []
    )
    if terms:
        return terms[0].package, terms
    package = (
        Package.objects.filter(id=pk).only(*PROVISIONING_PACKAGE_FIELDS).first() if pk else None
    )
    if package is None:
        raise NotFound("Package not found", field="package_id")
    return package, []


def contracts_on_package(
    *,
    package: Package,
    covering_date: dt.datetime | None = None,
    starting_at: dt.datetime | None = None,
    include_archived: bool = False,
) -> QuerySet:
    """The package's cohort, for keyset pages on (starting_at, id).

    Only the columns of the covering `contract_cohort` index are read, so a page is an
    index-only range scan whatever the cohort's size.
    """
    queryset = Contract.objects.on_package(package).only(
        "id", "customer_id", "starting_at", "ending_before", "archived_at"
    )
    if not include_archived:
        queryset = queryset.not_archived()
    return _time_filters(queryset, covering_date=covering_date, starting_at=starting_at)


# --- covering_date pages of a cohort --------------------------------------------------------
#
# The cohort index walks contracts by start, so a covering_date page filters out every contract
# that had already ended: on a package whose old contracts have ended, nearly the whole cohort
# (973k of 1M index rows, 67 ms warm / 130 ms cold, measured when this was added). Each page
# therefore tries two bounded scans before that one, cheapest first:
#   1. the cohort index from the cursor, at most COVERING_PROBE_ROWS rows: enough wherever
#      covering contracts are dense (a live package today), the common case;
#   2. the contract_cohort_span GiST index: exactly the contracts covering the date (neither
#      ended nor later ones are read), at most COVERING_CANDIDATE_CAP of them, sorted for the
#      page (8-11 ms for 15k, against 33-64 ms for the cohort scan). GiST has no order, hence
#      the cap: reading 20k costs ~15 ms;
#   3. otherwise the unbounded cohort scan: many contracts cover the date, but only after many
#      that do not (as before, plus the two bounded tries: 63 -> 79 ms for 100k open-ended
#      contracts after 1M ended ones).
# The planner cannot choose among these itself: with a LIMIT it assumes covering contracts are
# spread evenly along the start order. Pages and cursors are keyset_paginate's on
# (starting_at, id), whichever scan served them.
COVERING_PROBE_ROWS = 1_000
COVERING_CANDIDATE_CAP = 20_000
_COHORT_COLUMNS = ("id", "customer_id", "starting_at", "ending_before", "archived_at")


def _covering_sql(scan: str, *, after: bool, include_archived: bool) -> str:
    """SQL of one bounded scan: rows are (flag, page row); one row at least, with the flag.

    probe: the cohort index from the cursor, read lazily (no sort: the index gives the order),
    at most %(bound)s rows; the flag says the page is short and the bound was reached, so the
    probe could not decide. span: the covering contracts by the GiST index, at most %(bound)s
    of them; the flag is how many there were.
    """
    table = connection.ops.quote_name(Contract._meta.db_table)
    columns = ", ".join(_COHORT_COLUMNS)
    after_cursor = "AND (starting_at, id) > (%(after_start)s, %(after_id)s)" if after else ""
    live = "" if include_archived else "AND archived_at IS NULL"
    if scan == "probe":
        cohort = (
            f"SELECT {columns} FROM {table} WHERE package_id = %(package)s "
            f"AND starting_at <= %(at)s {after_cursor} ORDER BY starting_at, id"
        )
        return (
            f"WITH page AS (SELECT {columns} FROM ({cohort} LIMIT %(bound)s) AS scanned "
            f"WHERE (ending_before IS NULL OR ending_before > %(at)s) {live} "
            f"ORDER BY starting_at, id LIMIT %(take)s) "
            f"SELECT CASE WHEN (SELECT count(*) FROM page) < %(take)s "
            f"THEN EXISTS ({cohort} OFFSET %(last)s LIMIT 1) ELSE false END, page.* "
            f"FROM (SELECT 1) AS one LEFT JOIN page ON true"
        )
    covering = (
        f"SELECT {columns} FROM {table} "
        f"WHERE {PACKAGE_KEY_SQL} = int8range(%(package_key)s, %(package_key)s, '[]') "
        f"AND {SPAN_SQL} @> %(at)s::timestamptz AND package_id = %(package)s LIMIT %(bound)s"
    )
    return (
        f"WITH scanned AS MATERIALIZED ({covering}) "
        f"SELECT n.scanned, page.* FROM (SELECT count(*) AS scanned FROM scanned) AS n "
        f"LEFT JOIN LATERAL (SELECT {columns} FROM scanned WHERE TRUE {after_cursor} {live} "
        f"ORDER BY starting_at, id LIMIT %(take)s) AS page ON true"
    )


def _covering_scan(scan: str, params: dict, *, after: bool, include_archived: bool):
    """(contracts of the page, the scan's flag)."""
    with connection.cursor() as cursor:
        cursor.execute(_covering_sql(scan, after=after, include_archived=include_archived), params)
        rows = cursor.fetchall()
    # from_db: the other fields deferred, as `.only()` would (Contract(**row) costs ~10 µs each)
    contracts = [
        Contract.from_db(connection.alias, _COHORT_COLUMNS, row[1:])
        for row in rows
        if row[1] is not None
    ]
    return contracts, rows[0][0]


def _cursor_key(cursor: str, field: str) -> tuple[dt.datetime, uuid.UUID]:
    starting_at, contract_id = cursor_values(cursor, 2, field)
    try:
        start = Contract._meta.get_field("starting_at").to_python(starting_at)
        key = uuid.UUID(contract_id)
    except (ValidationError, ValueError):
        raise ValidationFailed(f"{field} is not a valid cursor", field=field) from None
    if start is None:
        raise ValidationFailed(f"{field} is not a valid cursor", field=field)
    return start, key


def contracts_covering_page(
    *,
    package: Package,
    covering_date: dt.datetime,
    include_archived: bool = False,
    limit: int,
    cursor: str | None,
    cursor_field: str = "next_page",
    probe_rows: int = COVERING_PROBE_ROWS,
    candidate_cap: int = COVERING_CANDIDATE_CAP,
) -> CursorPage:
    """One page of the package's contracts covering `covering_date`, by (starting_at, id)."""
    params: dict = {
        "package": package.id,
        "package_key": package_key(package.id),
        "at": covering_date,
        "take": limit + 1,
    }
    if cursor:
        params["after_start"], params["after_id"] = _cursor_key(cursor, cursor_field)
    flags = {"after": bool(cursor), "include_archived": include_archived}
    probe = {**params, "bound": probe_rows, "last": probe_rows - 1}
    rows, undecided = _covering_scan("probe", probe, **flags)
    if undecided:
        rows, scanned = _covering_scan("span", {**params, "bound": candidate_cap + 1}, **flags)
        if scanned > candidate_cap:
            return keyset_paginate(
                contracts_on_package(
                    package=package,
                    covering_date=covering_date,
                    include_archived=include_archived,
                ),
                limit=limit,
                cursor=cursor,
                keys=("starting_at", "id"),
                cursor_field=cursor_field,
            )
    if len(rows) <= limit:
        return CursorPage(items=rows, next_cursor=None)
    rows = rows[:limit]
    return CursorPage(items=rows, next_cursor=cursor_for([rows[-1].starting_at, rows[-1].id]))


# --- the contract page --------------------------------------------------------------------------

# Term kind → the v2 contracts/edit field that archives (or removes) a term of that kind.
ARCHIVE_EDIT_FIELDS = {
    "commit": "archive_commits",
    "credit": "archive_credits",
    "scheduled_charge": "archive_scheduled_charges",
    "override": "remove_overrides",
}
_ADDED_FIELDS = ("add_commits", "add_credits", "add_scheduled_charges", "add_overrides")


def _edit_added_ids_sql() -> str:
    """SQL of the ids (text) of the terms the edits of contract %s added: each edit stores the
    terms it added with their ids."""
    paths = ", ".join(f"e.edit->'{field}'" for field in _ADDED_FIELDS)
    return (
        f"SELECT item->>'id' FROM {ContractEdit._meta.db_table} AS e, "
        f"LATERAL jsonb_array_elements(jsonb_path_query_array(jsonb_build_array({paths}), "
        "'$[*][*]')) AS item WHERE e.contract_id = %s"
    )


def edit_added_term_ids(*, contract: Contract) -> set[str]:
    """Ids of the terms the contract's edits added: one query, the id lists only."""
    with connection.cursor() as cursor:
        cursor.execute(_edit_added_ids_sql(), [contract.pk])
        return {row[0] for row in cursor.fetchall() if row[0]}


@dataclass
class ContractPageReads:
    """What the contract page reads besides the contract row (its package, rate card, customer
    and subscription selected with it)."""

    terms: list[ContractTerm]  # every term: recurring periods and archived ones included
    neighbours: list[Contract]  # the other contracts of its subscription, by start
    edit_added: set[str]  # ids of the terms its edits added
    alias: AliasName | None  # the package alias it was provisioned through


def contract_page_reads(*, contract: Contract) -> ContractPageReads:
    """Two queries whatever the number of terms and edits (three with a subscription, four
    when provisioned through an alias)."""
    table = ContractTerm._meta.db_table
    added = RawSQL(  # noqa: S611 (constant SQL, the id a parameter)
        f"{table}.generated_from_id IS NULL AND {table}.id::text IN ({_edit_added_ids_sql()})",
        [contract.pk],
        output_field=BooleanField(),
    )
    terms = list(
        ContractTerm.objects.filter(contract=contract)
        .select_related("product")
        .annotate(added_by_edit=added)
        .order_by("kind", "ordinal")
    )
    neighbours = (
        list(
            Contract.objects.filter(subscription_id=contract.subscription_id)
            .exclude(pk=contract.pk)
            .select_related("package")
            .order_by("starting_at", "id")
        )
        if contract.subscription_id
        else []
    )
    return ContractPageReads(
        terms=terms,
        neighbours=neighbours,
        edit_added={str(t.id) for t in terms if t.added_by_edit},
        alias=provisioned_alias(contract=contract),
    )


def archivable_terms(*, contract: Contract) -> dict[str, str]:
    """The terms an edit added that an edit can still archive: id → the edit field for its kind
    (`archive_credits`, `remove_overrides`, ...)."""
    added = edit_added_term_ids(contract=contract)
    if not added:
        return {}
    rows = ContractTerm.objects.filter(
        contract=contract,
        id__in=added,
        archived_at__isnull=True,
        generated_from__isnull=True,
        kind__in=list(ARCHIVE_EDIT_FIELDS),
    ).values_list("id", "kind")
    return {str(pk): ARCHIVE_EDIT_FIELDS[kind] for pk, kind in rows}


def term_names(*, contract: Contract, ids) -> dict[str, str]:
    """Term id → its name on the page (its own name, else its product's), for these ids of
    the contract's terms: one query, none without ids."""
    ids = {pk for pk in ids if parse_uuid(pk)}
    if not ids:
        return {}
    rows = ContractTerm.objects.filter(contract=contract, id__in=ids).values_list(
        "id", "body__name", "product__name"
    )
    return {str(pk): name or product or "" for pk, name, product in rows}


def provisioned_alias(*, contract: Contract) -> AliasName | None:
    """The package alias the contract was provisioned through (None: by package id, or
    provisioned before the alias was recorded)."""
    name = (contract.settings or {}).get("package_alias")
    if not name:
        return None
    found = AliasName.objects.filter(kind=AliasName.Kind.PACKAGE, name=name).first()
    return found or AliasName(kind=AliasName.Kind.PACKAGE, name=name)
