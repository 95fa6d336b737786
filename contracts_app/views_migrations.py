"""The cohort-migration pages: the list, the wizard (input → preview → confirm), a job's page
with live progress, its items and CSV, and its actions (cancel, revert, pause, resume, retry).
All through what the API uses: its serializer, services and selectors (which actions a job
offers: migration_actions); what the pages show is computed by `migration_presenters.py`."""

from __future__ import annotations

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django_htmx.http import HttpResponseStopPolling, trigger_client_event

from config.core.errors import ApplicationError, NotFound, ValidationFailed
from config.core.ids import parse_uuid
from config.web import KeysetListView, ServiceFormView, csv_response, keyset_page, page_view
from contracts_app.api.cohort_migration_serializers import MigrationCreateInput, resolved_input
from contracts_app.api.cohort_migrations import ADD, CHANGE, ID_LISTS_BODY_BYTES, VIEW
from contracts_app.forms import CohortMigrationForm
from contracts_app.migration_presenters import (
    chosen,
    item_filters,
    live_context,
    migration_list_page,
    migration_page,
    transition_allowed,
    wizard_preview,
)
from contracts_app.models import CohortMigration
from contracts_app.selectors.cohort_migrations import migration_get, migration_items
from contracts_app.selectors.cohort_migrations import migration_list as migrations_selector
from contracts_app.services.cohort_migrations import (
    PastEffectiveTime,
    RevertScope,
    cohort_migration_cancel,
    cohort_migration_create,
    cohort_migration_pause,
    cohort_migration_resume,
    cohort_migration_retry_failed,
    cohort_migration_revert,
)

PAGE_SIZE = 50


def _migration(migration_id) -> CohortMigration:
    try:
        return migration_get(migration_id=migration_id)
    except NotFound:
        raise Http404("No such migration") from None


def _items(request, migration):
    """The `?status=` and `?reason=` filters (unknown ones ignored) and the items they pick."""
    status, reason = item_filters(request.GET)
    items = migration_items(migration=migration, status=status or None, reason=reason or None)
    return status, reason, items


# --- the list ------------------------------------------------------------------------------


class MigrationListView(KeysetListView):
    """`/migrations/`: newest first, filtered by status and by a package (as source or target)."""

    permission_required = VIEW
    template_name = "contracts_app/migrations/list.html"
    page_fragment = "migrations"

    def get_context_data(self, *, cursor, more) -> dict:
        status = chosen(self.request.GET.get("status"), CohortMigration.Status.values)
        package_id = parse_uuid(self.request.GET.get("package"))
        migrations = migrations_selector(status=status or None, package_id=package_id)
        page = keyset_page(migrations, cursor, limit=PAGE_SIZE, descending=True)
        return {
            **migration_list_page(page, status=status, package_id=package_id),
            "can_add": self.request.user.has_perm(ADD),
        }


# --- the wizard ----------------------------------------------------------------------------


class MigrationNewView(ServiceFormView):
    """`/migrations/new/`: GET the form (`?source_package=` / `?source_alias=` fill the source);
    "preview" shows what it would do (nothing written); "confirm" of the input previewed creates
    the job once (its uniqueness key). Checked by the API's serializer and service."""

    template_name = "contracts_app/migrations/new.html"
    serializer = MigrationCreateInput
    confirm_action = "confirm"
    success_url_name = "contracts:migration-detail"
    conflict_model = CohortMigration
    past_from = None

    def get_form(self, data=None):
        if data is None:
            return CohortMigrationForm.opened_from(self.request.GET, now=timezone.now())
        return CohortMigrationForm(data, self.request.FILES)

    def confirmed(self, form) -> bool:
        # A confirm of other input than the one previewed previews again.
        return super().confirmed(form) and form.cleaned_data.get("previewed") == form.digest()

    def resolve(self, data: dict):
        try:
            return resolved_input(data)
        except PastEffectiveTime as exc:
            # Asked in words, with the allow_past checkbox beside the date (new.html).
            self.past_from = exc.at
            raise ValidationFailed(PAST_WORDS, field=exc.field) from exc

    def preview(self, data: dict, form) -> dict:
        confirming = self.request.POST.get("_action") == "confirm"
        return wizard_preview(self.resolve(data), form, confirming=confirming, now=timezone.now())

    def perform(self, data: dict, form):
        arguments = form.create_arguments(data, self.request.user.get_username())
        return cohort_migration_create(data=self.resolve(data), **arguments)

    def get_context_data(self, form) -> dict:
        return {"form": form, "past_from": self.past_from}

    def render_form(self, form, **extra):
        # After a preview, the form carries its digest and a fresh key (hidden inputs).
        return super().render_form(extra.pop("rebound", form), **extra)


PAST_WORDS = "This date is in the past: say below whether to change contracts from it."
migration_new = MigrationNewView.as_view()
# The wizard takes the API's documented 100,000 ids per list (pasted or uploaded as CSV), so it
# gets the API's body limit (config/api/middleware.py), not the 2.5 MB default.
migration_new.max_body_bytes = ID_LISTS_BODY_BYTES


# --- one migration -------------------------------------------------------------------------


def _live(request, migration: CohortMigration) -> dict:
    return live_context(migration, may_change=request.user.has_perm(CHANGE), now=timezone.now())


class MigrationDetailView(KeysetListView):
    """`/migrations/<id>/`: live progress, the outcome, and its items (`?status=`, `?reason=`,
    keyset "load more")."""

    permission_required = VIEW
    template_name = "contracts_app/migrations/detail.html"
    rows_fragment = "item-rows"
    page_fragment = "items"

    def get_context_data(self, *, cursor, more) -> dict:
        request, migration = self.request, _migration(self.kwargs["migration_id"])
        status, reason, items = _items(request, migration)
        items = items.select_related("customer", "contract", "new_contract")
        page = keyset_page(items, cursor, limit=PAGE_SIZE, keys=("id",))
        live = _live(request, migration)
        return migration_page(migration, page, status=status, reason=reason, live=live)


@page_view(VIEW)
def migration_live(request, migration_id):
    """The polled fragment: while the job moves (or waits, PAUSED: slowly), the same fragment
    polls again, with a `migrationProgressed` event refreshing the items when its status or
    counts differ from what the page showed (`?seen=`); once it has ended, 286 (htmx stops
    polling) and a `migrationFinished` event refreshes the items."""
    migration = _migration(migration_id)
    context = _live(request, migration)
    template = "contracts_app/migrations/detail.html#live"
    if context["polls"]:
        response = render(request, template, context)
        if request.GET.get("seen") != context["seen"]:
            trigger_client_event(response, "migrationProgressed")
        return response
    response = HttpResponseStopPolling(render_to_string(template, context, request))
    return trigger_client_event(response, "migrationFinished")


@page_view(VIEW)
def migration_items_csv(request, migration_id):
    """`/migrations/<id>/items.csv`: every item (same `?status=` / `?reason=`), streamed."""
    migration = _migration(migration_id)
    rows = _items(request, migration)[2].order_by("id").values_list(*CSV_COLUMNS)
    header = [column.replace("__", "_") for column in CSV_COLUMNS]  # customer__name: customer_name
    return csv_response(f"migration-{migration.id}-items.csv", header, rows)


CSV_COLUMNS = ("contract_id", "customer_id", "customer__name", "customer__external_id", "status")
CSV_COLUMNS += ("reason", "message", "effective_at", "new_contract_id")


# --- cancel, revert, pause, resume, retry -------------------------------------------------

# Each action's service (whether the job offers it now: migration_presenters.transition_allowed).
TRANSITIONS = {
    "cancel": lambda m, scope: cohort_migration_cancel(migration=m),
    "revert": lambda m, scope: cohort_migration_revert(migration=m, scope=scope),
    "pause": lambda m, scope: cohort_migration_pause(migration=m),
    "resume": lambda m, scope: cohort_migration_resume(migration=m),
    "retry": lambda m, scope: cohort_migration_retry_failed(migration=m),
}


@page_view(CHANGE)
def migration_transition(request, migration_id, action: str):
    """GET: what the action will do, if allowed now; POST: do it (a revert's `?scope=`)."""
    migration = _migration(migration_id)
    scope = RevertScope.NOT_IN_EFFECT if request.GET.get("scope") == "NOT_IN_EFFECT" else "ALL"
    context = _live(request, migration)
    allowed, error = transition_allowed(context, action, scope), ""
    if request.method == "POST":
        try:
            TRANSITIONS[action](migration, scope)
        except ApplicationError as exc:
            error = exc.message
        else:
            return HttpResponseRedirect(reverse("contracts:migration-detail", args=[migration.pk]))
        context, allowed = _live(request, _migration(migration_id)), False
    context.update(action=action, scope=scope, allowed=allowed, error=error)
    return render(
        request, "contracts_app/migrations/confirm.html", context, status=400 if error else 200
    )
