"""Forms for Image Access Management. Tampered input is refused, never guessed at."""

from django import forms

from policies.models import POLICY_FIELDS, policy_field_label
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


class AccessPolicyForm(forms.Form):
    """The Org Permissions form: one strict checkbox per policy setting (their names match
    Docker Hub's settings API) and the version the owner is editing."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    allowed_keys = frozenset({*POLICY_FIELDS, "version", "csrfmiddlewaretoken"})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in POLICY_FIELDS:
            self.fields[field] = StrictBooleanField(label=policy_field_label(field), required=False)

    def policy_values(self) -> dict[str, bool]:
        """The submitted settings (only valid after ``is_valid()``)."""
        return {field: self.cleaned_data[field] for field in POLICY_FIELDS}

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


class SignInOrgsForm(forms.Form):
    """Which organisations the sign-in files list: this one, plus others the owner owns."""

    also = forms.MultipleChoiceField(
        label="Also allow these organizations you own",
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, organization, owned_names, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["also"].choices = [
            (name, name) for name in owned_names if name != organization.name
        ]
        self.fields["also"].error_messages["invalid_choice"] = (
            "%(value)s is not another organization you own."
        )

    def clean_also(self):
        also = self.cleaned_data["also"]
        repeated = sorted({name for name in also if also.count(name) > 1})
        if repeated:
            raise forms.ValidationError(f"{', '.join(repeated)} is listed more than once.")
        return also

    def org_names(self) -> list[str]:
        """The organisations to list, this one first (only valid after ``is_valid()``)."""
        return [self.organization.name, *sorted(self.cleaned_data.get("also", []))]
