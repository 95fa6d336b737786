"""`/v1/webhooks/*`: endpoints that receive signed events, and what was sent to them
(README, Webhooks). Thin: validation here, rules in services and selectors."""

from __future__ import annotations

from rest_framework import serializers
from rest_framework.response import Response

from config.api.schema import PAGE_PARAMETERS, data_of, page_of
from config.api.serializers import StrictSerializer
from config.api.views_base import ServicePostApi, data_answer, page_answer
from config.core.instants import format_instant
from config.webhooks import selectors, services
from config.webhooks.events import EVENT_TYPES
from config.webhooks.models import WebhookDeliveryAttempt, WebhookEndpoint

EVENT_TYPE_HELP = "; ".join(f"`{name}`: {meaning}" for name, meaning in EVENT_TYPES.items())


class WebhookCreateInput(StrictSerializer):
    url = serializers.CharField(
        max_length=2048,
        help_text="http(s) URL; private, loopback and link-local targets are refused unless "
        "the server sets WEBHOOKS_ALLOW_PRIVATE_TARGETS",
    )
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=list(EVENT_TYPES)),
        allow_empty=False,
        max_length=len(EVENT_TYPES),
        help_text=EVENT_TYPE_HELP,
    )
    description = serializers.CharField(max_length=400, required=False, allow_blank=True)


class WebhookIdInput(StrictSerializer):
    webhook_id = serializers.UUIDField()


class WebhookListInput(StrictSerializer):
    archive_filter = serializers.ChoiceField(
        choices=["NOT_ARCHIVED", "ARCHIVED", "ALL"], required=False, default="NOT_ARCHIVED"
    )


class WebhookResendInput(StrictSerializer):
    webhook_id = serializers.UUIDField()
    event_id = serializers.UUIDField()


class WebhookSecretOutput(serializers.Serializer):
    id = serializers.UUIDField()
    secret = serializers.CharField(
        help_text="`whsec_` + base64 of the signing key; shown only here, keep it"
    )


class WebhookOutput(serializers.Serializer):
    id = serializers.UUIDField()
    url = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    events = serializers.ListField(child=serializers.CharField())
    status = serializers.ChoiceField(
        choices=["enabled", "failing", "archived"],
        help_text="failing: a delivery used up its retries and none has succeeded since",
    )
    failing_since = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    archived_at = serializers.DateTimeField(allow_null=True)


class WebhookDeliveryAttemptOutput(serializers.Serializer):
    event_id = serializers.UUIDField(help_text="Also the request's `webhook-id` header")
    event_type = serializers.CharField()
    attempted_at = serializers.DateTimeField()
    response_status = serializers.IntegerField(allow_null=True)
    duration_ms = serializers.IntegerField()
    error = serializers.CharField(allow_null=True, help_text="null when the receiver took it")
    response_body = serializers.CharField(help_text="The first 1 KB the receiver answered")
    delivery_status = serializers.ChoiceField(
        choices=["PENDING", "DELIVERED", "FAILED", "CANCELLED"],
        help_text="Where the event stands for this webhook now",
    )


class WebhookResendOutput(serializers.Serializer):
    webhook_id = serializers.UUIDField()
    event_id = serializers.UUIDField()


def webhook_data(endpoint: WebhookEndpoint) -> dict:
    return {
        "id": str(endpoint.id),
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.event_types,
        "status": selectors.endpoint_status(endpoint),
        "failing_since": format_instant(endpoint.failing_since),
        "created_at": format_instant(endpoint.created_at),
        "archived_at": format_instant(endpoint.archived_at),
    }


def attempt_data(attempt: WebhookDeliveryAttempt) -> dict:
    return {
        "event_id": str(attempt.delivery.event_id),
        "event_type": attempt.delivery.event.type,
        "attempted_at": format_instant(attempt.attempted_at),
        "response_status": attempt.response_status,
        "duration_ms": attempt.duration_ms,
        "error": attempt.error or None,
        "response_body": attempt.response_body,
        "delivery_status": attempt.delivery.status,
    }


def _named_endpoint(data: dict) -> WebhookEndpoint:
    """The endpoint the body's `webhook_id` names (404 naming the field)."""
    return selectors.endpoint_get(endpoint_id=data["webhook_id"], field="webhook_id")


def _secret_data(endpoint: WebhookEndpoint) -> dict:
    return {"data": {"id": str(endpoint.id), "secret": endpoint.secret}}


class _SecretAnswerApi(ServicePostApi):
    # A write whose answer is the endpoint's signing secret, shown only there.
    responses = data_of(WebhookSecretOutput)

    def answer(self, endpoint):
        return Response(_secret_data(endpoint))


class WebhookCreateApi(_SecretAnswerApi):
    required_permission = "webhooks.add_webhookendpoint"
    operation_id, input = "webhooks_create", WebhookCreateInput

    def perform(self, data):
        return services.endpoint_create(
            url=data["url"], event_types=data["events"], description=data.get("description", "")
        )


class WebhookListApi(ServicePostApi):
    required_permission = "webhooks.view_webhookendpoint"
    operation_id, input, responses = "webhooks_list", WebhookListInput, page_of(WebhookOutput)
    parameters = PAGE_PARAMETERS

    def perform(self, data):
        queryset = selectors.endpoints(include_archived=data["archive_filter"] != "NOT_ARCHIVED")
        if data["archive_filter"] == "ARCHIVED":
            queryset = queryset.filter(archived_at__isnull=False)
        return queryset

    def answer(self, queryset):
        return page_answer(self.request, queryset, webhook_data)


class WebhookArchiveApi(ServicePostApi):
    required_permission = "webhooks.change_webhookendpoint"
    operation_id, input, responses = "webhooks_archive", WebhookIdInput, data_of(WebhookOutput)

    def perform(self, data):
        return services.endpoint_archive(endpoint=_named_endpoint(data))

    def answer(self, endpoint):
        return data_answer(webhook_data(endpoint))


class WebhookRotateSecretApi(_SecretAnswerApi):
    required_permission = "webhooks.change_webhookendpoint"
    operation_id, input = "webhooks_rotate_secret", WebhookIdInput

    def perform(self, data):
        return services.endpoint_secret_rotate(endpoint=_named_endpoint(data))


class WebhookDeliveryListApi(ServicePostApi):
    """One row per attempt, newest first."""

    required_permission = "webhooks.view_webhookendpoint"
    operation_id, input, responses = (
        "webhooks_deliveries_list",
        WebhookIdInput,
        page_of(WebhookDeliveryAttemptOutput),
    )
    parameters = PAGE_PARAMETERS

    def perform(self, data):
        return selectors.delivery_attempts(endpoint=_named_endpoint(data))

    def answer(self, attempts):
        return page_answer(
            self.request,
            attempts,
            attempt_data,
            keys=("attempted_at", "id"),
            default_limit=50,
            descending=True,
        )


class WebhookDeliveryResendApi(ServicePostApi):
    """Send an event to the webhook again (now, then on the retry schedule if it fails)."""

    required_permission = "webhooks.change_webhookendpoint"
    operation_id, input, responses = (
        "webhooks_deliveries_resend",
        WebhookResendInput,
        data_of(WebhookResendOutput),
    )

    def perform(self, data):
        endpoint = _named_endpoint(data)
        delivery = services.delivery_resend(endpoint=endpoint, event_id=data["event_id"])
        return {"webhook_id": str(endpoint.id), "event_id": str(delivery.event_id)}

    def answer(self, resent):
        return data_answer(resent)
