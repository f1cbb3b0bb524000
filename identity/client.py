"""The OpenID Connect relying party: Authlib's Django client does the protocol (discovery from
the issuer, the authorization code flow with PKCE, state and nonce kept in the session, the ID
token's signature checked against the provider's JWKS, its issuer, audience, expiry and nonce).
This module only turns what can go wrong into :class:`SsoFailed` with words for people."""

import functools
import logging

import requests
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError
from authlib.integrations.django_client import OAuth
from django.conf import settings
from joserfc.errors import ExpiredTokenError, JoseError

from identity.config import Provider

logger = logging.getLogger(__name__)


class SsoFailed(Exception):
    """Single sign-on did not work; ``message`` is for the person, ``status`` for the page
    (400: the answer was wrong or stale, 502: the provider could not be reached)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


@functools.lru_cache(maxsize=32)
def _client(provider: Provider, timeout: float):
    """One Authlib client per provider configuration: it keeps the discovery document and the
    provider's keys (fetched again when an ID token names an unknown key)."""
    return OAuth().register(
        name=provider.id,
        client_id=provider.client_id,
        client_secret=provider.client_secret,
        server_metadata_url=provider.metadata_url,
        client_kwargs={
            "scope": provider.scope,
            "code_challenge_method": "S256",
            "default_timeout": timeout,
        },
    )


def client_for(provider: Provider):
    return _client(provider, settings.OIDC_TIMEOUT_SECONDS)


def authorization_redirect(request, provider: Provider, redirect_uri: str):
    """The redirect to the provider's sign-in page (state, nonce and PKCE verifier are kept in
    the session).

    :raises SsoFailed: the provider's discovery document could not be read.
    """
    try:
        return client_for(provider).authorize_redirect(request, redirect_uri)
    except (requests.RequestException, ValueError, KeyError, RuntimeError) as error:
        logger.warning("Single sign-on with %s: provider unavailable: %s", provider.id, error)
        raise SsoFailed(
            f"{provider.label} could not be reached. Try again in a moment, or ask your "
            "administrator.",
            status=502,
        ) from None


def verified_claims(request, provider: Provider) -> dict:
    """The claims of the person the provider sent back: those of the verified ID token, with
    the userinfo endpoint's for what the ID token leaves out (only when both have the same
    ``sub``).

    :raises SsoFailed: wrong or reused state, an error from the provider, a token exchange
        that failed, an ID token that is expired, foreign, badly signed or has the wrong nonce,
        or a provider that cannot be reached.
    """
    client = client_for(provider)
    try:
        # The state is checked first (no request to the provider for a forged callback); then
        # Authlib checks the ID token's signature, expiry and nonce, and these two claims.
        token = client.authorize_access_token(
            request,
            claims_options={
                "iss": {"essential": True, "values": [provider.issuer]},
                "aud": {"essential": True, "values": [provider.client_id]},
            },
        )
        claims = dict(token.get("userinfo") or {})
        if not claims:
            raise SsoFailed(f"{provider.label} sent no ID token: the sign-in was not completed.")
        if client.load_server_metadata().get("userinfo_endpoint"):
            extra = dict(client.userinfo(token=token))
            if extra.get("sub") == claims.get("sub"):
                claims = {**extra, **claims}
        return claims
    except MismatchingStateError:
        raise SsoFailed(
            "This sign-in link was already used, has expired or was started in another browser. "
            "Start again from the sign-in page."
        ) from None
    except ExpiredTokenError:
        raise SsoFailed(
            f"{provider.label}'s answer has expired. Start again from the sign-in page."
        ) from None
    except JoseError as error:
        logger.warning("Single sign-on with %s: ID token refused: %r", provider.id, error)
        raise SsoFailed(
            f"{provider.label}'s answer could not be verified (its ID token was not issued for "
            "this portal, or not by this provider, or is not for this sign-in). Nothing was "
            "changed. Start again from the sign-in page."
        ) from None
    except AuthlibBaseError as error:
        logger.warning("Single sign-on with %s: refused: %s", provider.id, error)
        description = getattr(error, "description", "") or getattr(error, "error", "")
        raise SsoFailed(
            f"{provider.label} did not sign you in"
            + (f" ({description})" if description else "")
            + ". Start again from the sign-in page."
        ) from None
    except (requests.RequestException, ValueError, KeyError) as error:
        logger.warning("Single sign-on with %s: provider unavailable: %s", provider.id, error)
        raise SsoFailed(
            f"{provider.label} could not be reached to finish signing you in. Try again in a "
            "moment.",
            status=502,
        ) from None
