from django.urls import path

from contracts_app.api import cohort_migrations as views

PREFIX = "v1/packages/migrations"

urlpatterns = [
    path(f"{PREFIX}/preview", views.MigrationPreviewApi.as_view(), name="api-migration-preview"),
    path(f"{PREFIX}/create", views.MigrationCreateApi.as_view(), name="api-migration-create"),
    path(f"{PREFIX}/get", views.MigrationGetApi.as_view(), name="api-migration-get"),
    path(f"{PREFIX}/list", views.MigrationListApi.as_view(), name="api-migration-list"),
    path(f"{PREFIX}/listItems", views.MigrationItemsApi.as_view(), name="api-migration-items"),
    path(f"{PREFIX}/cancel", views.MigrationCancelApi.as_view(), name="api-migration-cancel"),
    path(f"{PREFIX}/revert", views.MigrationRevertApi.as_view(), name="api-migration-revert"),
    path(f"{PREFIX}/pause", views.MigrationPauseApi.as_view(), name="api-migration-pause"),
    path(f"{PREFIX}/resume", views.MigrationResumeApi.as_view(), name="api-migration-resume"),
    path(
        f"{PREFIX}/retryFailed",
        views.MigrationRetryFailedApi.as_view(),
        name="api-migration-retry-failed",
    ),
]
