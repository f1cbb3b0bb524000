"""Site staff's read-only view of SCIM tokens and of what identity providers provisioned:
tokens are made and revoked by the organisation's owners on its Provisioning page, accounts
and teams by the provider (every change recorded in the organisation's history)."""

from django.contrib import admin

from provisioning.models import ProvisionedAccount, ProvisionedTeam, ScimToken


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ScimToken)
class ScimTokenAdmin(ReadOnlyAdmin):
    list_display = ["name", "organization", "hint", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["organization"]
    search_fields = ["name", "organization__name"]
    exclude = ["secret_hash"]


@admin.register(ProvisionedAccount)
class ProvisionedAccountAdmin(ReadOnlyAdmin):
    list_display = ["user", "organization", "created_account", "active", "removed_at"]
    list_filter = ["organization", "created_account", "active"]
    search_fields = ["user__username", "external_id", "organization__name"]


@admin.register(ProvisionedTeam)
class ProvisionedTeamAdmin(ReadOnlyAdmin):
    list_display = ["display_name", "team", "external_id"]
    search_fields = ["display_name", "team__name", "external_id"]
