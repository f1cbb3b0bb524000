"""The sign-in forms of the site and of the admin, saying why a throttled sign-in is refused."""

import logging

from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError

from core import throttle

logger = logging.getLogger(__name__)


class ThrottledSignInMixin:
    """Refuse a locked account or address with a form error before the password is hashed
    (:mod:`core.throttle`), and say so when this failure was the one that locked it; say
    what to use instead when the account must sign in through single sign-on."""

    def clean(self):
        username = self.cleaned_data.get("username")
        if username:
            self._refuse_if_locked(username)
        try:
            return super().clean()
        except throttle.Busy as busy:
            raise ValidationError(busy.message, code="busy") from None
        except throttle.PasswordRefused as refused:
            raise ValidationError(refused.message, code="sso_required") from None
        except ValidationError:
            if username:
                self._refuse_if_locked(username)
            raise

    def _refuse_if_locked(self, username: str) -> None:
        locked = throttle.password_lockout(self.request, username)
        if locked is not None:
            logger.info("Sign-in refused to %r from %s: locked", username, locked.address)
            raise ValidationError(locked.message, code="locked")


class SignInForm(ThrottledSignInMixin, AuthenticationForm):
    """``/accounts/login/``."""


class AdminSignInForm(ThrottledSignInMixin, AdminAuthenticationForm):
    """``/admin/login/``."""
