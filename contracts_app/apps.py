from django.apps import AppConfig


class ContractsAppConfig(AppConfig):
    name = "contracts_app"
    verbose_name = "Customers and contracts"

    def ready(self) -> None:
        from config.metrics.collectors import register_state_metrics
        from contracts_app.metrics import cohort_migrations

        register_state_metrics("cohort_migrations", cohort_migrations)
