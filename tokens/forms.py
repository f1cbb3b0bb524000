from django import forms

from tokens.models import LIFETIME_CHOICES, TokenScope
from tokens.services import DEFAULT_EXPIRY_DAYS, MAX_EXPIRY_DAYS


class AccessTokenCreateForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=100,
        help_text="What the token is for, e.g. 'laptop' or 'ci'.",
    )
    expires_days = forms.IntegerField(
        label="Expires after (days)",
        required=False,
        min_value=1,
        max_value=MAX_EXPIRY_DAYS,
        initial=DEFAULT_EXPIRY_DAYS,
        help_text=f"1 to {MAX_EXPIRY_DAYS} days. Empty the field for a token that never expires.",
    )
    scope = forms.ChoiceField(
        label="Scope",
        choices=TokenScope.choices,
        initial=TokenScope.READ,  # the least it needs, as on Docker Hub
        widget=forms.RadioSelect,
        help_text="Choose read-only unless the token pushes images or changes settings.",
    )


NEVER = "never"


class OrganizationTokenCreateForm(forms.Form):
    """An organisation access token: name, scope, repository patterns, expiry from the list
    (never only where the organisation allows it)."""

    name = forms.CharField(
        label="Token name",
        max_length=100,
        help_text="What it is for, e.g. 'ci-pipeline'. The activity log shows it as "
        "organization/name.",
    )
    scope = forms.ChoiceField(
        label="Scope",
        choices=(
            (TokenScope.READ, "Pull only"),
            (TokenScope.WRITE, "Pull and push (push to this organization's repositories only)"),
        ),
        initial=TokenScope.READ,
        widget=forms.RadioSelect,
    )
    repositories = forms.CharField(
        label="Repositories (optional)",
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Limit the token to these repositories, one pattern a line, as in the "
        "allowlist: 'acme/app', 'acme/*' (one level), 'acme/**' (any depth). Empty: any "
        "repository the organization's policy allows.",
    )
    expires_days = forms.ChoiceField(label="Expires after", initial="90")

    def __init__(self, *args, allow_non_expiring: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(str(days), str(label)) for days, label in LIFETIME_CHOICES]
        if allow_non_expiring:
            choices.append((NEVER, "Never"))
        self.fields["expires_days"].choices = choices

    def clean_expires_days(self):
        value = self.cleaned_data["expires_days"]
        return None if value == NEVER else int(value)


class TokenPolicyForm(forms.Form):
    """An organisation's rules for access tokens."""

    allow_non_expiring = forms.BooleanField(
        label="Allow organization tokens that never expire",
        required=False,
        help_text="Off: every organization token expires (30 days, 90 days or 1 year).",
    )
    personal_token_max_days = forms.TypedChoiceField(
        label="Maximum lifetime of members' personal access tokens",
        choices=[("", "No limit"), *((str(d), str(label)) for d, label in LIFETIME_CHOICES)],
        coerce=int,
        empty_value=None,
        required=False,
        help_text="A member's personal token stops working for this organization's "
        "repositories this many days after it was created, whatever its own expiry.",
    )
    expected_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0, required=False)
