from django import forms

from tokens.models import TokenScope
from tokens.services import MAX_EXPIRY_DAYS


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
        help_text="Leave empty for a token that does not expire.",
    )
    scope = forms.ChoiceField(
        label="Scope",
        choices=TokenScope.choices,
        initial=TokenScope.READ,  # the least it needs, as on Docker Hub
        widget=forms.RadioSelect,
        help_text="Choose read-only unless the token pushes images or changes settings.",
    )
