"""Admin dates read ISO 8601 UTC ("2027-01-15 00:00 UTC"), like every page, not the English
locale's "Jan. 15, 2027, midnight"."""

import datetime as dt

import pytest
from django.urls import reverse

from packages_app.models import BillableMetric

pytestmark = pytest.mark.django_db
JAN_15 = dt.datetime(2027, 1, 15, tzinfo=dt.UTC)


def test_changelist_and_change_form_show_iso_8601_utc(admin_client):
    metric = BillableMetric.objects.create(name="API calls", aggregation_type="COUNT")
    BillableMetric.objects.filter(pk=metric.pk).update(
        created_at=JAN_15, archived_at=JAN_15 + dt.timedelta(hours=13, minutes=5)
    )
    changelist = admin_client.get(
        reverse("admin:packages_app_billablemetric_changelist")
    ).content.decode()
    change = admin_client.get(
        reverse("admin:packages_app_billablemetric_change", args=[metric.pk])
    ).content.decode()
    for html in (changelist, change):
        assert "2027-01-15 00:00 UTC" in html
        assert "2027-01-15 13:05 UTC" in html
        assert "Jan. 15, 2027" not in html and "midnight" not in html
