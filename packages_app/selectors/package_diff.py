"""What changes between two versions of a package: the one package diff, shown by the
cohort-migration preview and by the builder's new-version preview alike."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from packages_app.models import Package, PackageTerm, Product, RateCard


def _without_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k not in ("id", "temporary_id")}
    if isinstance(value, list):
        return [_without_ids(v) for v in value]
    return value


def _scalar_fields(package: Package) -> dict[str, Any]:
    settings = package.settings or {}
    duration = (
        {"unit": package.duration_unit, "value": package.duration_value}
        if package.duration_unit
        else None
    )
    return {
        "rate_card_id": str(package.rate_card_id) if package.rate_card_id else None,
        "rate_card_alias": package.rate_card_alias or None,
        "duration": duration,
        "billing_provider": package.billing_provider or None,
        "delivery_method": package.delivery_method or None,
        "net_payment_terms_days": package.net_payment_terms_days,
        "usage_statement_schedule": settings.get("usage_statement_schedule"),
    }


def package_diff(
    *, source: Package, target: Package, target_terms: Iterable[PackageTerm] | None = None
) -> dict:
    """Terms added, removed and changed (by kind and product), and the scalar fields that differ.

    `target_terms`: the target's terms when it is not saved (the builder's new version, as
    package_create builds it); otherwise both sides are read in one query."""
    if target_terms is None:
        both = PackageTerm.objects.filter(package__in=[source, target])
    else:
        both = [*source.terms.all(), *target_terms]
    terms: dict[Any, dict] = defaultdict(lambda: {"source": [], "target": []})
    for term in sorted(both, key=lambda t: (t.kind, t.ordinal)):
        side = "source" if term.package_id == source.id else "target"
        terms[(term.kind, str(term.product_id) if term.product_id else None)][side].append(
            _without_ids(term.body)
        )
    added, removed, changed = [], [], []
    for (kind, product_id), sides in sorted(
        terms.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")
    ):
        entry = {"kind": kind, "product_id": product_id}
        if not sides["source"]:
            added.append({**entry, "count": len(sides["target"])})
        elif not sides["target"]:
            removed.append({**entry, "count": len(sides["source"])})
        elif sides["source"] != sides["target"]:
            changed.append({**entry, "source": sides["source"], "target": sides["target"]})
    before, after = _scalar_fields(source), _scalar_fields(target)
    fields = {
        name: {"source": before[name], "target": after[name]}
        for name in before
        if before[name] != after[name]
    }
    return {
        "source_package_id": str(source.id),
        "target_package_id": str(target.id),
        "terms_added": added,
        "terms_removed": removed,
        "terms_changed": changed,
        "fields_changed": fields,
    }


def _product_ids_in(value) -> set[str]:
    if isinstance(value, dict):
        found = {str(v) for k, v in value.items() if k == "product_id" and v}
        for item in value.values():
            found |= _product_ids_in(item)
        return found
    if isinstance(value, list):
        return set().union(*(_product_ids_in(v) for v in value)) if value else set()
    return set()


def package_diff_names(diff: dict | None) -> dict[str, dict[str, str]]:
    """The names a diff's words need, by id: every product it names (its entries and the
    bodies of changed terms) and the rate cards of a changed rate card. Two queries at most."""
    product_ids, rate_card_ids = set(), set()
    for key in ("terms_added", "terms_removed", "terms_changed"):
        for entry in (diff or {}).get(key, []):
            if entry.get("product_id"):
                product_ids.add(str(entry["product_id"]))
            for body in [*entry.get("source", []), *entry.get("target", [])]:
                product_ids |= _product_ids_in(body)
    sides = ((diff or {}).get("fields_changed") or {}).get("rate_card_id") or {}
    rate_card_ids = {str(value) for value in sides.values() if value}
    return {
        "product_names": {
            str(pk): name
            for pk, name in Product.objects.filter(id__in=product_ids).values_list("id", "name")
        }
        if product_ids
        else {},
        "rate_card_names": {
            str(pk): name
            for pk, name in RateCard.objects.filter(id__in=rate_card_ids).values_list("id", "name")
        }
        if rate_card_ids
        else {},
    }
