from django.apps import AppConfig


class ContractsAppConfig(AppConfig):
    name = "contracts_app"
    verbose_name = "Customers and contracts"

    def ready(self) -> None:
        from config.metrics.collectors import register_state_metrics
        from contracts_app.metrics import cohort_migrations

        register_state_metrics("cohort_migrations", cohort_migrations)

        from contracts_app.selectors.cohorts import CohortFilter, cohort_counts
        from packages_app.selectors.browse import register_cohort_counter

        register_cohort_counter(
            lambda package_ids, now: cohort_counts(
                package_ids=package_ids, filters=CohortFilter(), now=now
            )
        )
