"""`alias.repointed`: announce each alias assignment once it takes effect (beat, every few
seconds: packages_app.tasks).

An assignment takes effect when its `starting_at` passes while it is in force. It is announced
in the transaction that records it as announced (AliasAssignmentAnnouncement, one row per
assignment), so a second run, or two at once, never announce it twice. An assignment that
continues the target in force just before it (the tail of a split) changes nothing and is
recorded without an event.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone

from config.api.views_base import rfc3339
from config.webhooks.services import events_record
from packages_app.models import AliasAssignment, AliasAssignmentAnnouncement

BATCH = 500


def _target_id(assignment: AliasAssignment | None) -> str | None:
    if assignment is None:
        return None
    return str(assignment.package_id or assignment.rate_card_id)


@transaction.atomic
def alias_repointings_announce(*, limit: int = BATCH) -> int:
    """Announce the assignments that took effect and were not announced yet; how many."""
    now = timezone.now()
    due = list(
        AliasAssignment.objects.in_force()
        .filter(starting_at__lte=now, announcement__isnull=True)
        .select_related("alias_name")
        .select_for_update(skip_locked=True, of=("self",))
        .order_by("starting_at", "id")[:limit]
    )
    if not due:
        return 0
    table = connection.ops.quote_name(AliasAssignmentAnnouncement._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (assignment_id, announced_at) "
            "SELECT unnest(%s::bigint[]), %s ON CONFLICT DO NOTHING RETURNING assignment_id",
            [[assignment.id for assignment in due], now],
        )
        claimed = {row[0] for row in cursor.fetchall()}
    before = {
        (assignment.alias_name_id, assignment.ending_before): assignment
        for assignment in AliasAssignment.objects.in_force().filter(
            alias_name_id__in={assignment.alias_name_id for assignment in due},
            ending_before__in={assignment.starting_at for assignment in due},
        )
    }
    for assignment in due:
        previous = before.get((assignment.alias_name_id, assignment.starting_at))
        if assignment.id not in claimed or _target_id(previous) == _target_id(assignment):
            continue
        events_record(
            "alias.repointed",
            {
                "alias": assignment.alias_name.name,
                "kind": assignment.alias_name.kind,
                "target_id": _target_id(assignment),
                "previous_target_id": _target_id(previous),
                "starting_at": rfc3339(assignment.starting_at),
                "ending_before": rfc3339(assignment.ending_before),
            },
        )
    return len(claimed)
