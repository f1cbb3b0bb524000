from django import forms

from tokens.models import TokenScope
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
