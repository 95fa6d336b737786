from django.db import models


class MetricsAccess(models.Model):
    """No table: the holder of the permission to read /metrics (a token with it may scrape)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [("view_metrics", "Can read the Prometheus metrics")]
