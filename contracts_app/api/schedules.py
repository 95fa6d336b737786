"""Solvimon-style pricing-plan subscriptions and schedules (seed 004, DESIGN.md §6).

Thin views: input serializers check shape and types, services and selectors do the rest. Errors
on these routes use Solvimon's `{type, code, message, field}` shape; objects are returned bare
(no `data` envelope), lists as `{data, next_page}`.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.schema import PAGE_PARAMETERS, page_of
from config.api.views_base import page_answer, validated, validated_query
from config.core.errors import NotFound
from config.core.instants import format_instant
from contracts_app.api.response_serializers import (
    PricingPlanScheduleOutput,
    PricingPlanSubscriptionOutput,
)
from contracts_app.api.schedule_serializers import (
    SCHEDULE_EXTRA_FIELDS,
    SUBSCRIPTION_DETAIL_FIELDS,
    ScheduleCreateInput,
    ScheduleFlagsInput,
    ScheduleMigrateInput,
    SubscriptionCreateInput,
)
from contracts_app.models import Contract, Subscription
from contracts_app.selectors.schedules import (
    schedule_get,
    schedule_list,
    subscription_get,
    subscription_list,
)
from contracts_app.services.pricing_plan_schedules import (
    SETTINGS_KEY,
    pricing_plan_schedule_create,
    pricing_plan_schedule_migrate,
    pricing_plan_subscription_create,
)

SUPPORTED_VERSIONS = ("1",)
# Solvimon versions its paths; only v1 exists (any other answers 404).
VERSION = OpenApiParameter(
    "version", str, OpenApiParameter.PATH, enum=list(SUPPORTED_VERSIONS), description="API version"
)
_VERSION_FIELDS = ("pricing_plan_id", "pricing_plan_version_id", "pricing_plan_version_selector")


def schedule_data(contract: Contract) -> dict[str, Any]:
    stored = (contract.settings or {}).get(SETTINGS_KEY, {})
    body: dict[str, Any] = {
        "object_type": "PRICING_PLAN_SCHEDULE",
        "id": str(contract.id),
        "type": stored.get("type") or "DEFAULT",
        "pricing_plan_subscription_id": str(contract.subscription_id),
        "pricing_plan_id": stored.get("pricing_plan_id"),
        "pricing_plan_version_id": str(contract.package_id) if contract.package_id else None,
        "start_at": format_instant(contract.starting_at),
        "end_at": format_instant(contract.ending_before),
        "created_at": format_instant(contract.created_at),
    }
    if "pricing_plan_version_selector" in stored:
        body["pricing_plan_version_selector"] = stored["pricing_plan_version_selector"]
    for name in SCHEDULE_EXTRA_FIELDS:
        if name in stored:
            body[name] = stored[name]
    return body


def subscription_data(subscription: Subscription) -> dict[str, Any]:
    details = subscription.details or {}
    body: dict[str, Any] = {
        "object_type": "PRICING_PLAN_SUBSCRIPTION",
        "id": str(subscription.id),
        "customer_id": str(subscription.customer_id),
        "platform_id": subscription.platform_id or None,
        **{name: details[name] for name in SUBSCRIPTION_DETAIL_FIELDS if name in details},
        "created_at": format_instant(subscription.created_at),
    }
    schedules = getattr(subscription, "active_schedules", None)
    if schedules is not None:
        body["pricing_plan_schedules"] = [schedule_data(c) for c in schedules]
    return body


@extend_schema(parameters=[VERSION])
class SolvimonApi(APIView):
    error_style = "solvimon"

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        version = kwargs.get("version", "1")
        if version not in SUPPORTED_VERSIONS:
            raise NotFound(f"API version v{version} does not exist", field="version")

    def platform_id(self) -> str:
        return self.request.headers.get("x-platform-id", "").strip()

    def created_by(self) -> str:
        return getattr(self.request.user, "username", "") or ""


class SubscriptionsApi(SolvimonApi):
    required_permission = {
        "POST": "contracts_app.add_subscription",
        "GET": "contracts_app.view_subscription",
    }

    @extend_schema(
        operation_id="pricing_plan_subscriptions_create",
        request=SubscriptionCreateInput,
        responses={201: PricingPlanSubscriptionOutput},
    )
    def post(self, request, version: str = "1"):
        data = validated(SubscriptionCreateInput, request.data)
        details = {name: data[name] for name in SUBSCRIPTION_DETAIL_FIELDS if name in data}
        subscription = pricing_plan_subscription_create(
            customer_id=data["customer_id"], details=details, platform_id=self.platform_id()
        )
        subscription.active_schedules = []
        return Response(subscription_data(subscription), status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="pricing_plan_subscriptions_list",
        parameters=[
            OpenApiParameter("customer_id", str, description="Only this customer's"),
            *PAGE_PARAMETERS,
        ],
        responses=page_of(PricingPlanSubscriptionOutput),
    )
    def get(self, request, version: str = "1"):
        subscriptions = subscription_list(customer_id=request.query_params.get("customer_id"))
        return page_answer(request, subscriptions, subscription_data)


class SubscriptionGetApi(SolvimonApi):
    required_permission = "contracts_app.view_subscription"

    @extend_schema(
        operation_id="pricing_plan_subscriptions_get", responses=PricingPlanSubscriptionOutput
    )
    def get(self, request, subscription_id: str, version: str = "1"):
        return Response(subscription_data(subscription_get(subscription_id=subscription_id)))


def _version_choice(data: dict) -> dict[str, Any]:
    return {
        "pricing_plan_id": data.get("pricing_plan_id"),
        "pricing_plan_version_id": data.get("pricing_plan_version_id"),
        "version_selector": data.get("pricing_plan_version_selector"),
    }


def _extras(data: dict) -> dict[str, Any]:
    return {name: data[name] for name in SCHEDULE_EXTRA_FIELDS if name in data}


class SchedulesApi(SolvimonApi):
    required_permission = {
        "POST": "contracts_app.pricing_plan_schedule_create",
        "GET": "contracts_app.view_subscription",
    }

    @extend_schema(
        operation_id="pricing_plan_schedules_create",
        request=ScheduleCreateInput,
        parameters=[
            OpenApiParameter("set_previous_end_at", bool),
            OpenApiParameter("set_next_start_at", bool),
            OpenApiParameter("x-platform-id", str, location=OpenApiParameter.HEADER),
        ],
        responses={201: PricingPlanScheduleOutput},
    )
    def post(self, request, version: str = "1"):
        flags = validated_query(
            ScheduleFlagsInput,
            {
                name: request.query_params[name]
                for name in ("set_previous_end_at", "set_next_start_at")
                if name in request.query_params
            },
        )
        data = validated(ScheduleCreateInput, request.data)
        schedule = pricing_plan_schedule_create(
            subscription_id=data["pricing_plan_subscription_id"],
            start_at=data["start_at"],
            end_at=data.get("end_at"),
            end_at_sent="end_at" in data,
            schedule_type=data.get("type"),
            **_version_choice(data),
            extras=_extras(data),
            set_previous_end_at=flags["set_previous_end_at"],
            set_next_start_at=flags["set_next_start_at"],
            platform_id=self.platform_id(),
            created_by=self.created_by(),
        )
        return Response(schedule_data(schedule), status=status.HTTP_201_CREATED)

    @extend_schema(
        operation_id="pricing_plan_schedules_list",
        parameters=[
            OpenApiParameter(
                "pricing_plan_subscription_id", str, description="Only this subscription's"
            ),
            *PAGE_PARAMETERS,
        ],
        responses=page_of(PricingPlanScheduleOutput),
    )
    def get(self, request, version: str = "1"):
        schedules = schedule_list(
            subscription_id=request.query_params.get("pricing_plan_subscription_id")
        )
        return page_answer(request, schedules, schedule_data, keys=("starting_at", "id"))


class ScheduleGetApi(SolvimonApi):
    required_permission = "contracts_app.view_subscription"

    @extend_schema(operation_id="pricing_plan_schedules_get", responses=PricingPlanScheduleOutput)
    def get(self, request, schedule_id: str, version: str = "1"):
        return Response(schedule_data(schedule_get(schedule_id=schedule_id)))


class ScheduleMigrateApi(SolvimonApi):
    required_permission = "contracts_app.pricing_plan_schedule_create"

    @extend_schema(
        operation_id="pricing_plan_schedules_migrate",
        request=ScheduleMigrateInput,
        responses={201: PricingPlanScheduleOutput},
    )
    def post(self, request, schedule_id: str, version: str = "1"):
        data = validated(ScheduleMigrateInput, request.data)
        schedule = pricing_plan_schedule_migrate(
            schedule_id=schedule_id,
            start_at=data["start_at"],
            end_at=data.get("end_at"),
            end_at_sent="end_at" in data,
            **_version_choice(data),
            extras=_extras(data),
            platform_id=self.platform_id(),
            created_by=self.created_by(),
        )
        return Response(schedule_data(schedule), status=status.HTTP_201_CREATED)
