"""The activity pages' filters (a GET form: bad input is a form error, never a 500)."""

from datetime import UTC, date, datetime, time, timedelta

from django import forms

from policies.engine import Outcome


class ActivityFilterForm(forms.Form):
    """Filters for the activity pages: member (exact username; owners only), image (part of the
    repository name), outcome and a date range (days in UTC, both ends included)."""

    member = forms.CharField(
        label="Member",
        required=False,
        max_length=150,
        widget=forms.TextInput(attrs={"placeholder": "username", "spellcheck": "false"}),
    )
    image = forms.CharField(
        label="Image contains",
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"placeholder": "e.g. ubuntu, someone/", "spellcheck": "false"}
        ),
    )
    outcome = forms.ChoiceField(
        label="Outcome",
        required=False,
        choices=[("", "Any outcome"), *((o.value, o.label) for o in Outcome)],
    )
    since = forms.DateField(
        label="From (UTC)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To (UTC)", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, with_member: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if not with_member:
            del self.fields["member"]

    def clean_image(self):
        return self.cleaned_data["image"].strip().lower()

    def clean_member(self):
        return self.cleaned_data["member"].strip()

    def clean(self):
        cleaned = super().clean()
        since, until = cleaned.get("since"), cleaned.get("until")
        if since and until and since > until:
            self.add_error("until", "The end of the range is before its start.")
        return cleaned

    def as_filters(self) -> dict:
        """The queryset filters the valid form asks for (only after ``is_valid()``)."""
        data = self.cleaned_data
        filters = {}
        if data.get("member"):
            filters["username"] = data["member"]
        if data["image"]:
            filters["repository__contains"] = data["image"]
        if data["outcome"]:
            filters["outcome"] = data["outcome"]
        if data["since"]:
            filters["decided_at__gte"] = _start_of(data["since"])
        if data["until"] and data["until"] < date.max:
            filters["decided_at__lt"] = _start_of(data["until"] + timedelta(days=1))
        return filters


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=UTC)
