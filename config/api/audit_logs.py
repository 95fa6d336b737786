"""`GET /v1/auditLogs`, as Metronome's (the SDK's `client.v1.audit_logs.list`)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.schema import page_of
from config.api.serializers import StrictSerializer
from config.api.views_base import page_body, validated
from config.audit.models import AuditLogEntry
from config.audit.selectors import ASC, DESC, audit_entries, audit_entry_key, audit_page
from config.core.errors import ValidationFailed
from config.core.instants import format_instant
from config.core.pagination import parse_limit


class AuditLogListQuery(StrictSerializer):
    starting_on = serializers.DateTimeField(required=False)
    ending_before = serializers.DateTimeField(required=False)
    resource_type = serializers.CharField(required=False, max_length=64)
    resource_id = serializers.CharField(required=False, max_length=128)
    sort = serializers.ChoiceField(choices=[ASC, DESC], required=False, default=ASC)
    limit = serializers.CharField(required=False, allow_blank=True)
    next_page = serializers.CharField(required=False)
    # Ours: resume the oldest-first tail behind the last entry a reader has (README, Audit).
    after = serializers.UUIDField(required=False)

    def validate(self, attrs):
        # Metronome: the two resource filters go together.
        if bool(attrs.get("resource_type")) != bool(attrs.get("resource_id")):
            missing = "resource_id" if attrs.get("resource_type") else "resource_type"
            raise ValidationFailed(
                "resource_type and resource_id must be given together", field=missing
            )
        if attrs.get("after") and attrs.get("sort", ASC) != ASC:
            raise ValidationFailed("after resumes the date_asc tail only", field="after")
        return attrs


class AuditLogOutput(serializers.Serializer):
    """What `audit_log_data` renders (documentation for the OpenAPI schema)."""

    id = serializers.UUIDField()
    timestamp = serializers.DateTimeField()
    actor = serializers.DictField(help_text="{id, name, email, api_token?}")
    request = serializers.DictField(help_text="{id, ip, user_agent}")
    resource_type = serializers.CharField()
    resource_id = serializers.CharField(allow_blank=True)
    action = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=["success"])
    channel = serializers.CharField()
    changes = serializers.JSONField(allow_null=True)


def audit_log_data(entry: AuditLogEntry) -> dict:
    if entry.actor_user_id is not None:
        actor_id = str(entry.actor_user_id)
    else:
        actor_id = f"{entry.channel}:{entry.actor_name}"
    actor = {"id": actor_id, "name": entry.actor_name, "email": entry.actor_email or None}
    if entry.api_token_id is not None:  # ours: which of the user's tokens made the call
        actor["api_token"] = {"id": str(entry.api_token_id), "prefix": entry.api_token_prefix}
    return {
        "id": str(entry.id),
        "timestamp": format_instant(entry.timestamp),
        "actor": actor,
        "request": {
            "id": entry.request_id or str(entry.id),
            "ip": entry.ip,
            "user_agent": entry.user_agent or None,
        },
        "resource_type": entry.resource_type,
        "resource_id": entry.resource_id,
        "action": entry.action,
        "description": entry.description,
        "status": "success",  # only committed writes are recorded
        # Ours, beyond Metronome's shape: how the write came in and what it changed.
        "channel": entry.channel,
        "changes": entry.changes,
    }


class AuditLogListApi(APIView):
    required_permission = "audit.view_auditlogentry"

    @extend_schema(
        operation_id="audit_logs_list",
        parameters=[AuditLogListQuery],
        responses=page_of(AuditLogOutput),
    )
    def get(self, request):
        params = {key: request.query_params.get(key) for key in request.query_params}
        query = validated(AuditLogListQuery, params)
        entries = audit_entries(
            resource_type=query.get("resource_type"),
            resource_id=query.get("resource_id"),
            starting_on=query.get("starting_on"),
            ending_before=query.get("ending_before"),
        )
        after = query.get("after")
        page = audit_page(
            entries,
            limit=parse_limit(query.get("limit")),
            cursor=query.get("next_page"),
            sort=query["sort"],
            after=audit_entry_key(entry_id=after) if after and not query.get("next_page") else None,
        )
        return Response(page_body(page, [audit_log_data(entry) for entry in page.items]))
