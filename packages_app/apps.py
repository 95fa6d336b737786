from django.apps import AppConfig
from django.db.models.signals import post_migrate


def ensure_default_credit_type(sender, using="default", **kwargs) -> None:
    """USD (cents) must always exist: rates, rate cards and schedules default to it.

    The data migration creates it once; `flush` (used between transactional tests and by
    operators) empties the table and then sends post_migrate, like contenttypes does.
    """
    from packages_app.models import USD_CENTS_ID, CreditType

    CreditType.objects.using(using).get_or_create(
        id=USD_CENTS_ID, defaults={"name": "USD (cents)", "is_currency": True}
    )


class PackagesAppConfig(AppConfig):
    name = "packages_app"
    verbose_name = "Pricing catalog and packages"

    def ready(self) -> None:
        post_migrate.connect(ensure_default_credit_type, sender=self)

        from config.metrics.collectors import register_state_metrics
        from packages_app.metrics import alias_repoints_next_24h

        register_state_metrics("alias_repoints_next_24h", alias_repoints_next_24h)

        from config.audit.presenters import register_value_words
        from packages_app.describe import BILLING_PROVIDER_NAMES, DELIVERY_METHOD_NAMES

        register_value_words("billing_provider", BILLING_PROVIDER_NAMES)
        register_value_words("delivery_method", DELIVERY_METHOD_NAMES)
