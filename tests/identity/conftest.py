"""A real OpenID provider for the single sign-on tests: Canaille (Authlib's server side),
started in-process on a free port by the ``pytest-iam`` plugin, spoken to over HTTP. Missing,
it skips these tests locally and fails them in CI (``require_tool``)."""

import importlib.util
import uuid
from urllib.parse import urlsplit

import pytest
import requests

from identity.client import _client
from identity.config import Provider
from tests.conftest import require_tool

HAVE_IAM = importlib.util.find_spec("pytest_iam") is not None
PROVIDER_ID = "corp"
LABEL = "Corp IdP"
DOMAIN = "corp.example"


def start_idp(request, settings, host="http://testserver") -> "Idp":
    """The provider, registered as ``corp`` in ``OIDC_PROVIDERS`` with a new client whose
    redirect URI is ``host``'s callback."""
    require_tool(HAVE_IAM, "pytest-iam (a local OpenID provider)")
    return Idp(request.getfixturevalue("iam_server"), settings, host)


@pytest.fixture
def idp(request, settings):
    """The provider for Django's test client; its ``sign_in(client, person)`` runs the whole
    redirect flow for a Canaille user and returns the portal's last response."""
    return start_idp(request, settings)


class Idp:
    def __init__(self, server, settings, host):
        self.server = server
        self.host = host
        secret = uuid.uuid4().hex
        with server.app.app_context():
            self.oidc_client = server.models.Client(
                client_id=uuid.uuid4().hex,
                client_secret=secret,
                client_name="IAM portal",
                redirect_uris=[f"{host}/sso/{PROVIDER_ID}/callback/"],
                grant_types=["authorization_code"],
                response_types=["code"],
                token_endpoint_auth_method="client_secret_basic",
                scope=["openid", "profile", "email", "groups"],
            )
            server.backend.save(self.oidc_client)
            self.oidc_client.audience = [self.oidc_client]  # the ID token's aud: this client
            server.backend.save(self.oidc_client)
        self.provider = Provider(
            id=PROVIDER_ID,
            label=LABEL,
            issuer=server.url.rstrip("/"),
            client_id=self.oidc_client.client_id,
            client_secret=secret,
            scope="openid email profile groups",
        )
        settings.OIDC_PROVIDERS = (self.provider,)
        settings.SSO_LINK_EMAIL_DOMAINS = [DOMAIN]
        _client.cache_clear()
        self.verify_emails(True)

    def verify_emails(self, verified: bool) -> None:
        """Whether the provider marks e-mail addresses verified (``email_verified``)."""
        mapping = self.server.app.config["CANAILLE_OIDC"]["USERINFO_MAPPING"]
        mapping["EMAIL_VERIFIED"] = "true" if verified else "false"

    def person(self, user_name: str, *, email: str | None = None, groups=(), **extra):
        """A person at the provider, in ``groups`` (created as needed)."""
        extra.setdefault("display_name", user_name)
        extra.setdefault("emails", [email or f"{user_name}@{DOMAIN}"])
        user = self.server.random_user(user_name=user_name, **extra)
        self.set_groups(user, groups)
        return user

    def set_groups(self, user, groups) -> None:
        with self.server.app.app_context():
            backend, models = self.server.backend, self.server.models
            for group in backend.query(models.Group):
                if user in group.members and group.display_name not in groups:
                    group.members = [m for m in group.members if m != user]
                    backend.save(group)
            for name in groups:
                group = backend.get(models.Group, display_name=name)
                if group is None:
                    group = models.Group(display_name=name, members=[user])
                elif user not in group.members:
                    group.members = [*group.members, user]
                backend.save(group)

    def authorize(self, client, person, path=None):
        """Start at the portal, sign in at the provider as ``person``; the callback URL the
        provider sends the browser back to."""
        response = client.get(path or f"/sso/{PROVIDER_ID}/login/")
        assert response.status_code == 302, response.content[:300]
        self.server.login(person)
        self.server.consent(person, self.oidc_client)
        try:
            answer = requests.get(response["Location"], allow_redirects=False, timeout=10)
        finally:
            self.server.logout()
        assert answer.status_code == 302, answer.text[:300]
        location = urlsplit(answer.headers["Location"])
        return f"{location.path}?{location.query}"

    def sign_in(self, client, person):
        return client.get(self.authorize(client, person))
