"""Who may call what, before a view looks anything up: signed in, and within the access
token's scope. Organisation access (non-member 404, member on an owner action 403) is
:class:`api.views.OrganizationView`'s."""

from rest_framework.permissions import SAFE_METHODS, BasePermission

from api.credentials import ApiCredential

READ_ONLY = (
    "This access token is read-only (repo:read): it can pull and read through the API, not "
    "change anything. Use a token with the repo:write scope."
)
NOT_WITH_TOKENS = (
    "Access tokens cannot manage access tokens (as on Docker Hub): get a bearer with your "
    "password at POST /v2/auth/token, or use the Access tokens page."
)


def _token(request):
    credential = request.auth
    return credential.token if isinstance(credential, ApiCredential) else None


ORGANIZATION_TOKENS = (
    "Organization access tokens pull and push at the registry; in the API they can only "
    "check an image (POST /api/v1/check) and say who they are (GET /api/v1/user)."
)


def organization_token(request):
    """The organisation token the request was made with, or None."""
    credential = request.auth
    return credential.organization_token if isinstance(credential, ApiCredential) else None


class SignedIn(BasePermission):
    """Any active user, however they signed in (anonymous: 401); an organisation token only
    on views that accept one (``organization_tokens = True``; elsewhere 403, saying why)."""

    message = ORGANIZATION_TOKENS

    def has_permission(self, request, view):
        if organization_token(request) is not None:
            return getattr(view, "organization_tokens", False)
        return bool(request.user and request.user.is_authenticated)


class WithinTokenScope(BasePermission):
    """A ``repo:read`` access token reads only: unsafe methods are refused (403, saying why),
    except on views that only read (``reads_only = True``, e.g. ``POST /api/v1/check``)."""

    message = READ_ONLY

    def has_permission(self, request, view):
        token = _token(request)
        if token is None or not token.read_only:
            return True
        return request.method in SAFE_METHODS or getattr(view, "reads_only", False)


class NotWithAccessToken(BasePermission):
    """Refuses callers signed in with an access token (403, saying why)."""

    message = NOT_WITH_TOKENS

    def has_permission(self, request, view):
        return _token(request) is None
