from django.apps import AppConfig


class ContractsAppConfig(AppConfig):
    name = "contracts_app"
    verbose_name = "Customers and contracts"
