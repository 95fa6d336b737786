"""The cohort-migration pages (DESIGN.md §7, §9): the list, the wizard (input → preview →
confirm), a job's page with live progress, its items and CSV export, cancel and revert.

Everything goes through what the API uses: the wizard's input is checked by the API's create
serializer and resolved by the same service (one validation path; errors land beside the field
the service names), the preview is the API's preview selector (nothing written), and cancel and
revert are the API's services. Which buttons a job offers is asked of the model and selectors.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required, permission_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_htmx.http import HttpResponseStopPolling, trigger_client_event
from rest_framework.exceptions import ValidationError

from config.api.errors import flatten_errors
from config.api.views_base import validated
from config.core.errors import ApplicationError, Conflict, NotFound
from config.core.ids import parse_uuid
from config.core.pagination import keyset_paginate
from config.web import KeysetListView, csv_response, page_or_first, redirect_after_write
from contracts_app.api.cohort_migration_serializers import MigrationCreateInput
from contracts_app.api.cohort_migrations import ADD, CHANGE, ID_LISTS_BODY_BYTES, VIEW
from contracts_app.forms import CohortMigrationForm
from contracts_app.models import CohortMigration, CohortMigrationItem, Customer
from contracts_app.presenters import (
    COUNT_WORDS,
    ChartMark,
    cohort_chart,
    package_diff_words,
    reason_words,
    timing_words,
)
from contracts_app.selectors.cohort_migrations import (
    ALIAS_TARGET_SERIES,
    REVERT_STATUSES,
    cohort_migration_preview,
    cohort_projection,
    migration_actions,
    migration_get,
    migration_items,
    migration_progress,
    migration_skip_reasons,
)
from contracts_app.selectors.cohort_migrations import migration_list as migrations_selector
from contracts_app.selectors.contracts import credit_type_names
from contracts_app.services.cohort_migrations import (
    PastEffectiveTime,
    cohort_migration_cancel,
    cohort_migration_create,
    cohort_migration_revert,
    effective_in_past,
    migration_input,
)
from packages_app.forms.catalog import package_choices
from packages_app.models import AliasName, Package
from packages_app.selectors.package_diff import package_diff_names

PAGE_SIZE = 50
Status = CohortMigration.Status
ItemStatus = CohortMigrationItem.Status
Reason = CohortMigrationItem.Reason


def _page(queryset, cursor: str | None, **options):
    """A keyset page; a stale or edited cursor starts again from the first page."""
    return page_or_first(
        lambda after: keyset_paginate(queryset, limit=PAGE_SIZE, cursor=after, **options), cursor
    )


def _migration(migration_id) -> CohortMigration:
    try:
        return migration_get(migration_id=migration_id)
    except NotFound:
        raise Http404("No such migration") from None


def _chosen(value: str | None, choices) -> str:
    return value if value in choices else ""


# --- the list ------------------------------------------------------------------------------


class MigrationListView(KeysetListView):
    """`/migrations/`: newest first, filtered by status and by a package (as source or target)."""

    permission_required = VIEW
    template_name = "contracts_app/migrations/list.html"
    page_fragment = "migrations"

    def get_context_data(self, *, cursor, more) -> dict:
        return _list_context(self.request, cursor)


def _list_context(request, cursor: str | None) -> dict:
    status = _chosen(request.GET.get("status"), Status.values)
    package_id = parse_uuid(request.GET.get("package"))
    page = _page(
        migrations_selector(status=status or None, package_id=package_id),
        cursor,
        descending=True,
    )
    progress = migration_progress(page.items)
    kept = {"status": status, "package": str(package_id) if package_id else ""}
    kept = {key: value for key, value in kept.items() if value}
    packages = list(Package.objects.order_by("name", "-created_at").values_list("id", "name"))
    context = {
        "rows": [_row(m, progress[m.id]) for m in page.items],
        "page": page,
        "status": status,
        "package_id": str(package_id) if package_id else "",
        "package_name": next((name for pk, name in packages if pk == package_id), ""),
        "statuses": Status.choices,
        "status_words": Status(status).label if status else "",
        "packages": packages,
        "filtered": bool(kept),
        "more_query": urlencode({**kept, "after": page.next_cursor}) if page.next_cursor else "",
        "can_add": request.user.has_perm(ADD),
    }
    return context


def _row(migration: CohortMigration, progress: dict) -> dict:
    return {
        "migration": migration,
        "progress": progress,
        "timing": timing_words(migration.timing, migration.effective_at),
    }


# --- the wizard ----------------------------------------------------------------------------


def _wizard_form(data=None, files=None, *, initial=None) -> CohortMigrationForm:
    packages = Package.objects.order_by("name", "-created_at").values_list(
        "id", "name", "created_at", "archived_at"
    )
    sources = [("", "— choose a package —")] + [
        (str(pk), f"{name} · {created:%Y-%m-%d}" + (" (archived)" if archived else ""))
        for pk, name, created, archived in packages
    ]
    aliases = AliasName.objects.filter(kind=AliasName.Kind.PACKAGE).order_by("name")
    return CohortMigrationForm(
        data,
        files,
        initial=initial,
        source_choices=sources,
        target_choices=package_choices(),
        alias_choices=list(aliases.values_list("name", flat=True)),
    )


def _digest(body: dict) -> str:
    """What was previewed (all but the name and the key): a confirm of other input previews
    again instead of creating something nobody saw."""
    seen = {k: v for k, v in body.items() if k not in ("name", "uniqueness_key")}
    return hashlib.sha256(json.dumps(seen, sort_keys=True).encode()).hexdigest()[:32]


_LISTED = re.compile(r"^(customer_ids|exclude_customer_ids)\[(\d+)\]$")


def _validated_input(form: CohortMigrationForm, body: dict) -> dict | None:
    """The body checked by the API's serializer; its errors go beside the fields they name (a
    bad id in a pasted list says which one)."""
    try:
        return validated(MigrationCreateInput, body)
    except ValidationError as exc:
        for path, messages in flatten_errors(exc.detail).items():
            message = " ".join(messages)
            listed = _LISTED.match(path)
            if listed:
                key, index = listed.group(1), int(listed.group(2))
                message = f"“{body[key][index][:60]}” (id {index + 1}): {message}"
            form.add_service_error(path, message)
    return None


@login_required
@permission_required(ADD, raise_exception=True)
def migration_new(request):
    """`/migrations/new/`: GET the form (`?source_package=<id>` or `?source_alias=<name>`
    fill in the source); POST "preview" shows what it would do (nothing written); POST
    "confirm" creates the job, once per preview (its uniqueness key)."""
    if request.method != "POST":
        initial = {"source_package": request.GET.get("source_package", "")}
        if request.GET.get("source_alias"):
            initial.update(source_alias=request.GET["source_alias"], source_as_of=timezone.now())
        return render(
            request, "contracts_app/migrations/new.html", {"form": _wizard_form(initial=initial)}
        )

    form = _wizard_form(request.POST, request.FILES)
    action = request.POST.get("_action", "preview")
    context: dict = {}
    data = _validated_input(form, form.body()) if form.is_valid() else None
    if data is not None:
        body = form.body()
        digest = _digest(body)
        try:
            resolved = migration_input(
                source=data["source"],
                target=data["target"],
                effective=data["effective"],
                customer_ids=data.get("customer_ids"),
                exclude_customer_ids=data.get("exclude_customer_ids"),
                edited_contracts=data.get("edited_contracts", "SKIP"),
                allow_past=data.get("allow_past", False),
            )
            if action == "confirm" and form.cleaned_data.get("previewed") == digest:
                migration = cohort_migration_create(
                    data=resolved,
                    name=data.get("name", ""),
                    run_at=data.get("run_at"),
                    uniqueness_key=form.cleaned_data.get("uniqueness_key") or None,
                    created_by=request.user.get_username(),
                )
                return redirect_after_write(
                    request, reverse("contracts:migration-detail", args=[migration.pk])
                )
            context = _preview_context(resolved)
            context["changed_since_preview"] = action == "confirm"
            # Still asked (ticked) while the date is past, so the confirm carries the answer.
            context["past_from"] = effective_in_past(resolved.spec, now=timezone.now())
            form = form.rebound(previewed=digest, uniqueness_key=f"ui-{uuid.uuid4()}")
        except Conflict as exc:
            key = form.cleaned_data.get("uniqueness_key")
            existing = CohortMigration.objects.filter(uniqueness_key=key).first() if key else None
            if exc.field == "uniqueness_key" and existing is not None:
                # A double confirm: the first one created it; show that one.
                return redirect_after_write(
                    request, reverse("contracts:migration-detail", args=[existing.pk])
                )
            form.add_service_error(exc.field, exc.message)
        except PastEffectiveTime as exc:
            # Asked in words, with the allow_past checkbox beside the date (new.html).
            context["past_from"] = exc.at
            form.add_service_error(
                exc.field,
                "This date is in the past: say below whether to change contracts from it.",
            )
        except ApplicationError as exc:
            form.add_service_error(exc.field, exc.message)
    context["form"] = form
    return render(request, "contracts_app/migrations/new.html", context)


# The wizard takes the API's documented 100,000 ids per list (pasted or uploaded as CSV), so it
# gets the API's body limit (config/api/middleware.py), not the 2.5 MB default.
migration_new.max_body_bytes = ID_LISTS_BODY_BYTES


def _preview_context(resolved) -> dict:
    """The preview and the names it needs, in a fixed number of queries."""
    preview = cohort_migration_preview(
        spec=resolved.spec,
        source=resolved.source_package,
        target=resolved.target_package,
        target_alias=resolved.target_alias,
    )
    sample = preview["sample"]
    customers = Customer.objects.in_bulk([row["customer_id"] for row in sample])
    new_packages = Package.objects.in_bulk(
        {row["new_contract"]["package_id"] for row in sample if row["new_contract"]}
    )
    diff = preview["diff"]
    spec = resolved.spec
    archived = preview["skipped"].get(Reason.CONTRACT_ARCHIVED, 0)
    return {
        "preview": preview,
        "resolved": resolved,
        "timing": timing_words(spec.timing, spec.at),
        "skipped": [
            (code, reason_words(code), n)
            for code, n in preview["skipped"].items()
            if code != Reason.CONTRACT_ARCHIVED
        ],
        # The headline is the live cohort: archived contracts are counted apart.
        "archived": archived,
        "live_total": preview["total"] - archived,
        "skipped_total": preview["total"] - preview["eligible"] - archived,
        "sample": [
            {
                **row,
                "customer": customers.get(parse_uuid(row["customer_id"])),
                "reason_words": reason_words(row["reason"]) if row["reason"] else "",
                "new_package": new_packages.get(parse_uuid(row["new_contract"]["package_id"]))
                if row["new_contract"]
                else None,
            }
            for row in sample
        ],
        "diff": package_diff_words(
            diff, **package_diff_names(diff), credit_type_names=credit_type_names()
        ),
        "cohort_counts": _cohort_counts(resolved, preview),
        "after_chart": _after_chart(resolved),
    }


def _after_chart(resolved):
    """The source and target cohorts over time as they would be after the move (projected)."""
    spec, source, target = resolved.spec, resolved.source_package, resolved.target_package
    sizes = cohort_projection(spec=spec, source=source, target=target, now=timezone.now())
    labels = {source.id: f"{source.name} (after the move)"}
    hrefs = {source.id: reverse("contracts:package-detail", args=[source.id])}
    if target is not None:
        labels[target.id] = target.name
        hrefs[target.id] = reverse("contracts:package-detail", args=[target.id])
    else:
        labels[ALIAS_TARGET_SERIES] = f"moved to alias {resolved.target_alias}"
    marks = []
    if spec.at is not None:
        moment = "moves" if spec.timing == CohortMigration.Timing.AT else "first moves"
        marks.append(
            ChartMark(
                at=spec.at,
                label=moment,
                title=f"The cohort {moment} {spec.at:%Y-%m-%dT%H:%MZ}",
                kind="migration",
            )
        )
    return cohort_chart(
        sizes,
        labels=labels,
        hrefs=hrefs,
        marks=marks,
        title=f"{source.name} and its target after the move, projected",
    )


def _cohort_counts(resolved, preview) -> list[dict] | None:
    """The preview's on-date figures (the selector's, as the API gives them) with their
    packages, for the "Contracts on <date>" table."""
    on_date = preview["on_date"]
    if on_date is None:
        return None
    known = {str(resolved.source_package.id): resolved.source_package}
    if resolved.target_package is not None:
        known[str(resolved.target_package.id)] = resolved.target_package
    sides = [on_date["source"]] + ([on_date["target"]] if on_date["target"] else [])
    missing = [side["package_id"] for side in sides if side["package_id"] not in known]
    known.update({str(p.id): p for p in Package.objects.filter(id__in=missing)} if missing else {})
    return [
        {"package": known[side["package_id"]], "before": side["before"], "after": side["after"]}
        for side in sides
    ]


# --- one migration -------------------------------------------------------------------------


def _live_context(request, migration: CohortMigration) -> dict:
    """The part of a job's page that changes while it runs: status, progress, outcome, and
    which of cancel / revert it allows now (asked of the model and the selector)."""
    now = timezone.now()
    progress = migration_progress([migration])[migration.id]
    actions = migration_actions(migration=migration, now=now)
    may_change = request.user.has_perm(CHANGE)
    return {
        "migration": migration,
        "progress": progress,
        "skipped": [
            (code, reason_words(code), n)
            for code, n in migration_skip_reasons(migration=migration).items()
        ],
        "not_reverted": [
            (code or "", reason_words(code) if code else "the database refused the write", n)
            for code, n in migration_skip_reasons(
                migration=migration, status=ItemStatus.REVERT_BLOCKED
            ).items()
        ]
        if migration.status in REVERT_STATUSES
        else [],
        "count_words": [
            (name, COUNT_WORDS.get(name, name), n) for name, n in progress["counts"].items()
        ],
        "can_cancel": may_change and actions["cancel"],
        "can_revert": may_change and actions["revert"],
        "revert_window": actions["revert_window"],
        "blocked_words": [
            (code, reason_words(code), n)
            for code, n in (actions["revert_window"] or {}).get("blocked", {}).items()
        ],
        "poll_every": "1s" if migration.status != Status.SCHEDULED else "5s",
        "now": now,
    }


class MigrationDetailView(KeysetListView):
    """`/migrations/<id>/`: live progress, the outcome, and its items (`?status=`, `?reason=`,
    keyset "load more")."""

    permission_required = VIEW
    template_name = "contracts_app/migrations/detail.html"
    rows_fragment = "item-rows"
    page_fragment = "items"

    def get_context_data(self, *, cursor, more) -> dict:
        return _detail_context(self.request, _migration(self.kwargs["migration_id"]), cursor)


def _detail_context(request, migration: CohortMigration, cursor: str | None) -> dict:
    status = _chosen(request.GET.get("status"), ItemStatus.values)
    reason = _chosen(request.GET.get("reason"), Reason.values)
    page = _page(
        migration_items(
            migration=migration, status=status or None, reason=reason or None
        ).select_related("customer"),
        cursor,
        keys=("id",),
    )
    kept = {key: value for key, value in {"status": status, "reason": reason}.items() if value}
    context = {
        **_live_context(request, migration),
        "timing": timing_words(migration.timing, migration.effective_at),
        "items": [
            {"item": item, "reason_words": reason_words(item.reason) if item.reason else ""}
            for item in page.items
        ],
        "page": page,
        "item_status": status,
        "item_reason": reason,
        "item_statuses": ItemStatus.choices,
        "item_status_words": ItemStatus(status).label if status else "",
        "item_reason_words": reason_words(reason) if reason else "",
        "item_reasons": [(code, reason_words(code)) for code in Reason.values],
        "filter_query": urlencode(kept),
        "more_query": urlencode({**kept, "after": page.next_cursor}) if page.next_cursor else "",
    }
    return context


@login_required
@permission_required(VIEW, raise_exception=True)
def migration_live(request, migration_id):
    """The polled fragment: while the job moves, the same fragment polls again; once it has
    ended, 286 (htmx stops polling) and a `migrationFinished` event refreshes the items."""
    migration = _migration(migration_id)
    context = _live_context(request, migration)
    template = "contracts_app/migrations/detail.html#live"
    if migration.is_unfinished:
        return render(request, template, context)
    response = HttpResponseStopPolling(render_to_string(template, context, request))
    return trigger_client_event(response, "migrationFinished")


@login_required
@permission_required(VIEW, raise_exception=True)
def migration_items_csv(request, migration_id):
    """`/migrations/<id>/items.csv`: every item (same `?status=` / `?reason=`), streamed."""
    migration = _migration(migration_id)
    status = _chosen(request.GET.get("status"), ItemStatus.values)
    reason = _chosen(request.GET.get("reason"), Reason.values)
    rows = (
        migration_items(migration=migration, status=status or None, reason=reason or None)
        .order_by("id")
        .values_list(
            "contract_id",
            "customer_id",
            "customer__name",
            "customer__external_id",
            "status",
            "reason",
            "message",
            "effective_at",
            "new_contract_id",
        )
    )
    header = [
        "contract_id",
        "customer_id",
        "customer_name",
        "customer_external_id",
        "status",
        "reason",
        "message",
        "effective_at",
        "new_contract_id",
    ]
    return csv_response(f"migration-{migration.id}-items.csv", header, rows)


# --- cancel and revert ---------------------------------------------------------------------


def _transition(request, migration_id, *, action: str):
    migration = _migration(migration_id)
    context = _live_context(request, migration)
    allowed = context["can_cancel"] if action == "cancel" else context["can_revert"]
    error = ""
    if request.method == "POST":
        try:
            if action == "cancel":
                cohort_migration_cancel(migration=migration)
            else:
                cohort_migration_revert(migration=migration)
        except ApplicationError as exc:
            error = exc.message
        else:
            return HttpResponseRedirect(reverse("contracts:migration-detail", args=[migration.pk]))
        context = _live_context(request, _migration(migration_id))
        allowed = False
    context.update(action=action, allowed=allowed, error=error)
    return render(
        request,
        "contracts_app/migrations/confirm.html",
        context,
        status=400 if error else 200,
    )


@login_required
@permission_required(CHANGE, raise_exception=True)
def migration_cancel(request, migration_id):
    """GET: what cancelling will do; POST: cancel (the API's service)."""
    return _transition(request, migration_id, action="cancel")


@login_required
@permission_required(CHANGE, raise_exception=True)
def migration_revert(request, migration_id):
    """GET: what reverting will do and until when it is allowed; POST: revert."""
    return _transition(request, migration_id, action="revert")
