"""Admin for packages and alias names."""
