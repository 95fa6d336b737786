from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "config.api"
    label = "api"
    verbose_name = "API access"

    def ready(self) -> None:
        from config.api import schema  # noqa: F401  (registers the OpenAPI auth extension)
        from config.api.models import ApiToken
        from config.audit.context import register_token_type

        register_token_type(ApiToken)
