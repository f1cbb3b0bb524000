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


class TeamUpdateForm(TeamCreateForm):
    """Rename a team or change its description."""


class TeamMemberAddForm(forms.Form):
    """Add one of the organisation's members to a team: a list of them to choose from, or
    (when there are more than :data:`CHOICES_LIMIT`) their username to type. Adding to the
    owners team asks the owner to confirm what it gives."""

    CHOICES_LIMIT = 100

    username = forms.CharField(label="Member", max_length=150, strip=False)
    confirm_owner = forms.BooleanField(required=False)

    def __init__(self, *args, candidates, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.team, self.candidates = team, candidates
        names = list(candidates.values_list("username", flat=True)[: self.CHOICES_LIMIT + 1])
        self.has_candidates = bool(names)
        if len(names) <= self.CHOICES_LIMIT:
            self.fields["username"].widget = forms.Select(
                choices=[("", "Choose a member…"), *((name, name) for name in names)]
            )
        else:
            self.fields["username"].help_text = "The username of a member of the organization."
        if team.is_owners:
            self.fields["confirm_owner"].required = True
            self.fields["confirm_owner"].label = (
                f"They will manage {team.organization.name} (members, teams, Image Access "
                "Management) and can pull any image"
            )
        else:
            del self.fields["confirm_owner"]

    def clean_username(self):
        user = self.candidates.filter(username=self.cleaned_data["username"]).first()
        if user is None:
            raise forms.ValidationError(
                f"{self.cleaned_data['username']} is not a member of "
                f"{self.team.organization.name} outside this team: invite people who are not "
                "members yet.",
                code="not_candidate",
            )
        return user
