from django.apps import AppConfig


class MetricsConfig(AppConfig):
    name = "config.metrics"
    label = "metrics"
    verbose_name = "Metrics and logs"

    def ready(self) -> None:
        from config import logs
        from config.metrics import celery_signals  # noqa: F401  (connects the task counters)

        logs.install_request_id_on_records()
        logs.connect_celery_signals()
