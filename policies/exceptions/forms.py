"""Forms of exception requests: a member asks, an owner approves (the entry to add) or
declines (a note)."""

from datetime import timedelta

from django import forms
from django.utils import timezone

from policies.forms import ExpiryField, ImageCheckForm, OrganizationTeamField

#: An approved exception's default lifetime.
EXCEPTION_DAYS = 30


class ExceptionRequestForm(ImageCheckForm):
    """Ask the owners for an exception: the refused image and why."""

    justification = forms.CharField(
        label="Why do you need it?",
        max_length=1200,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ExceptionApproveForm(forms.Form):
    """Approve a request: the entry to add (pattern, team, expiry) and an optional note."""

    pattern = forms.CharField(label="Allow", strip=False, max_length=600)
    expires_at = ExpiryField(
        label="Until", help_text="The entry stops applying at 00:00 UTC that day."
    )
    note = forms.CharField(
        label="Note to the requester (optional)",
        required=False,
        max_length=1200,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, request, **kwargs):
        kwargs["initial"] = {
            "pattern": request.repository,
            "expires_at": (timezone.now() + timedelta(days=EXCEPTION_DAYS)).date(),
            **(kwargs.get("initial") or {}),
        }
        super().__init__(*args, **kwargs)
        self.fields["team"] = OrganizationTeamField(
            organization=request.organization, member=request.requester, label="For"
        )


class ExceptionDeclineForm(forms.Form):
    """Decline a request with a note for the requester (shown next to the approval form, hence
    its own element ids)."""

    note = forms.CharField(
        label="Note to the requester", max_length=1200, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, auto_id="id_decline_%s", **kwargs)
