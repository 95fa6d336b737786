"""Admin for credit types, billable metrics, products and rate cards."""
