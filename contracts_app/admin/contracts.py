"""Admin for contracts (materialised terms inline) and subscriptions."""
