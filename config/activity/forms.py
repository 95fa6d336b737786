from django import forms

from config.audit.models import AuditLogEntry


class ActivityFilterForm(forms.Form):
    """The /activity/ filters; they live in the URL so a filtered view can be bookmarked."""

    resource_type = forms.CharField(required=False, max_length=64, label="Resource type")
    resource_id = forms.CharField(required=False, max_length=128, label="Resource id")
    actor = forms.CharField(required=False, max_length=200, label="Actor (username or name)")
    channel = forms.ChoiceField(
        required=False, choices=[("", "Any"), *AuditLogEntry.Channel.choices], label="Channel"
    )
    since = forms.DateField(
        required=False,
        label="From (UTC date, inclusive)",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    until = forms.DateField(
        required=False,
        label="Until (UTC date, inclusive)",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
