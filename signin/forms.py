"""The one form of the sign-in page: which organisations its files and commands list."""

from django import forms


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
