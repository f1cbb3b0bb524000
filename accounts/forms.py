"""The profile form, and Django's password-reset form with a limit on mails. Password change
uses Django's own form."""

import hashlib
import logging

from django import forms
from django.contrib.auth.forms import PasswordResetForm
from django.core.cache import cache

from accounts.services import NAME_MAX_LENGTH

logger = logging.getLogger(__name__)
RESET_MAIL_INTERVAL = 300  # seconds between two password-reset mails to one address


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
        kwargs["initial"] = {
            "first_name": user.first_name,
            "last_name": user.last_name,
            "email": user.email,
            **(kwargs.get("initial") or {}),
        }
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


class ThrottledPasswordResetForm(PasswordResetForm):
    """Django's reset form, sending at most one e-mail per address every
    :data:`RESET_MAIL_INTERVAL` seconds, so that nobody can flood a mailbox through the portal.
    The page says the same either way; the counter is in the shared cache (every worker sees
    it), and when the cache can't be reached no mail is sent."""

    def get_users(self, email):
        key = "password-reset:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()
        try:
            first = cache.add(key, 1, timeout=RESET_MAIL_INTERVAL)
        except Exception as error:  # noqa: BLE001 - whatever the cache raises, send nothing
            logger.error("Password reset not sent: the shared cache failed: %s", error)
            return iter(())
        if not first:
            logger.info("Password reset not sent: one was sent to that address recently")
            return iter(())
        return super().get_users(email)
