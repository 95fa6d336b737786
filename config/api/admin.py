from django.contrib import admin

from config.api.models import ApiToken
from config.audit.admin import AuditedAdminMixin
from config.core.instants import format_instant


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["key_prefix", "user", "name", "created", "last_used", "revoked"]
    list_select_related = ["user"]
    search_fields = ["user__username", "name", "key_prefix"]
    readonly_fields = ["key_prefix", "created_at", "last_used_at"]
    fields = ["user", "name", "key_prefix", "created_at", "last_used_at", "revoked_at"]

    # ISO 8601 UTC like every other page; `last_used` is stamped at most once a minute.
    @admin.display(description="Created", ordering="created_at")
    def created(self, token: ApiToken) -> str:
        return format_instant(token.created_at) or "-"

    @admin.display(description="Last used (to the minute)", ordering="last_used_at")
    def last_used(self, token: ApiToken) -> str:
        return format_instant(token.last_used_at) or "never"

    @admin.display(description="Revoked", ordering="revoked_at")
    def revoked(self, token: ApiToken) -> str:
        return format_instant(token.revoked_at) or "-"

    def has_add_permission(self, request):
        return False  # tokens are shown once at creation: `manage.py create_api_token`
