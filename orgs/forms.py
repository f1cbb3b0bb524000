"""Forms for organisations and teams. Input is validated as typed: never trimmed or lowered."""

from django import forms

from orgs.naming import ORG_NAME_MAX_LENGTH, org_name_error


class OrganizationCreateForm(forms.Form):
    name = forms.CharField(
        label="Organization name",
        strip=False,
        max_length=100,
        help_text="Your organization's namespace: 4 to 30 lowercase letters and digits.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "maxlength": ORG_NAME_MAX_LENGTH}),
    )

    def clean_name(self):
        name = self.cleaned_data["name"]
        error = org_name_error(name)
        if error:
            raise forms.ValidationError(error, code="invalid_name")
        return name


class TeamCreateForm(forms.Form):
    name = forms.CharField(
        label="Team name",
        strip=False,
        max_length=30,
        help_text="Lowercase letters, digits, '-' and '_', up to 30 characters.",
    )
    description = forms.CharField(label="Description", required=False, max_length=200)
