from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from policies.models import (
    GRANT_FIELDS,
    POLICY_FIELDS,
    AccessPolicy,
    AllowlistEntry,
    ExceptionRequest,
    PolicyChange,
    Publisher,
    TeamGrant,
)
from policies.services import policy_update


class AccessPolicyAdminForm(forms.ModelForm):
    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    class Meta:
        model = AccessPolicy
        fields = POLICY_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["expected_version"].initial = self.instance.version


@admin.register(AccessPolicy)
class AccessPolicyAdmin(admin.ModelAdmin):
    form = AccessPolicyAdminForm
    list_display = ("organization", *POLICY_FIELDS, "version", "updated_at")
    list_filter = POLICY_FIELDS
    search_fields = ("organization__name",)
    readonly_fields = ("organization", "version", "updated_at")
    fields = ("organization", *POLICY_FIELDS, "version", "updated_at", "expected_version")

    def has_add_permission(self, request):
        return False  # created with each organisation

    def save_model(self, request, obj, form, change):
        """Staff edits go through the same service: recorded, and refused when stale."""
        try:
            policy_update(
                organization=obj.organization,
                actor=request.user,
                expected_version=form.cleaned_data["expected_version"],
                values={field: form.cleaned_data[field] for field in POLICY_FIELDS},
            )
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))


@admin.register(PolicyChange)
class PolicyChangeAdmin(admin.ModelAdmin):
    list_display = ("organization", "version", "actor_username", "changed_at")
    list_filter = ("organization",)
    search_fields = ("organization__name", "actor_username")
    readonly_fields = (
        "organization",
        "actor",
        "actor_username",
        "changed_at",
        "changes",
        "version",
    )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False  # the history is append-only


@admin.register(Publisher)
class PublisherAdmin(admin.ModelAdmin):
    list_display = ("namespace", "display_name", "verified")
    list_filter = ("verified",)
    search_fields = ("namespace", "display_name")


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown to staff, changed by owners on the Org Permissions page (where every change is
    recorded and bumps the policy version). Deleting stays possible, so that deleting an
    organisation or a team from the admin can cascade."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(TeamGrant)
class TeamGrantAdmin(ReadOnlyAdmin):
    list_display = ("team", *GRANT_FIELDS, "updated_at")
    list_filter = GRANT_FIELDS
    search_fields = ("team__name", "team__organization__name")


@admin.register(AllowlistEntry)
class AllowlistEntryAdmin(ReadOnlyAdmin):
    list_display = ("organization", "pattern", "team", "added_by_username", "expires_at")
    list_filter = ("organization",)
    search_fields = ("organization__name", "pattern", "reason")


@admin.register(ExceptionRequest)
class ExceptionRequestAdmin(ReadOnlyAdmin):
    list_display = ("organization", "requester", "repository", "status", "created_at")
    list_filter = ("status", "organization")
    search_fields = ("organization__name", "requester__username", "repository")
