"""Forms for Image Access Management. Tampered input is refused, never guessed at; the rules
about values (patterns, expiries, who may ask) are the services', which the views call."""

from datetime import UTC, datetime, time

from django import forms

from orgs.models import OWNERS_TEAM, Team
from policies.models import (
    GRANT_FIELDS,
    POLICY_FIELDS,
    AccessPolicy,
    TeamGrant,
    policy_field_label,
)
from policies.references import InvalidReference, parse_reference

TRUE_VALUES = frozenset({"on", "true", "1"})
FALSE_VALUES = frozenset({"off", "false", "0"})


class RawCheckboxInput(forms.CheckboxInput):
    """A checkbox that hands the submitted value to the field as sent (Django's own turns any
    unknown string into True)."""

    def value_from_datadict(self, data, files, name):
        return data.get(name)


class StrictBooleanField(forms.BooleanField):
    """A checkbox that accepts only what browsers and API clients send for a boolean.

    A missing value is False (an unticked checkbox); anything but on/true/1/off/false/0 is an
    error instead of being read as True.
    """

    def to_python(self, value):
        if value in (None, ""):
            return False
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in TRUE_VALUES:
            return True
        if isinstance(value, str) and value.lower() in FALSE_VALUES:
            return False
        raise forms.ValidationError("Expected a boolean (on/off, true/false).", code="invalid")

    widget = RawCheckboxInput

    def validate(self, value):
        """No 'required' check: False is a legitimate answer."""


class SettingsForm(forms.Form):
    """A set of boolean settings edited from a policy version: one strict checkbox per field of
    ``settings_fields`` (labelled from ``settings_model``) and the version being edited."""

    settings_fields: tuple[str, ...] = ()
    settings_model = None
    #: Keys the form accepts besides the settings and its own fields (and ignores).
    other_keys: frozenset[str] = frozenset()

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.allowed_keys = frozenset(
            {*self.settings_fields, *self.fields, *self.other_keys, "csrfmiddlewaretoken"}
        )
        for field in self.settings_fields:
            self.fields[field] = StrictBooleanField(
                label=policy_field_label(field, self.settings_model), required=False
            )

    def settings_values(self) -> dict[str, bool]:
        """The submitted settings (only valid after ``is_valid()``)."""
        return {field: self.cleaned_data[field] for field in self.settings_fields}

    def clean(self):
        cleaned = super().clean()
        unknown = sorted(set(self.data.keys()) - self.allowed_keys)
        if unknown:
            raise forms.ValidationError(
                "Unknown field(s): %(fields)s. Nothing was changed.",
                code="unknown_fields",
                params={"fields": ", ".join(unknown[:10])},
            )
        for key in self.allowed_keys:
            if len(self.data.getlist(key)) > 1:
                raise forms.ValidationError(
                    "Field %(field)s was sent more than once. Nothing was changed.",
                    code="duplicate_field",
                    params={"field": key},
                )
        return cleaned


class AccessPolicyForm(SettingsForm):
    """The Org Permissions form: one checkbox per policy setting (their names match Docker
    Hub's settings API).

    ``confirm`` confirms a save that blocks pulls members made recently: ``1``, or the
    :meth:`signature` of the settings the confirmation showed (what the page sends, so that
    settings changed after the confirmation are shown again). ``image`` is the page's
    "Check an image" field, which belongs to this form so that checking keeps the unsaved
    settings; saving ignores it.
    """

    settings_fields = POLICY_FIELDS
    settings_model = AccessPolicy
    other_keys = frozenset({"image"})

    confirm = forms.CharField(required=False, max_length=40, widget=forms.HiddenInput)

    @staticmethod
    def signature(values) -> str:
        """The settings as a short text, e.g. '1010' (one digit per setting, in order)."""
        return "".join("1" if values[field] else "0" for field in POLICY_FIELDS)

    def confirmed(self) -> bool:
        """Whether the owner confirmed these settings (only valid after ``is_valid()``)."""
        confirm = self.cleaned_data["confirm"]
        return confirm == "1" or confirm == self.signature(self.settings_values())


class TeamGrantsForm(SettingsForm):
    """Every team's grant in one form (the Team grants page's one Save): a strict checkbox per
    team and grant setting, named ``<team>-<setting>``, and the policy version being edited.
    ``teams`` are the organisation's teams with their grants (``team.grant``, or none); any
    other key is refused, as in every settings form."""

    def __init__(self, *args, teams, **kwargs):
        super().__init__(*args, **kwargs)
        self.teams = list(teams)
        for team in self.teams:
            grant = getattr(team, "grant", None)
            for field in GRANT_FIELDS:
                self.fields[self.key(team.name, field)] = StrictBooleanField(
                    label=f"team {team.name}: {policy_field_label(field, TeamGrant)}",
                    required=False,
                    initial=bool(grant and getattr(grant, field)),
                )
        self.allowed_keys = self.allowed_keys | frozenset(self.fields)

    @staticmethod
    def key(team: str, field: str) -> str:
        return f"{team}-{field}"

    def rows(self) -> list[tuple]:
        """``(team, [(setting label, bound field), ...])`` for each team, for the table."""
        labels = self.labels()
        return [
            (
                team,
                [
                    (label, self[self.key(team.name, field)])
                    for label, field in zip(labels, GRANT_FIELDS, strict=True)
                ],
            )
            for team in self.teams
        ]

    @staticmethod
    def labels() -> list[str]:
        """The grant settings' labels, the table's columns."""
        return [policy_field_label(field, TeamGrant) for field in GRANT_FIELDS]

    def grants(self) -> dict[str, dict[str, bool]]:
        """``{team name: {setting: value}}`` (only valid after ``is_valid()``)."""
        return {
            team.name: {
                field: self.cleaned_data[self.key(team.name, field)] for field in GRANT_FIELDS
            }
            for team in self.teams
        }


class ImageCheckForm(forms.Form):
    """'Check an image': a reference typed by a member or owner."""

    image = forms.CharField(
        label="Image reference",
        strip=False,
        max_length=1000,
        widget=forms.TextInput(
            attrs={
                "placeholder": "e.g. ubuntu:22.04, bitnami/redis, acme/app",
                "spellcheck": "false",
            }
        ),
    )

    def clean_image(self):
        try:
            return parse_reference(self.cleaned_data["image"])
        except InvalidReference as error:
            raise forms.ValidationError(str(error), code="invalid_reference") from None


def expiry_of_day(day) -> datetime | None:
    """The moment an expiry chosen as a day means: 00:00 UTC that day (an entry applies until
    then)."""
    return datetime.combine(day, time(0, 0), tzinfo=UTC) if day else None


class ExpiryField(forms.DateField):
    """An expiry day (``YYYY-MM-DD``); the cleaned value is 00:00 UTC that day."""

    widget = forms.DateInput(attrs={"type": "date"})

    def clean(self, value):
        return expiry_of_day(super().clean(value))


class OrganizationTeamField(forms.ModelChoiceField):
    """One of the organisation's teams other than owners (of those ``member`` is in, if given),
    by name; empty for the whole organisation."""

    def __init__(self, *, organization, member=None, **kwargs):
        teams = Team.objects.filter(organization=organization).exclude(name=OWNERS_TEAM)
        if member is not None:
            teams = teams.filter(memberships__user=member)
        super().__init__(
            queryset=teams.order_by("name"),
            to_field_name="name",
            required=False,
            empty_label="The whole organization",
            **kwargs,
        )

    def label_from_instance(self, obj):
        return f"Team {obj.name}"


class AllowlistEntryForm(forms.Form):
    """Add an allowlist entry (checked by :func:`policies.services.allowlist_entry_add`)."""

    pattern = forms.CharField(
        label="Repository pattern",
        strip=False,
        max_length=600,
        help_text="someone/tool (one repository; ubuntu is library/ubuntu), someone/* (one "
        "level below someone/) or someone/** (any depth).",
        widget=forms.TextInput(attrs={"placeholder": "e.g. someone/tool", "spellcheck": "false"}),
    )
    reason = forms.CharField(label="Reason", max_length=600)
    expires_at = ExpiryField(
        label="Expires on (optional)",
        required=False,
        help_text="The entry stops applying at 00:00 UTC that day.",
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"] = OrganizationTeamField(organization=organization, label="For")
