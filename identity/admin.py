from django.contrib import admin

from identity.models import GroupMapping, SsoIdentity


@admin.register(SsoIdentity)
class SsoIdentityAdmin(admin.ModelAdmin):
    """Who is linked to which provider: adding a row links an account by hand (the provider's
    ``sub``), deleting one unlinks it."""

    list_display = ["user", "provider", "subject", "email", "last_sign_in_at"]
    list_filter = ["provider"]
    search_fields = ["user__username", "subject", "email"]
    raw_id_fields = ["user"]


@admin.register(GroupMapping)
class GroupMappingAdmin(admin.ModelAdmin):
    """Read-only: owners map and unmap groups on the organisation's Single sign-on page, which
    records each change in its history."""

    list_display = ["team", "provider", "group", "created_at"]
    list_filter = ["provider"]
    search_fields = ["group", "team__name", "team__organization__name"]
    raw_id_fields = ["team"]

    def has_add_permission(self, request):
        return False  # owners map groups on the organization's Single sign-on page

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
