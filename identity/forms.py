"""The owners' form that maps a provider's group to a team."""

from django import forms

from identity.selectors import configured_providers
from orgs.selectors import organization_teams


class GroupMappingForm(forms.Form):
    """Which provider's group goes to which of the organisation's teams (owners included)."""

    provider = forms.ChoiceField(label="Identity provider")
    group = forms.CharField(
        label="Group",
        max_length=255,
        help_text="The group's name exactly as the provider sends it in the groups claim.",
    )
    team = forms.ChoiceField(label="Team")

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [(p.id, p.label) for p in configured_providers()]
        self.teams = {team.name: team for team in organization_teams(organization=organization)}
        self.fields["team"].choices = [(name, name) for name in self.teams]

    def clean_group(self):
        return self.cleaned_data["group"].strip()
