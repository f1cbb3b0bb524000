"""How API requests are authenticated (Django REST framework authentication classes).

``Authorization: Bearer`` comes first: an access token, or a bearer from
``POST /v2/auth/token``. A bearer is not sent by browsers on their own, so such requests need
no CSRF token. Then the browser session, with Django REST framework's
:class:`~rest_framework.authentication.SessionAuthentication`, which enforces CSRF on every
unsafe method: the docs page's "Try it out" and the portal's own pages can call the API as the
signed-in user, and another site cannot make a visitor's browser do it.
"""

from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed

from api.credentials import from_bearer

MAX_BEARER = 4096


class BearerAuthentication(BaseAuthentication):
    """``Authorization: Bearer <access token or bearer>``; ``request.auth`` is the
    :class:`api.credentials.ApiCredential`. Another scheme is left to the next class; a
    malformed, unknown, expired or revoked bearer is a 401 (never a fallback to the session)."""

    def authenticate(self, request):
        scheme, _, value = get_authorization_header(request).partition(b" ")
        if scheme.lower() != b"bearer":
            return None
        try:
            value = value.decode("ascii").strip()
        except UnicodeDecodeError:
            raise AuthenticationFailed("Malformed bearer token.") from None
        if not value or len(value) > MAX_BEARER or not value.isprintable() or " " in value:
            raise AuthenticationFailed("Malformed bearer token.")
        credential = from_bearer(value)
        if credential is None:
            raise AuthenticationFailed(
                "Invalid, expired or revoked bearer token: sign in again at POST /v2/auth/token "
                "or use a working access token."
            )
        return credential.user, credential

    def authenticate_header(self, request):
        return 'Bearer realm="iam-portal"'
