from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "config.metrics"
    label = "metrics"
    verbose_name = "Metrics"

    def ready(self) -> None:
        from config.metrics import celery_signals  # noqa: F401  (connects the task counters)
