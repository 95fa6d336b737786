"""What the package pages that need contracts show: the builder's live preview (the package the
form describes, materialised for an example start, written nowhere; its diff against the version
it came from) and the package page's facts. Composition over what the services and selectors
return; the views (contracts_app/views_packages.py) only declare."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from config.core.errors import ApplicationError
from contracts_app.presenters import package_diff_words, preview_timeline
from contracts_app.selectors.contracts import credit_type_names
from contracts_app.services.previews import package_preview, package_preview_saved
from packages_app.presenters import alias_timeline, interval_state, terms_in_words, unpriced_words
from packages_app.selectors.catalog import (
    body_subscriptions,
    package_unpriced_subscriptions,
    unpriced_subscriptions,
)
from packages_app.selectors.package_diff import package_diff, package_diff_names


def builder_product_names(forms) -> dict[str, str]:
    """Names of the builder's product choices (already fetched for the selects)."""
    formset = forms.terms[0]
    field = (formset.forms[0] if formset.forms else formset.empty_form).fields["product"]
    return {value: label.rsplit(" (", 1)[0] for value, label in field.choices if value}


def builder_preview(forms, body: dict | None, *, start: dt.datetime, source=None) -> dict:
    """The builder's preview of the checked create `body` (None: the form's errors instead):
    timeline, statement periods, unpriced subscriptions and, for a new version of `source`, the
    diff against it in the migration preview's words."""
    context = {"preview_start": start, "preview_errors": [], "source": source}
    if body is None:
        return {**context, "preview_errors": forms.error_summary()}
    try:
        preview = package_preview(body=body, starting_at=start, package_terms=source is not None)
    except ApplicationError as exc:
        forms.add_error(exc.field, exc.message)
        return {**context, "preview_errors": forms.error_summary()}
    names, credit_types = builder_product_names(forms), credit_type_names()
    timeline, table = preview_timeline(
        preview, product_names=names, credit_type_names=credit_types, width=640, label_width=170
    )
    unpriced = unpriced_subscriptions(
        rate_card=preview.rate_card, subscriptions=body_subscriptions(body), product_names=names
    )
    context.update(
        preview=preview, timeline=timeline, periods=table, unpriced=unpriced_words(unpriced)
    )
    if source is not None:
        diff = package_diff(source=source, target=preview.package, target_terms=preview.terms)
        context["diff"] = package_diff_words(
            diff, **package_diff_names(diff), credit_type_names=credit_types
        )
    return context


def package_page(package, *, schedule: list, now: dt.datetime, credit_types: Mapping) -> dict:
    """The package page's facts: terms in words, its aliases (rows and a timeline of every
    interval of those aliases, `schedule`) and the subscriptions its rate card does not price."""
    terms = package.terms.all()
    return {
        "terms": terms_in_words(terms, credit_type_names=credit_types),
        "alias_timeline": alias_timeline(
            schedule, title=f"Aliases of {package.name}", now=now, highlight_package_id=package.id
        )
        if schedule
        else None,
        "alias_rows": [(a, *interval_state(a, now)) for a in package.alias_assignments.all()],
        "unpriced": unpriced_words(
            package_unpriced_subscriptions(package=package, terms=terms, at=now)
        ),
        "now": now,
    }


def saved_package_preview(package, *, start: dt.datetime, credit_types: Mapping) -> dict:
    """What a contract on `package` starting at `start` gets: the package page's preview panel."""
    try:
        preview = package_preview_saved(
            package=package, starting_at=start, terms=package.terms.all()
        )
    except ApplicationError as exc:
        return {"start": start, "timeline": None, "periods": [], "preview_error": exc.message}
    product_names = {str(t.product_id): t.product.name for t in preview.terms if t.product_id}
    timeline, periods = preview_timeline(
        preview, product_names=product_names, credit_type_names=credit_types
    )
    return {"start": start, "timeline": timeline, "periods": periods, "preview_error": ""}
