from django import forms
from django.contrib import admin

from identity.models import GroupMapping, IdentityProvider, SsoIdentity


class IdentityProviderForm(forms.ModelForm):
    """The client secret is never shown again; left empty on a change, it stays as it was."""

    client_secret = forms.CharField(
        label="Client secret",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the current secret.",
    )

    issuer = forms.URLField(
        label="Issuer",
        assume_scheme="https",
        help_text="The provider's exact issuer identifier, as in its discovery document.",
    )

    class Meta:
        model = IdentityProvider
        fields = [
            "slug",
            "label",
            "issuer",
            "client_id",
            "client_secret",
            "scope",
            "groups_claim",
            "enabled",
        ]

    def clean_client_secret(self):
        secret = self.cleaned_data["client_secret"]
        if not secret:
            if not self.instance.pk:
                raise forms.ValidationError("Enter the client secret.")
            return self.instance.client_secret
        return secret


@admin.register(IdentityProvider)
class IdentityProviderAdmin(admin.ModelAdmin):
    """Providers configured here get a button on the sign-in page at once, next to those of
    ``OIDC_PROVIDERS``."""

    form = IdentityProviderForm
    list_display = ["label", "slug", "issuer", "client_id", "enabled"]
    list_filter = ["enabled"]


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
