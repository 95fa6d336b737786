from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "config.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from config.audit import context

        context.connect_celery_signals()
