"""The Webhooks page's forms: named by the API's fields (`WebhookCreateInput`), so the API's
serializer checks what the page sends and its errors land beside the right input."""

from __future__ import annotations

from django import forms

from config.web.forms import ServiceForm
from config.webhooks.events import EVENT_TYPES


def event_choices() -> list[tuple[str, str]]:
    return list(EVENT_TYPES.items())


class WebhookForm(ServiceForm):
    paths = {"url": "url", "events": "events", "description": "description"}

    url = forms.CharField(
        label="Endpoint URL",
        max_length=2048,
        widget=forms.URLInput(attrs={"placeholder": "https://hooks.example.com/pricing"}),
        help_text="Where each event is POSTed, signed (Standard Webhooks)",
    )
    events = forms.MultipleChoiceField(
        label="Events to send",
        choices=event_choices,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one event."},
    )
    description = forms.CharField(
        label="Description", max_length=400, required=False, help_text="What it is for (optional)"
    )

    def body(self) -> dict:
        data = self.cleaned_data
        return {"url": data["url"], "events": data["events"], "description": data["description"]}


class WebhookActionForm(ServiceForm):
    """Rotate and archive: a button, nothing to fill in."""

    def body(self) -> dict:
        return {}


class WebhookResendForm(ServiceForm):
    paths = {"event_id": None, "webhook_id": None}

    event_id = forms.UUIDField(widget=forms.HiddenInput)

    def body(self) -> dict:
        return {"event_id": str(self.cleaned_data["event_id"])}
