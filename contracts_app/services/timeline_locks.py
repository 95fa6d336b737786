"""The one lock order of a subscription's timeline: its subscription row, then its contracts."""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from config.core import lookups  # noqa: F401  (registers `__any_of`)
from contracts_app.models import Contract, Subscription


def lock_timelines(
    contract_ids: Iterable[uuid.UUID], *, select_related: tuple[str, ...] = ()
) -> dict[uuid.UUID, Contract]:
    """Lock the subscription rows of these contracts, then the contracts, each in id order.

    Every writer of a timeline (provisioning a renewal, edits, ends, cohort-migration batches
    and reverts) locks through here, so concurrent writers of one subscription queue up and
    never deadlock. Returns the contracts as of the lock, by id (an id naming no contract is
    absent). Two queries; call inside a transaction.
    """
    ids = list(contract_ids)
    subscription_ids = (
        Contract.objects.filter(id__any_of=ids, subscription__isnull=False)
        .values("subscription_id")
        .distinct()
    )
    list(
        Subscription.objects.select_for_update()
        .filter(id__in=subscription_ids)
        .order_by("id")
        .values_list("id", flat=True)
    )
    # `of=self`: the related rows read with the contracts are not locked.
    contracts = Contract.objects.select_for_update(of=("self",)).filter(id__any_of=ids)
    if select_related:
        contracts = contracts.select_related(*select_related)
    return {c.id: c for c in contracts.order_by("id")}
