"""Forms for inviting people and for creating an account."""

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.db.models import Case, IntegerField, Value, When

from orgs.models import MEMBERS_TEAM, OWNERS_TEAM, Organization, Team


class TeamChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name} (manage the organization)" if obj.is_owners else obj.name


class InvitationCreateForm(forms.Form):
    """Whom to invite into which team. ``team`` (a team name, e.g. from a team's page) or else
    ``members`` is preselected, never ``owners``; choosing ``owners`` needs ``confirm_owner``
    (the page asks for it in a second step)."""

    invitee = forms.CharField(
        label="Username or e-mail address",
        max_length=254,
        help_text="An existing user's exact username, or the e-mail address of someone to invite "
        "(with or without an account).",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    team = TeamChoiceField(label="Team", queryset=Team.objects.none())
    confirm_owner = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, organization: Organization, team: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        teams = organization.teams.annotate(
            owners_last=Case(
                When(name=OWNERS_TEAM, then=Value(1)), default=Value(0), output_field=IntegerField()
            )
        ).order_by("owners_last", "name")
        field = self.fields["team"]
        field.queryset = teams
        choosable = teams.exclude(name=OWNERS_TEAM)
        preselected = (
            choosable.filter(name=team).first() or choosable.filter(name=MEMBERS_TEAM).first()
        )
        if preselected is None:
            field.empty_label = "Choose a team"
        else:
            field.empty_label = None
            field.initial = preselected.pk

    @property
    def needs_owner_confirmation(self) -> bool:
        """Valid, into the owners team, and not yet confirmed."""
        return self.cleaned_data["team"].is_owners and not self.cleaned_data["confirm_owner"]


class SignUpForm(UserCreationForm):
    """Username and password (twice), checked by Django's password validators; the username
    must not differ only in case from an existing one."""

    def __init__(self, *args, email: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        # The password validators compare the password with the account's attributes.
        self.instance.email = email
        self.fields["username"].help_text = (
            "Letters, digits and @ . + - _ only, up to 150 characters. This is also your "
            "registry login."
        )
