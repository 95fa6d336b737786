"""The Webhooks pages (the API's routes are in urls.py)."""

from django.urls import path

from config.webhooks import views

app_name = "webhooks"
urlpatterns = [
    path("webhooks/", views.WebhookListView.as_view(), name="webhook-list"),
    path("webhooks/new/", views.WebhookNewView.as_view(), name="webhook-new"),
    path("webhooks/<uuid:webhook_id>/", views.WebhookDetailView.as_view(), name="webhook-detail"),
    path(
        "webhooks/<uuid:webhook_id>/rotate/",
        views.WebhookRotateView.as_view(),
        name="webhook-rotate",
    ),
    path(
        "webhooks/<uuid:webhook_id>/archive/",
        views.WebhookArchiveView.as_view(),
        name="webhook-archive",
    ),
    path(
        "webhooks/<uuid:webhook_id>/resend/",
        views.WebhookResendView.as_view(),
        name="webhook-resend",
    ),
]
