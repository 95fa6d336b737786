"""The Webhooks page (`/webhooks/`): endpoints, create (the secret shown once), rotate, archive,
and each endpoint's delivery attempts with "Resend". Declared on the page toolkit; every write
goes through the API's serializer and the same service the API calls."""

from __future__ import annotations

from django.contrib import messages

from config.web import ObjectDetailView, ObjectFormView, ObjectListView, ServiceFormView
from config.webhooks import presenters, selectors, services
from config.webhooks.api import WebhookCreateInput, WebhookResendInput
from config.webhooks.forms import WebhookActionForm, WebhookForm, WebhookResendForm
from config.webhooks.models import WebhookEndpoint

CHANGE = "webhooks.change_webhookendpoint"
DELIVERIES_PAGE = 25
SECRET_KEY = "webhook-secret:{}"  # the session key a new secret waits under, read once


def _secret_keep(request, endpoint: WebhookEndpoint) -> None:
    request.session[SECRET_KEY.format(endpoint.pk)] = endpoint.secret


class WebhookListView(ObjectListView):
    title = "Webhooks"
    template_name = "webhooks/webhook_list.html"
    partial_template_name = "webhooks/webhook_list.html#table"
    search_fields = ("url", "description")
    search_label = "Search by URL or description"
    create_url_name = "webhooks:webhook-new"
    create_label = "New webhook"
    empty_text = "No webhooks yet: add one to have events POSTed to your systems."
    paginate_by = 25
    queryset = selectors.endpoints_with_last_attempt()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["endpoint_rows"] = [presenters.endpoint_row(e) for e in context["object_list"]]
        return context


class WebhookNewView(ServiceFormView):
    model = WebhookEndpoint
    form_class = WebhookForm
    serializer = WebhookCreateInput
    template_name = "webhooks/webhook_new.html"
    success_url_name = "webhooks:webhook-detail"

    def perform(self, data, form):
        endpoint = services.endpoint_create(
            url=data["url"], event_types=data["events"], description=data.get("description", "")
        )
        _secret_keep(self.request, endpoint)
        return endpoint


class WebhookDetailView(ObjectDetailView):
    """One endpoint: what it receives, its status, the secret once after create or rotate, the
    rotate and archive buttons, and its delivery attempts newest first ("Older →" pages)."""

    queryset = WebhookEndpoint.objects.all()
    pk_url_kwarg = "webhook_id"
    context_object_name = "webhook"
    template_name = "webhooks/webhook_detail.html"
    panels = ("deliveries",)

    def get_context_data(self, webhook) -> dict:
        refused = self.bound_forms.get("action")  # a button whose action was refused
        return {
            "secret": self.request.session.pop(SECRET_KEY.format(webhook.pk), None),
            "status": presenters.status_words(webhook),
            "can_change": self.request.user.has_perm(CHANGE),
            "action_error": " ".join(map(str, refused.non_field_errors())) if refused else None,
        }

    def panel_deliveries(self, webhook) -> dict:
        cursor = self.request.GET.get("after") or None
        page = selectors.delivery_attempts_page(
            endpoint=webhook, limit=DELIVERIES_PAGE, cursor=cursor
        )
        return {
            "attempts": [presenters.attempt_row(attempt) for attempt in page.items],
            "next_cursor": page.next_cursor,
            "first_page": cursor is None,
            "can_resend": webhook.archived_at is None and self.request.user.has_perm(CHANGE),
        }


class _WebhookActionView(ObjectFormView):
    """A button on the webhook page (POST only); refused, the page again with the reason."""

    http_method_names = ["post"]
    form_class = WebhookActionForm
    page = WebhookDetailView
    form_name = "action"
    success_url_name = "webhooks:webhook-detail"


class WebhookRotateView(_WebhookActionView):
    def perform(self, data, form):
        endpoint = services.endpoint_secret_rotate(endpoint=self.object)
        _secret_keep(self.request, endpoint)
        return endpoint


class WebhookArchiveView(_WebhookActionView):
    def perform(self, data, form):
        endpoint = services.endpoint_archive(endpoint=self.object)
        messages.success(self.request, "Webhook archived: nothing more is sent to it.")
        return endpoint


class WebhookResendView(_WebhookActionView):
    form_class = WebhookResendForm
    serializer = WebhookResendInput
    success_anchor = "#deliveries"

    def body(self, form) -> dict:
        return {"webhook_id": str(self.object.pk), **form.body()}

    def perform(self, data, form):
        delivery = services.delivery_resend(endpoint=self.object, event_id=data["event_id"])
        messages.success(
            self.request,
            f"Event {delivery.event_id} queued to be sent again; the new attempt is listed "
            "below once it is made.",
        )
        return delivery
