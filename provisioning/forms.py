from django import forms


class ScimTokenCreateForm(forms.Form):
    name = forms.CharField(
        label="Token name",
        max_length=100,
        help_text="Which identity provider uses it, e.g. 'Okta'.",
    )
