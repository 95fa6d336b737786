"""Admin for customers and their billing-provider configurations."""
