from django.contrib import admin

from tokens.models import AccessToken, OrganizationToken


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


@admin.register(OrganizationToken)
class OrganizationTokenAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "organization",
        "scope",
        "hint",
        "created_by_username",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = ("scope", "revoked_at")
    search_fields = ("name", "organization__name")
    readonly_fields = (
        "organization",
        "name",
        "uuid",
        "scope",
        "repositories",
        "hint",
        "created_by_username",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_by_username",
    )
    fields = readonly_fields

    def has_add_permission(self, request):
        return False  # made by the organisation's owners, the secret shown once

    def has_change_permission(self, request, obj=None):
        return False  # revoked by the owners, recorded in the organisation's history
