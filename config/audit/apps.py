from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "config.audit"
    label = "audit"
    verbose_name = "Audit trail"

    def ready(self) -> None:
        from config import logs
        from config.audit import context

        context.connect_celery_signals()
        logs.register_context_request_id(context.context_request_id)
