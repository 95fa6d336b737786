# One module per room: customers (and billing configurations) and contracts (and subscriptions).
from contracts_app.admin import contracts, customers  # noqa: F401
