from django.contrib import admin

from tokens.models import AccessToken


@admin.register(AccessToken)
class AccessTokenAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "user",
        "scope",
        "hint",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("scope", "revoked_at")
    search_fields = ("name", "user__username")
    readonly_fields = ("user", "name", "uuid", "scope", "hint", "created_at", "last_used_at")
    fields = (
        "user",
        "name",
        "uuid",
        "scope",
        "hint",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )

    def has_add_permission(self, request):
        return False  # secrets are created by their owner, shown once
