"""Cohort migrations API (ours, Metronome style: POST with JSON bodies, `{"data": ...}`, keyset
pages). Thin: validate the shape, call a service or selector, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from config.api.views_base import id_answer, validated
from config.core.pagination import keyset_paginate, parse_limit
from contracts_app.api import cohort_migration_serializers as shapes
from contracts_app.selectors.cohort_migrations import (
    cohort_migration_preview,
    migration_get,
    migration_items,
    migration_list,
    migration_progress,
)
from contracts_app.services import cohort_migrations as services
from contracts_app.services.cohort_migrations import MAX_CUSTOMER_IDS

VIEW = "contracts_app.view_cohortmigration"
ADD = "contracts_app.add_cohortmigration"
CHANGE = "contracts_app.change_cohortmigration"
TAG = ["cohort migrations"]
# Room for both id lists at their documented maximum (a UUID is ~40 bytes on the wire, quoted,
# with its separator and some indentation) plus the rest of the body.
ID_LISTS_BODY_BYTES = 2 * MAX_CUSTOMER_IDS * 48 + 1024 * 1024


def _one(migration) -> Response:
    progress = migration_progress([migration])[migration.id]
    return Response({"data": shapes.migration_data(migration, progress)})


def _page_args(request, data: dict) -> tuple[int, str | None]:
    """`limit` / `next_page` from the body, else from the query string (as listContractsOnPackage)."""
    limit = data.get("limit") or parse_limit(request.query_params.get("limit"))
    cursor = data.get("next_page") or request.query_params.get("next_page") or None
    return limit, cursor


class MigrationPreviewApi(APIView):
    """A dry run: totals by outcome and skip reason, a sample of per-customer plans, and the
    diff between the source and target packages. Nothing is written."""

    required_permission = VIEW
    max_body_bytes = ID_LISTS_BODY_BYTES

    @extend_schema(tags=TAG, request=shapes.MigrationPreviewInput, responses=shapes.PreviewEnvelope)
    def post(self, request):
        data = validated(shapes.MigrationPreviewInput, request.data)
        resolved = shapes.resolved_input(data)
        preview = cohort_migration_preview(
            spec=resolved.spec,
            source=resolved.source_package,
            target=resolved.target_package,
            target_alias=resolved.target_alias,
        )
        return Response({"data": preview})


class MigrationCreateApi(APIView):
    required_permission = ADD
    max_body_bytes = ID_LISTS_BODY_BYTES

    @extend_schema(tags=TAG, request=shapes.MigrationCreateInput, responses=shapes.IdEnvelope)
    def post(self, request):
        data = validated(shapes.MigrationCreateInput, request.data)
        migration = services.cohort_migration_create(
            data=shapes.resolved_input(data),
            name=data.get("name", ""),
            run_at=data.get("run_at"),
            uniqueness_key=data.get("uniqueness_key"),
            created_by=request.user.get_username(),
            canary=data.get("canary"),
        )
        return id_answer(migration)


class MigrationGetApi(APIView):
    required_permission = VIEW

    @extend_schema(tags=TAG, request=shapes.MigrationRefInput, responses=shapes.MigrationEnvelope)
    def post(self, request):
        data = validated(shapes.MigrationRefInput, request.data)
        return _one(migration_get(migration_id=data["migration_id"]))


class MigrationListApi(APIView):
    required_permission = VIEW

    @extend_schema(
        tags=TAG, request=shapes.MigrationListInput, responses=shapes.MigrationListEnvelope
    )
    def post(self, request):
        data = validated(shapes.MigrationListInput, request.data)
        limit, cursor = _page_args(request, data)
        page = keyset_paginate(
            migration_list(status=data.get("status"), package_id=data.get("package_id")),
            limit=limit,
            cursor=cursor,
        )
        progress = migration_progress(page.items)
        return Response(
            {
                "data": [shapes.migration_data(m, progress[m.id]) for m in page.items],
                "next_page": page.next_cursor,
            }
        )


class MigrationItemsApi(APIView):
    required_permission = VIEW

    @extend_schema(tags=TAG, request=shapes.MigrationItemsInput, responses=shapes.ItemListEnvelope)
    def post(self, request):
        data = validated(shapes.MigrationItemsInput, request.data)
        migration = migration_get(migration_id=data["migration_id"])
        limit, cursor = _page_args(request, data)
        page = keyset_paginate(
            migration_items(
                migration=migration, status=data.get("status"), reason=data.get("reason")
            ),
            limit=limit,
            cursor=cursor,
            keys=("id",),
        )
        return Response(
            {"data": [shapes.item_data(i) for i in page.items], "next_page": page.next_cursor}
        )


# A one-step change of a job named by `migration_id`, answered with the job (no docstring: the
# schema would show it as the description of the actions that have none).
class _MigrationActionApi(APIView):
    required_permission = CHANGE
    act: Callable[..., Any]  # the service: `migration=` the job, returns it changed

    @extend_schema(tags=TAG, request=shapes.MigrationRefInput, responses=shapes.MigrationEnvelope)
    def post(self, request):
        data = validated(shapes.MigrationRefInput, request.data)
        return _one(self.act(migration=migration_get(migration_id=data["migration_id"])))


class MigrationCancelApi(_MigrationActionApi):
    act = staticmethod(services.cohort_migration_cancel)


class MigrationRevertApi(APIView):
    """Give moved contracts their old contracts back: all of them (scope ALL, refused once
    any has taken effect), or those not yet in effect (NOT_IN_EFFECT), of every customer or
    of `customer_ids`. The answer's `revert` says how many are reverted, blocked, kept in
    effect and not chosen."""

    required_permission = CHANGE

    @extend_schema(
        tags=TAG, request=shapes.MigrationRevertInput, responses=shapes.MigrationEnvelope
    )
    def post(self, request):
        data = validated(shapes.MigrationRevertInput, request.data)
        migration = migration_get(migration_id=data["migration_id"])
        return _one(
            services.cohort_migration_revert(
                migration=migration,
                scope=data.get("scope", "ALL"),
                customer_ids=data.get("customer_ids"),
            )
        )


class MigrationPauseApi(_MigrationActionApi):
    """Pause a RUNNING job: it stops after the batches in hand (PAUSED); pending contracts stay
    pending until /resume."""

    act = staticmethod(services.cohort_migration_pause)


class MigrationResumeApi(_MigrationActionApi):
    """Resume a PAUSED job (after its canary, or a pause)."""

    act = staticmethod(services.cohort_migration_resume)


class MigrationRetryFailedApi(_MigrationActionApi):
    """Queue the FAILED contracts of a PAUSED or COMPLETED job again (after their
    cause is fixed); the counts move from failed to pending."""

    act = staticmethod(services.cohort_migration_retry_failed)
