from django.contrib import admin

from config.api.models import ApiToken
from config.audit.admin import AuditedAdminMixin


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["key_prefix", "user", "name", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["user"]
    search_fields = ["user__username", "name", "key_prefix"]
    readonly_fields = ["key_prefix", "created_at", "last_used_at"]
    fields = ["user", "name", "key_prefix", "created_at", "last_used_at", "revoked_at"]

    def has_add_permission(self, request):
        return False  # tokens are shown once at creation: `manage.py create_api_token`
