# One module per room: customers (and billing configurations), contracts (and subscriptions),
# cohort migrations (and their items).
from contracts_app.admin import cohort_migrations, contracts, customers  # noqa: F401
