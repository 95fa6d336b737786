"""Reads for Solvimon-style pricing-plan subscriptions and schedules (DESIGN.md §6).

A pricing plan is a package alias name, a pricing plan version is a package (version N = the
N-th package ever assigned to the name), a subscription is a Subscription and a schedule is one
Contract of it. Alias resolution itself stays in packages_app.selectors.aliases.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Prefetch, QuerySet

from config.core.errors import NotFound, ValidationFailed
from config.core.ids import parse_uuid
from contracts_app.models import Contract, Subscription
from packages_app.models import AliasAssignment, AliasName, Package
from packages_app.selectors.aliases import alias_package_versions, package_for_alias
from packages_app.selectors.catalog import get_or_not_found


def _schedules() -> QuerySet[Contract]:
    return Contract.objects.filter(subscription__isnull=False)


def subscription_schedules(*, subscription: Subscription) -> QuerySet[Contract]:
    """The subscription's timeline: its active schedules, earliest start first."""
    return (
        _schedules().not_archived().filter(subscription=subscription).order_by("starting_at", "id")
    )


def subscription_list(*, customer_id=None) -> QuerySet[Subscription]:
    subscriptions = Subscription.objects.prefetch_related(
        Prefetch(
            "contracts",
            queryset=Contract.objects.not_archived().order_by("starting_at", "id"),
            to_attr="active_schedules",
        )
    )
    if customer_id is not None:
        parsed = parse_uuid(customer_id)
        if parsed is None:
            raise ValidationFailed("customer_id must be a UUID", field="customer_id")
        subscriptions = subscriptions.filter(customer_id=parsed)
    return subscriptions


def subscription_get(*, subscription_id, field: str = "id") -> Subscription:
    """The subscription with `active_schedules` prefetched; a malformed id is simply not found."""
    return get_or_not_found(
        subscription_list(), subscription_id, what="Pricing plan subscription", field=field
    )


def subscription_lock(*, subscription_id, field: str = "pricing_plan_subscription_id"):
    """Lock the subscription row: schedule writes of one subscription run one at a time."""
    parsed = parse_uuid(subscription_id)
    subscription = (
        # `of=self`: lock the subscription only, not the joined customer row.
        Subscription.objects.select_for_update(of=("self",))
        .select_related("customer")
        .filter(id=parsed)
        .first()
        if parsed
        else None
    )
    if subscription is None:
        raise NotFound(f"Pricing plan subscription {subscription_id} not found", field=field)
    return subscription


def schedule_list(*, subscription_id=None) -> QuerySet[Contract]:
    schedules = _schedules().not_archived()
    if subscription_id is not None:
        parsed = parse_uuid(subscription_id)
        if parsed is None:
            raise ValidationFailed(
                "pricing_plan_subscription_id must be a UUID", field="pricing_plan_subscription_id"
            )
        schedules = schedules.filter(subscription_id=parsed)
    return schedules


def schedule_get(*, schedule_id, field: str = "id") -> Contract:
    return get_or_not_found(_schedules(), schedule_id, what="Pricing plan schedule", field=field)


# --- pricing plans and their versions ----------------------------------------------------------


def pricing_plan_get(*, pricing_plan_id=None, reference=None, field: str) -> AliasName:
    """A pricing plan (a package alias name) by id or by reference (its name)."""
    plans = AliasName.objects.filter(kind=AliasName.Kind.PACKAGE)
    plan = None
    if pricing_plan_id is not None:
        try:
            plan = plans.filter(id=int(pricing_plan_id)).first()
        except (TypeError, ValueError):
            plan = None
        if plan is None:
            raise NotFound(f"Pricing plan {pricing_plan_id} not found", field=field)
        if reference is not None and plan.name != reference:
            raise ValidationFailed(
                f"Pricing plan {pricing_plan_id} is not the plan with reference {reference!r}",
                field=field,
            )
        return plan
    plan = plans.filter(name=reference).first()
    if plan is None:
        raise NotFound(f"Pricing plan with reference {reference!r} not found", field=field)
    return plan


def pricing_plan_of_package(*, package: Package) -> AliasName | None:
    """The plan a package is a version of: the first alias name it was ever assigned."""
    assignment = (
        AliasAssignment.objects.filter(package=package).select_related("alias_name").order_by("id")
    ).first()
    return assignment.alias_name if assignment else None


def pricing_plan_version_latest(*, plan: AliasName, at: dt.datetime, field: str) -> Package:
    package = package_for_alias(name=plan.name, at=at)
    if package is None:
        raise ValidationFailed(
            f"Pricing plan {plan.name!r} has no version in force at {at.isoformat()}", field=field
        )
    return package


def pricing_plan_version_number(*, plan: AliasName, version: int, field: str) -> Package:
    versions = alias_package_versions(alias_name=plan)
    if not 1 <= version <= len(versions):
        raise NotFound(
            f"Pricing plan {plan.name!r} has {len(versions)} version(s); {version} does not exist",
            field=field,
        )
    return Package.objects.get(id=versions[version - 1])


def pricing_plan_version_get(*, version_id, field: str = "pricing_plan_version_id") -> Package:
    return get_or_not_found(
        Package.objects.all(), version_id, what="Pricing plan version", field=field
    )


def pricing_plan_version_resolve(
    *,
    pricing_plan_id: str | None,
    pricing_plan_version_id: str | None,
    selector: dict | None,
    at: dt.datetime,
) -> tuple[AliasName | None, Package]:
    """(plan, version) from a version id, a selector, or a bare plan id (its LATEST version).

    The selector is resolved once, here, at write time: LATEST is the alias's package as of
    `at` (the schedule's start), VERSION N the N-th package ever assigned to the alias.
    """
    if pricing_plan_version_id and selector:
        raise ValidationFailed(
            "Give pricing_plan_version_id or pricing_plan_version_selector, not both",
            field="pricing_plan_version_selector",
        )
    if pricing_plan_version_id:
        package = pricing_plan_version_get(version_id=pricing_plan_version_id)
        if not pricing_plan_id:
            return pricing_plan_of_package(package=package), package
        plan = pricing_plan_get(pricing_plan_id=pricing_plan_id, field="pricing_plan_id")
        if package.id not in alias_package_versions(alias_name=plan):
            raise ValidationFailed(
                f"Pricing plan version {package.id} is not a version of pricing plan {plan.id}",
                field="pricing_plan_version_id",
            )
        return plan, package
    if selector:
        field = "pricing_plan_version_selector"
        selector_plan_id = selector.get("pricing_plan_id")
        if pricing_plan_id and selector_plan_id and str(pricing_plan_id) != str(selector_plan_id):
            raise ValidationFailed(
                "pricing_plan_id differs from the selector's pricing_plan_id",
                field="pricing_plan_id",
            )
        plan = pricing_plan_get(
            pricing_plan_id=selector_plan_id or pricing_plan_id,
            reference=selector.get("pricing_plan_reference"),
            field=f"{field}.pricing_plan_id"
            if selector_plan_id
            else f"{field}.pricing_plan_reference",
        )
        if (selector.get("type") or "LATEST") == "VERSION":
            version = pricing_plan_version_number(
                plan=plan, version=selector["version"], field=f"{field}.version"
            )
        else:
            version = pricing_plan_version_latest(plan=plan, at=at, field=field)
        return plan, version
    if pricing_plan_id:
        plan = pricing_plan_get(pricing_plan_id=pricing_plan_id, field="pricing_plan_id")
        return plan, pricing_plan_version_latest(plan=plan, at=at, field="pricing_plan_id")
    raise ValidationFailed(
        "Give pricing_plan_version_id, pricing_plan_version_selector or pricing_plan_id",
        field="pricing_plan_version_id",
    )
