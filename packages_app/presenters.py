"""What the catalog pages draw: alias schedules as timelines, terms in plain words. Pure
composition over rows the selectors fetched; no queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from django.urls import reverse

from config.timeline import Bar, Lane, Timeline, build_timeline
from packages_app.describe import describe_term
from packages_app.models import AliasAssignment, PackageTerm
from packages_app.services.packages import TERM_LISTS


def assignment_target(assignment: AliasAssignment) -> tuple[str, str]:
    """(name, url) of what an assignment points at."""
    if assignment.package_id:
        return assignment.package.name, reverse(
            "contracts:package-detail", args=[assignment.package_id]
        )
    return assignment.rate_card.name, reverse(
        "packages:ratecard-detail", args=[assignment.rate_card_id]
    )


def alias_timeline(
    assignments: Iterable[AliasAssignment],
    *,
    title: str,
    now: dt.datetime,
    lane_label=None,
    highlight_package_id=None,
    new_interval_start: dt.datetime | None = None,
) -> Timeline:
    """One lane per alias name (or per target with `lane_label`), one bar per interval;
    superseded intervals are drawn muted and say so."""
    lanes: dict[str, Lane] = {}
    for assignment in assignments:
        label = lane_label(assignment) if lane_label else assignment.alias_name.name
        lane = lanes.setdefault(label, Lane(label=label))
        target, href = assignment_target(assignment)
        superseded = assignment.superseded_at is not None
        in_force_now = (
            not superseded
            and assignment.starting_at <= now
            and (assignment.ending_before is None or assignment.ending_before > now)
        )
        tone = "muted" if superseded else "current" if in_force_now else "alias"
        if (
            highlight_package_id
            and assignment.package_id == highlight_package_id
            and not superseded
        ):
            tone = "current"
        lane.bars.append(
            Bar(
                start=assignment.starting_at,
                end=assignment.ending_before,
                label=target,
                title=f"{assignment.alias_name.name} → {target}"
                + (" (superseded)" if superseded else ""),
                tone=tone,
                href=href,
            )
        )
    return build_timeline(list(lanes.values()), title=title, markers=[(now, "now")])


def terms_in_words(
    terms: Iterable[PackageTerm], *, credit_type_names: Mapping[str, str]
) -> list[tuple[PackageTerm, str]]:
    """Each term with its sentence; product names come from the prefetched `term.product`
    and, for products named elsewhere in a body, from the same prefetch."""
    terms = list(terms)
    product_names = {str(t.product_id): t.product.name for t in terms if t.product_id}
    return [
        (
            term,
            describe_term(
                term.kind,
                term.body,
                product_names=product_names,
                credit_type_names=credit_type_names,
            ),
        )
        for term in terms
    ]


def alias_row(name, now: dt.datetime, *, upcoming_days: int) -> dict:
    """What an alias (with its in-force `.intervals`) points at now and what changes in the next
    `upcoming_days` days: the alias list's row."""
    soon = now + dt.timedelta(days=upcoming_days)
    current = next(
        (
            i
            for i in name.intervals
            if i.starting_at <= now and (i.ending_before is None or i.ending_before > now)
        ),
        None,
    )
    changes = []
    for interval in name.intervals:
        if now < interval.starting_at <= soon:
            changes.append((interval.starting_at, assignment_target(interval)[0]))
        if interval.ending_before and now < interval.ending_before <= soon:
            following = any(i.starting_at == interval.ending_before for i in name.intervals)
            if not following:
                changes.append((interval.ending_before, "nothing"))
    return {
        "name": name,
        "current": assignment_target(current) if current else None,
        "changes": sorted(changes),
    }


def version_changes(
    source_terms,
    body: Mapping,
    *,
    product_names: Mapping[str, str],
    credit_type_names: Mapping[str, str],
) -> dict:
    """Terms added, removed, changed and kept between a package's terms and the create body of
    its new version, in words (the builder's "what changes" beside the preview)."""

    def words(kind, term_body):
        return describe_term(
            kind, term_body, product_names=product_names, credit_type_names=credit_type_names
        )

    def product_of(term_body):
        rate = term_body.get("subscription_rate") or {}
        specifiers = term_body.get("override_specifiers") or [{}]
        return str(
            term_body.get("product_id")
            or rate.get("product_id")
            or specifiers[0].get("product_id")
            or ""
        )

    old = [(t.kind, product_of(t.body), words(t.kind, t.body)) for t in source_terms]
    new = [
        (kind, product_of(term), words(kind, term))
        for key, kind in TERM_LISTS
        for term in body.get(key) or []
    ]
    old_texts, new_texts = [t for _, _, t in old], [t for _, _, t in new]
    removed = [row for row in old if row[2] not in new_texts]
    added = [row for row in new if row[2] not in old_texts]
    # A removed and an added term of the same kind on the same product: one changed term.
    changed = []
    for row in list(added):
        twin = next((r for r in removed if r[:2] == row[:2]), None)
        if twin is not None:
            removed.remove(twin)
            added.remove(row)
            changed.append((twin[2], row[2]))
    return {
        "added": [text for _, _, text in added],
        "removed": [text for _, _, text in removed],
        "changed": changed,
        "kept": [text for text in new_texts if text in old_texts],
    }
