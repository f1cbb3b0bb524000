"""The portal's one authentication backend: the throttled password check of
:class:`core.throttle.ThrottledModelBackend`, plus the organisations' rule that an account
required to use single sign-on may not sign in with its password
(:func:`orgs.selectors.password_sign_in_refusal`)."""

from core.throttle import ThrottledModelBackend
from orgs.selectors import password_sign_in_refusal


class SignInBackend(ThrottledModelBackend):
    """``AUTHENTICATION_BACKENDS``' only entry (the sign-in forms, the API and the token
    service all go through ``authenticate``)."""

    def refusal_after_password(self, user) -> str | None:
        return password_sign_in_refusal(user_id=user.pk, username=user.get_username())
