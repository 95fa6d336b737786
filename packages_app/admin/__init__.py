# One module per room: catalog (credit types, metrics, products, rate cards) and packages.
from packages_app.admin import catalog, packages  # noqa: F401
