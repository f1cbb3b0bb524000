"""Forms for organisations and teams. Input is validated as typed: never trimmed or lowered."""

from django import forms
from django.contrib.auth import get_user_model

from orgs.models import Team
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


class MemberAddForm(forms.Form):
    username = forms.CharField(label="Username", strip=False, max_length=150)
    team = forms.ModelChoiceField(label="Team", queryset=Team.objects.none(), empty_label=None)

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = organization.teams.order_by("name")

    def clean_username(self):
        username = self.cleaned_data["username"]
        user_model = get_user_model()
        try:
            user = user_model.objects.get(username=username)
        except user_model.DoesNotExist:
            raise forms.ValidationError(
                f"There is no user named '{username}'. They need an account first.",
                code="unknown_user",
            ) from None
        self.cleaned_data["user"] = user
        return username
