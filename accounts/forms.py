"""The profile form. Password change and reset use Django's own forms."""

from django import forms

from accounts.services import NAME_MAX_LENGTH


class ProfileForm(forms.Form):
    """Name and e-mail address. Changing the address asks for the current password: the
    address receives password-reset links, so whoever changes it could take the account."""

    first_name = forms.CharField(label="First name", max_length=NAME_MAX_LENGTH, required=False)
    last_name = forms.CharField(label="Last name", max_length=NAME_MAX_LENGTH, required=False)
    email = forms.EmailField(
        label="E-mail address",
        required=False,
        help_text="Password-reset links and invitations are sent here.",
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    current_password = forms.CharField(
        label="Current password",
        required=False,
        strip=False,
        help_text="Needed only to change your e-mail address.",
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )

    def __init__(self, *args, user, **kwargs):
        self.user = user
        kwargs.setdefault(
            "initial",
            {"first_name": user.first_name, "last_name": user.last_name, "email": user.email},
        )
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        email = cleaned.get("email")
        if email is not None and email.strip().lower() != (self.user.email or "").lower():
            password = cleaned.get("current_password") or ""
            if not password:
                self.add_error(
                    "current_password", "Enter your current password to change your e-mail address."
                )
            elif not self.user.check_password(password):
                self.add_error("current_password", "That is not your current password.")
        cleaned.pop("current_password", None)
        return cleaned
