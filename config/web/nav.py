"""Which top-level section a page belongs to (the nav's `aria-current`), by URL prefix."""

from __future__ import annotations

SECTIONS = (
    ("/packages/", "packages"),
    ("/aliases/", "aliases"),
    ("/rate-cards/", "rate-cards"),
    ("/products/", "products"),
    ("/billable-metrics/", "products"),
    ("/customers/", "customers"),
    ("/contracts/", "customers"),
    ("/migrations/", "migrations"),
    ("/webhooks/", "webhooks"),
    ("/activity/", "activity"),
)


def nav_section(request) -> dict:
    """Context processor: `nav_section`, the section of `request.path` ("" outside them)."""
    path = getattr(request, "path", "")
    section = next((name for prefix, name in SECTIONS if path.startswith(prefix)), "")
    return {"nav_section": section}
