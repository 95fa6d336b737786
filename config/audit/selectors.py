"""Reading the audit trail: filtered, newest or oldest first, one keyset page per query."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import BigIntegerField, Count, Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL

from config.audit.models import AuditLogEntry
from config.core.errors import ValidationFailed
from config.core.pagination import CursorPage, cursor_for, cursor_values

ASC, DESC = "date_asc", "date_desc"
HISTORY_LIMIT = 20


def audit_entries(
    *,
    resource_type: str | None = None,
    resource_id: Any = None,
    actor: str | None = None,
    starting_on: dt.datetime | None = None,
    ending_before: dt.datetime | None = None,
    xact_id: int | None = None,
) -> QuerySet[AuditLogEntry]:
    """Entries matching every filter given. `actor`: a username or the recorded actor name;
    `xact_id`: the entries one transaction wrote (a grouped batch, expanded)."""
    entries = AuditLogEntry.objects.all()
    if xact_id is not None:
        entries = entries.filter(xact_id=xact_id)
    if resource_type:
        entries = entries.filter(resource_type=resource_type)
    if resource_id:
        entries = entries.filter(resource_id=str(resource_id))
    if actor:
        # Two indexed conditions (no join): the user's id by a subquery, or the recorded name.
        users = get_user_model().objects.filter(username=actor).values("id")
        entries = entries.filter(Q(actor_name=actor) | Q(actor_user_id__in=users))
    if starting_on is not None:
        entries = entries.filter(timestamp__gte=starting_on)
    if ending_before is not None:
        entries = entries.filter(timestamp__lt=ending_before)
    return entries


TAIL_KEYS = ("xact_id", "timestamp", "id")
NEWEST_KEYS = ("timestamp", "id")


# The first transaction id that may still commit an entry: the oldest in flight (other than
# the reader's own, which a snapshot never lists), else the first not yet assigned; every entry
# below it is final. Transaction ids are cluster-wide, so transactions of sessions known to be
# in another database are skipped (they never write here; one not visible in pg_stat_activity
# is kept, which only delays the feed).
FINAL_BELOW = RawSQL(
    """
    SELECT LEAST(
        pg_snapshot_xmax(s)::text::bigint,
        (SELECT min(x::text::bigint) FROM pg_snapshot_xip(s) AS x
         WHERE NOT EXISTS (
             SELECT 1 FROM pg_stat_activity AS a
             WHERE a.datname <> current_database()
               AND a.backend_xid::text::bigint = mod(x::text::bigint, 4294967296))))
    FROM pg_current_snapshot() AS s
    """,
    [],
    output_field=BigIntegerField(),
)


OWN_TRANSACTION = RawSQL(
    "SELECT pg_current_xact_id_if_assigned()::text::bigint", [], output_field=BigIntegerField()
)


def _bad_cursor(field: str) -> ValidationFailed:
    return ValidationFailed(f"{field} is not a valid cursor", field=field)


def _typed(names: tuple[str, ...], values: list[str], field: str) -> list[Any]:
    try:
        typed = [
            AuditLogEntry._meta.get_field(name).to_python(value)
            for name, value in zip(names, values, strict=True)
        ]
    except ValidationError:
        raise _bad_cursor(field) from None
    if any(value is None for value in typed):
        raise _bad_cursor(field)
    return typed


def _after(names: tuple[str, ...], values: list[Any], *, descending: bool) -> Q:
    """Rows strictly after `values` in the (names) order: (a > x) or (a = x and (b > y ...))."""
    op = "lt" if descending else "gt"
    condition = Q(**{f"{names[-1]}__{op}": values[-1]})
    for name, value in zip(reversed(names[:-1]), reversed(values[:-1]), strict=True):
        condition = Q(**{f"{name}__{op}": value}) | (Q(**{name: value}) & condition)
    return condition


def audit_entry_key(*, entry_id: Any, field: str = "after") -> list[Any]:
    """The oldest-first key of one entry, to resume a tail after it."""
    try:
        key = AuditLogEntry.objects.filter(pk=entry_id).values_list(*TAIL_KEYS).first()
    except ValidationError:
        key = None
    if key is None:
        raise ValidationFailed(f"No audit log entry {entry_id}", field=field)
    return list(key)


def audit_page(
    entries: QuerySet[AuditLogEntry],
    *,
    limit: int,
    cursor: str | None,
    sort: str = ASC,
    after: list[Any] | None = None,
    cursor_field: str = "next_page",
) -> CursorPage:
    """A page oldest first (the tail) or newest first; the cursor holds the last row's key
    and the direction, so it cannot be replayed the other way round.

    Oldest first is commit-safe: ordered by the writing transaction, then time, and only the
    entries of transactions below every one still in flight, so no entry can later appear
    before a cursor already handed out (a reader that pages on loses nothing and sees nothing
    twice). `after`: the key of an entry to resume behind (audit_entry_key), when a reader
    comes back after the last page.
    """
    descending = sort == DESC
    keys = NEWEST_KEYS if descending else TAIL_KEYS
    if cursor:
        *values, direction = cursor_values(cursor, len(keys) + 1, cursor_field)
        if direction != sort:
            raise _bad_cursor(cursor_field)
        after = _typed(keys, values, cursor_field)
    if not descending:
        # A reader inside a writing transaction also sees its own entries (as any read does).
        entries = entries.filter(Q(xact_id__lt=FINAL_BELOW) | Q(xact_id=OWN_TRANSACTION))
    if after is not None:
        entries = entries.filter(_after(keys, after, descending=descending))
    order = [f"-{key}" for key in keys] if descending else list(keys)
    rows = list(entries.order_by(*order)[: limit + 1])
    if len(rows) <= limit:
        return CursorPage(items=rows, next_cursor=None)
    rows = rows[:limit]
    last = rows[-1]
    return CursorPage(
        items=rows, next_cursor=cursor_for([*(getattr(last, key) for key in keys), sort])
    )


def resource_history(
    *, resource_type: str, resource_id: Any, limit: int = HISTORY_LIMIT
) -> list[AuditLogEntry]:
    """The newest entries of one resource (the "History" section of its page): one query."""
    return list(
        audit_entries(resource_type=resource_type, resource_id=resource_id).order_by(
            "-timestamp", "-id"
        )[:limit]
    )


# --- one row per batch ---------------------------------------------------------------------------

GROUPED_TYPE = "contract"
# A transaction that wrote entries for at least this many contracts (a cohort migration's
# batch, a revert, the recurring-terms job) is one row of /activity/, expandable; a smaller one
# (a renewal: the old contract and the new) is listed entry by entry.
GROUP_MIN_CONTRACTS = 3


def entries_one_per_batch(entries: QuerySet[AuditLogEntry]) -> QuerySet[AuditLogEntry]:
    """`entries` with each transaction's contract entries reduced to its newest one (the row a
    group hangs on: `batch_groups`). One index probe per row (audit_commit_order_idx)."""
    newer = AuditLogEntry.objects.filter(
        xact_id=OuterRef("xact_id"), resource_type=GROUPED_TYPE
    ).filter(
        Q(timestamp__gt=OuterRef("timestamp"))
        | Q(timestamp=OuterRef("timestamp"), id__gt=OuterRef("id"))
    )
    return entries.filter(~Q(resource_type=GROUPED_TYPE) | ~Exists(newer))


def batch_groups(
    entries: QuerySet[AuditLogEntry], heads: list[AuditLogEntry]
) -> dict[int, dict[str, Any]]:
    """For the page's contract rows (`heads`, from `entries_one_per_batch`), what each one's
    transaction wrote: contracts touched, entries, moved (transition) and reverted counts, and
    for small transactions the entries themselves (`members`, newest first). One query, two
    when a small transaction is on the page."""
    xacts = {entry.xact_id for entry in heads if entry.resource_type == GROUPED_TYPE}
    if not xacts:
        return {}
    scope = entries.filter(xact_id__in=xacts, resource_type=GROUPED_TYPE)
    groups = {
        row["xact_id"]: row
        for row in scope.values("xact_id").annotate(
            entries=Count("id"),
            contracts=Count("resource_id", distinct=True),
            moved=Count("id", filter=Q(action="transition")),
            reverted=Count("id", filter=Q(action="revert_migration")),
        )
    }
    small = [
        xact
        for xact, row in groups.items()
        if row["entries"] > 1 and row["contracts"] < GROUP_MIN_CONTRACTS
    ]
    if small:
        for member in scope.filter(xact_id__in=small).order_by("-timestamp", "-id"):
            groups[member.xact_id].setdefault("members", []).append(member)
    return groups
