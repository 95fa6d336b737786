"""Solvimon-style pricing-plan subscriptions and schedules on top of contracts (DESIGN.md §6).

A schedule is one contract of a subscription. Every write locks the subscription row first, so
the overlap check and the writes it allows see the same timeline even under concurrent requests.
The schedule's Solvimon-only fields live in `contract.settings["pricing_plan_schedule"]`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from config.api.errors import Conflict, ValidationFailed
from config.audit.services import audit_record, changed_fields
from contracts_app.models import TIMELINE_CONSTRAINT, Contract, ContractTerm, Subscription
from contracts_app.selectors.customers import customer_get
from contracts_app.selectors.schedules import (
    pricing_plan_version_resolve,
    schedule_get,
    subscription_lock,
    subscription_schedules,
)
from contracts_app.services.contract_ends import contract_end_move
from contracts_app.services.materialise import (
    absolute_usage_statement_schedule,
    materialise_package_terms,
)
from contracts_app.services.provisioning import contract_provision, contract_terms_write
from contracts_app.services.timeline_locks import lock_timelines
from packages_app.models import Package
from packages_app.time_offsets import add_offset

SETTINGS_KEY = "pricing_plan_schedule"
# Kept from the schedule being migrated; the version fields are chosen anew.
_NOT_CARRIED_ON_MIGRATE = ("pricing_plan_id", "pricing_plan_version_selector", "platform_id")


@transaction.atomic
def pricing_plan_subscription_create(
    *, customer_id, details: dict[str, Any], platform_id: str = ""
) -> Subscription:
    customer = customer_get(customer_id=customer_id)
    subscription = Subscription.objects.create(
        customer=customer, platform_id=platform_id or "", details=details
    )
    audit_record(
        action="create",
        resource_type="subscription",
        resource_id=subscription.pk,
        changes={"id": subscription.pk, "customer_id": customer.pk},
    )
    return subscription


def _package_end(*, package: Package, start_at: dt.datetime) -> dt.datetime | None:
    if package.duration_unit and package.duration_value is not None:
        return add_offset(start_at, package.duration_unit, package.duration_value)
    return None


def _overlaps(
    starting_at: dt.datetime,
    ending_before: dt.datetime | None,
    start: dt.datetime,
    end: dt.datetime | None,
) -> bool:
    return (ending_before is None or ending_before > start) and (end is None or starting_at < end)


def _first_overlap(
    intervals: Iterable[tuple[Contract, dt.datetime, dt.datetime | None]],
    start: dt.datetime,
    end: dt.datetime | None,
) -> Contract | None:
    for contract, starting_at, ending_before in intervals:
        if _overlaps(starting_at, ending_before, start, end):
            return contract
    return None


def _conflict_with(contract: Contract) -> Conflict:
    return Conflict(
        f"The schedule overlaps schedule {contract.id} "
        f"({contract.starting_at.isoformat()} to "
        f"{contract.ending_before.isoformat() if contract.ending_before else 'open-ended'})",
        field="start_at",
    )


def _schedule_move_start(*, contract: Contract, starting_at: dt.datetime) -> None:
    """Move a not yet started schedule's start and re-materialise its terms from the package.

    Term dates are computed from the contract start (DESIGN.md §4), so shifting them would be
    wrong across month ends; the schedule has not started, so nothing was billed from them.
    """
    package = contract.package
    if package is None:
        raise Conflict(
            f"The next schedule {contract.id} has no package; its start cannot move",
            field="set_next_start_at",
        )
    usage = absolute_usage_statement_schedule(
        starting_at, (package.settings or {}).get("usage_statement_schedule")
    )
    rows = materialise_package_terms(
        package.terms.all(),
        contract_start=starting_at,
        contract_end=contract.ending_before,
        usage_frequency=usage["frequency"],
    )
    previous_start = contract.starting_at
    contract.starting_at = starting_at
    contract.settings = {**(contract.settings or {}), "usage_statement_schedule": usage}
    try:
        contract.save(update_fields=["starting_at", "settings"])
    except IntegrityError as exc:
        if TIMELINE_CONSTRAINT in str(exc):
            raise Conflict(
                f"Moving the start of schedule {contract.id} would overlap another schedule",
                field="set_next_start_at",
            ) from None
        raise
    ContractTerm.objects.filter(contract=contract).delete()
    contract_terms_write(contract=contract, rows=rows)
    audit_record(
        action="move_start",
        resource_type="contract",
        resource_id=contract.pk,
        changes=changed_fields({"starting_at": previous_start}, {"starting_at": starting_at}),
    )


def _make_room(
    *,
    timeline: list[Contract],
    start: dt.datetime,
    end: dt.datetime | None,
    set_previous_end_at: bool,
    set_next_start_at: bool,
) -> None:
    """Apply the neighbour flags, then refuse any remaining overlap (nothing is written on 409)."""
    previous = next((c for c in reversed(timeline) if c.starting_at < start), None)
    following = next((c for c in timeline if c.starting_at >= start), None)
    intervals = {c.id: (c, c.starting_at, c.ending_before) for c in timeline}

    if set_previous_end_at and previous is not None:
        intervals[previous.id] = (previous, previous.starting_at, start)
    if set_next_start_at and following is not None:
        if end is None:
            raise ValidationFailed(
                "set_next_start_at needs the new schedule to end (end_at or a package duration)",
                field="end_at",
            )
        if following.starting_at <= timezone.now():
            raise Conflict(
                f"The next schedule {following.id} has already started; its start cannot move",
                field="set_next_start_at",
            )
        if following.ending_before is not None and following.ending_before <= end:
            raise Conflict(
                f"The next schedule {following.id} ends before this schedule's end_at",
                field="end_at",
            )
        intervals[following.id] = (following, end, following.ending_before)

    clash = _first_overlap(intervals.values(), start, end)
    if clash is not None:
        raise _conflict_with(clash)

    if set_previous_end_at and previous is not None and previous.ending_before != start:
        contract_end_move(contract=previous, ending_before=start)
    if set_next_start_at and following is not None and following.starting_at != end:
        _schedule_move_start(contract=following, starting_at=end)


def _provision(
    *,
    subscription: Subscription,
    package: Package,
    start: dt.datetime,
    end_at: dt.datetime | None,
    end_at_sent: bool,
    stored: dict[str, Any],
    others: list[Contract],
    created_by: str,
) -> Contract:
    try:
        contract = contract_provision(
            customer=subscription.customer,
            starting_at=start,
            package=package,
            ending_before=end_at if end_at_sent else None,
            override_ending_before=end_at_sent,
            subscription=subscription,
            settings_extra={SETTINGS_KEY: stored},
            created_by=created_by,
        )
    except Conflict as conflict:
        if conflict.field != "starting_at":
            raise
        # The timeline constraint, in Solvimon's field names.
        raise Conflict(conflict.message, field="start_at") from None
    # Backstop: the contract's real interval (provisioning decides the end from the package
    # duration when end_at was not sent) must still fit the timeline.
    others_now = [(c, c.starting_at, c.ending_before) for c in others]
    clash = _first_overlap(others_now, contract.starting_at, contract.ending_before)
    if clash is not None:
        raise _conflict_with(clash)
    return contract


def _stored_fields(
    *,
    schedule_type: str | None,
    plan_id,
    version_selector: dict | None,
    extras: dict[str, Any],
    platform_id: str,
) -> dict[str, Any]:
    stored: dict[str, Any] = {
        "type": schedule_type or "DEFAULT",
        "pricing_plan_id": str(plan_id) if plan_id is not None else None,
        **extras,
    }
    if version_selector is not None:
        stored["pricing_plan_version_selector"] = version_selector
    if platform_id:
        stored["platform_id"] = platform_id
    return stored


@transaction.atomic
def pricing_plan_schedule_create(
    *,
    subscription_id,
    start_at: dt.datetime,
    end_at: dt.datetime | None = None,
    end_at_sent: bool = False,
    schedule_type: str | None = None,
    pricing_plan_id: str | None = None,
    pricing_plan_version_id: str | None = None,
    version_selector: dict | None = None,
    extras: dict[str, Any] | None = None,
    set_previous_end_at: bool = False,
    set_next_start_at: bool = False,
    platform_id: str = "",
    created_by: str = "",
) -> Contract:
    """Add one schedule (a contract of `package`) to the subscription's timeline."""
    if set_previous_end_at and set_next_start_at:
        raise ValidationFailed(
            "set_previous_end_at and set_next_start_at are mutually exclusive",
            field="set_next_start_at",
        )
    subscription = subscription_lock(subscription_id=subscription_id)
    plan, package = pricing_plan_version_resolve(
        pricing_plan_id=pricing_plan_id,
        pricing_plan_version_id=pricing_plan_version_id,
        selector=version_selector,
        at=start_at,
    )
    end = end_at if end_at_sent else _package_end(package=package, start_at=start_at)
    if end is not None and end <= start_at:
        raise ValidationFailed("end_at must be after start_at", field="end_at")
    timeline = list(subscription_schedules(subscription=subscription).select_for_update())
    _make_room(
        timeline=timeline,
        start=start_at,
        end=end,
        set_previous_end_at=set_previous_end_at,
        set_next_start_at=set_next_start_at,
    )
    stored = _stored_fields(
        schedule_type=schedule_type,
        plan_id=plan.id if plan else None,
        version_selector=version_selector,
        extras=extras or {},
        platform_id=platform_id,
    )
    # `timeline` holds the neighbours as moved: the services update the instances they get.
    return _provision(
        subscription=subscription,
        package=package,
        start=start_at,
        end_at=end_at,
        end_at_sent=end_at_sent,
        stored=stored,
        others=timeline,
        created_by=created_by,
    )


@transaction.atomic
def pricing_plan_schedule_migrate(
    *,
    schedule_id,
    start_at: dt.datetime,
    end_at: dt.datetime | None = None,
    end_at_sent: bool = False,
    pricing_plan_id: str | None = None,
    pricing_plan_version_id: str | None = None,
    version_selector: dict | None = None,
    extras: dict[str, Any] | None = None,
    platform_id: str = "",
    created_by: str = "",
) -> Contract:
    """End the schedule at `start_at` and start the chosen version there, in one transaction.

    The new schedule keeps the original's end (unless `end_at` is sent) and its per-customer
    terms (entitlements, discounts, ...), overridden by any sent with the migration.
    """
    found = schedule_get(schedule_id=schedule_id)
    original = lock_timelines([found.id], select_related=("subscription__customer",))[found.id]
    subscription = original.subscription
    if original.archived_at is not None:
        raise Conflict(f"Pricing plan schedule {original.id} is archived", field="id")
    if not (
        original.starting_at < start_at
        and (original.ending_before is None or start_at < original.ending_before)
    ):
        raise ValidationFailed(
            "start_at must fall strictly inside the schedule being migrated", field="start_at"
        )
    plan, package = pricing_plan_version_resolve(
        pricing_plan_id=pricing_plan_id,
        pricing_plan_version_id=pricing_plan_version_id,
        selector=version_selector,
        at=start_at,
    )
    end = end_at if end_at_sent else original.ending_before
    if end is not None and end <= start_at:
        raise ValidationFailed("end_at must be after start_at", field="end_at")
    others = [c for c in subscription_schedules(subscription=subscription) if c.id != original.id]
    clash = _first_overlap(((c, c.starting_at, c.ending_before) for c in others), start_at, end)
    if clash is not None:
        raise _conflict_with(clash)

    carried = {
        key: value
        for key, value in (original.settings or {}).get(SETTINGS_KEY, {}).items()
        if key not in _NOT_CARRIED_ON_MIGRATE
    }
    stored = _stored_fields(
        schedule_type=carried.pop("type", None),
        plan_id=plan.id if plan else None,
        version_selector=version_selector,
        extras={
            **carried,
            **(extras or {}),
            "migrated_from_pricing_plan_schedule_id": str(original.id),
        },
        platform_id=platform_id,
    )
    contract_end_move(contract=original, ending_before=start_at)
    return _provision(
        subscription=subscription,
        package=package,
        start=start_at,
        end_at=end,
        end_at_sent=True,
        stored=stored,
        others=[*others, original],
        created_by=created_by,
    )
