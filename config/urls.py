from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config.api import audit_logs as audit_api
from config.api import views as api_views
from config.metrics.views import MetricsView
from contracts_app import views as contracts_views

urlpatterns = [
    path("healthz", api_views.healthz, name="healthz"),
    path("metrics", MetricsView.as_view(), name="metrics"),
    path("admin/", admin.site.urls),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", contracts_views.dashboard, name="home"),
    path("", include("packages_app.urls")),
    path("", include("contracts_app.urls")),
    path("", include("config.activity.urls")),
    path("", include("config.webhooks.page_urls")),
    # API (Metronome-compatible paths, no trailing slashes).
    # JSON whatever the Accept header says (curl and fuzzers send none); YAML on its own path.
    path("openapi.json", api_views.OpenApiJsonView.as_view(), name="openapi-schema"),
    path("openapi.yaml", api_views.OpenApiYamlView.as_view(), name="openapi-schema-yaml"),
    path("api/docs", api_views.ApiDocsView.as_view(url_name="openapi-schema"), name="api-docs"),
    path("v1/noop", api_views.NoopView.as_view(), name="api-noop"),
    path("v1/auditLogs", audit_api.AuditLogListApi.as_view(), name="api-audit-logs"),
    path("", include("packages_app.api.urls")),
    path("", include("contracts_app.api.urls")),
    path("", include("config.webhooks.urls")),
]

handler400 = "config.views.bad_request"
handler404 = "config.views.not_found"
handler500 = "config.views.server_error"
