"""The sign-in forms of the site and of the admin, refusing a locked-out account and address."""

import logging

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from portal import throttle

logger = logging.getLogger(__name__)


class ThrottledSignInMixin:
    """Refuse a locked (account, address) with a form error before the password is hashed,
    and say so when this failure was the one that locked it."""

    def clean(self):
        username = self.cleaned_data.get("username")
        if username:
            self._refuse_if_locked(username)
        try:
            return super().clean()
        except ValidationError:
            if username:
                self._refuse_if_locked(username)
            raise

    def _refuse_if_locked(self, username: str) -> None:
        try:
            locked = throttle.lockout(self.request, username)
        except throttle.ThrottleUnavailable as error:
            logger.error("Sign-in refused: failure counters unavailable: %s", error)
            raise ValidationError(
                "Sign-in is temporarily unavailable. Try again in a minute.", code="unavailable"
            ) from None
        if locked is not None:
            logger.info("Sign-in refused to %r from %s: locked", username, locked.address)
            raise ValidationError(locked.message, code="locked")


class SignInForm(ThrottledSignInMixin, AuthenticationForm):
    """``/accounts/login/``."""


class AdminSignInForm(ThrottledSignInMixin, AdminAuthenticationForm):
    """``/admin/login/``."""
