"""The audit trail in the admin (read-only, nothing deletable) and the mixin that records
writes made through admin forms. Admin actions call services, which record their own writes."""

from __future__ import annotations

import re

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm
from django.contrib.auth.models import Group

from config.admin import ShortIdsAdminMixin
from config.audit.models import AuditLogEntry
from config.audit.services import audit_record, audit_record_many, changed_fields


def _form_changes(form) -> dict:
    """Before/after of the fields the form reports changed (JSON that reads the same is not)."""
    return changed_fields(
        {field: form.initial.get(field) for field in form.changed_data},
        {
            field: form.cleaned_data.get(field)
            for field in form.changed_data
            if field != "password"  # never store secrets, even hashed
        },
    )


class AuditedAdminMixin:
    """Records adds, edits (before/after of each changed field), inline rows and deletes made
    through this admin, in the admin's own transaction."""

    audit_resource_type: str | None = None

    def audit_type(self, model=None) -> str:
        if model is None and self.audit_resource_type:
            return self.audit_resource_type
        # CreditType -> credit_type: the names services record under.
        return re.sub(r"(?<!^)(?=[A-Z])", "_", (model or self.model).__name__).lower()

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change:
            changes = _form_changes(form)
            if changes:
                audit_record(
                    action="update",
                    resource_type=self.audit_type(),
                    resource_id=obj.pk,
                    description="changed in admin",
                    changes=changes,
                )
        else:
            audit_record(
                action="create",
                resource_type=self.audit_type(),
                resource_id=obj.pk,
                description="added in admin",
                changes={"id": obj.pk, **{k: v["after"] for k, v in _form_changes(form).items()}},
            )

    def save_formset(self, request, form, formset, change):
        super().save_formset(request, form, formset, change)
        changed = [
            (inline_form.instance.pk, "update", _form_changes(inline_form))
            for inline_form in formset.forms
            if inline_form.instance in {obj for obj, _ in formset.changed_objects}
        ]
        changed += [(obj.pk, "create", {"id": obj.pk}) for obj in formset.new_objects]
        changed += [(obj.pk, "delete", {"deleted": str(obj)}) for obj in formset.deleted_objects]
        for action in ("create", "update", "delete"):
            rows = [(pk, changes) for pk, kind, changes in changed if kind == action]
            audit_record_many(
                action=action,
                resource_type=self.audit_type(formset.model),
                resource_ids=[pk for pk, _ in rows],
                description=f"changed in admin with {self.audit_type()} {form.instance.pk}",
                changes=[changes for _, changes in rows],
            )

    def delete_model(self, request, obj):
        pk, label = obj.pk, str(obj)
        super().delete_model(request, obj)
        audit_record(
            action="delete",
            resource_type=self.audit_type(),
            resource_id=pk,
            description="deleted in admin",
            changes={"deleted": label},
        )

    def delete_queryset(self, request, queryset):
        doomed = [(obj.pk, str(obj)) for obj in queryset]
        super().delete_queryset(request, queryset)
        audit_record_many(
            action="delete",
            resource_type=self.audit_type(),
            resource_ids=[pk for pk, _ in doomed],
            description="deleted in admin",
            changes=[{"deleted": label} for _, label in doomed],
        )


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(ShortIdsAdminMixin, admin.ModelAdmin):
    """Append-only: shown, filtered, never added, changed or deleted (the database refuses too)."""

    short_id_fields = ("resource_id", "request_id")

    list_display = (
        "timestamp",
        "actor_name",
        "channel",
        "action",
        "resource_type",
        "resource_id",
        "request_id",
    )
    # Choices only: a filter on resource_type or action would scan the table for its values.
    list_filter = ("channel",)
    search_fields = ("=resource_id", "=request_id", "actor_name", "description")
    ordering = ("-timestamp", "-id")
    date_hierarchy = None
    show_full_result_count = False  # no COUNT(*) of a table that only grows

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def get_actions(self, request):
        return {}  # not even "delete selected"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class AuditedPasswordChangeForm(AdminPasswordChangeForm):
    """The admin's "change password" page saves through this form, not save_model: the change
    is recorded (that it happened, never the password)."""

    def save(self, commit=True):
        user = super().save(commit=commit)
        audit_record(
            action="change_password",
            resource_type="user",
            resource_id=user.pk,
            description="password changed in admin",
            changes={"password": "changed"},
        )
        return user


class AuditedUserAdmin(AuditedAdminMixin, UserAdmin):
    change_password_form = AuditedPasswordChangeForm


class AuditedGroupAdmin(AuditedAdminMixin, GroupAdmin):
    pass


# Users and groups decide what people and tokens may do: their changes are recorded too.
for model, model_admin in ((get_user_model(), AuditedUserAdmin), (Group, AuditedGroupAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
