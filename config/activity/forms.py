from django import forms

from config.audit.models import AuditLogEntry
from config.audit.presenters import resource_choices, resource_label
from config.web.forms import UTCDateTimeInput


def _iso_date_input() -> UTCDateTimeInput:
    """The ISO date box every page uses (YYYY-MM-DD as text, never the browser's locale)."""
    return UTCDateTimeInput(attrs={"pattern": r"\d{4}-\d{2}-\d{2}"})


class ActivityFilterForm(forms.Form):
    """The /activity/ filters; they live in the URL so a filtered view can be bookmarked."""

    resource_type = forms.ChoiceField(
        required=False, choices=[("", "Any"), *resource_choices()], label="Resource type"
    )
    resource_id = forms.CharField(required=False, max_length=128, label="Object id")
    actor = forms.CharField(required=False, max_length=200, label="Who (username or name)")
    channel = forms.ChoiceField(
        required=False, choices=[("", "Any"), *AuditLogEntry.Channel.choices], label="Via"
    )
    since = forms.DateField(
        required=False, label="From (UTC date, inclusive)", widget=_iso_date_input()
    )
    until = forms.DateField(
        required=False, label="Until (UTC date, inclusive)", widget=_iso_date_input()
    )
    xact = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A type outside the list (an admin-recorded model, e.g. "group") still filters: a
        # "history" link must never drop every filter.
        asked = (self.data or {}).get("resource_type") or ""
        known = {value for value, _ in self.fields["resource_type"].choices}
        if asked and asked not in known and len(asked) <= 64:
            self.fields["resource_type"].choices = [
                *self.fields["resource_type"].choices,
                (asked, resource_label(asked)),
            ]
