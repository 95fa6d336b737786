from django.urls import path

from config.webhooks import api

urlpatterns = [
    path("v1/webhooks/create", api.WebhookCreateApi.as_view(), name="webhook-create"),
    path("v1/webhooks/list", api.WebhookListApi.as_view(), name="webhook-list"),
    path("v1/webhooks/archive", api.WebhookArchiveApi.as_view(), name="webhook-archive"),
    path(
        "v1/webhooks/rotateSecret",
        api.WebhookRotateSecretApi.as_view(),
        name="webhook-rotate-secret",
    ),
    path(
        "v1/webhooks/deliveries/list",
        api.WebhookDeliveryListApi.as_view(),
        name="webhook-delivery-list",
    ),
    path(
        "v1/webhooks/deliveries/resend",
        api.WebhookDeliveryResendApi.as_view(),
        name="webhook-delivery-resend",
    ),
]
