"""The OpenID Connect providers the operator configured (``OIDC_PROVIDERS``), read once by the
settings. Pure: no Django models, so that ``portal/settings.py`` can validate at start-up."""

import re
from dataclasses import dataclass, field

PROVIDER_ID_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,29}")
DEFAULT_SCOPE = "openid email profile"
DEFAULT_GROUPS_CLAIM = "groups"


class ProviderConfigError(ValueError):
    """``OIDC_PROVIDERS`` is not a list of valid provider objects; the message says why."""


@dataclass(frozen=True)
class Provider:
    """One OpenID provider: ``id`` is in the callback URL (``/sso/<id>/callback/``), ``label``
    on its sign-in button; ``issuer`` is where discovery starts
    (``<issuer>/.well-known/openid-configuration``)."""

    id: str
    label: str
    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    scope: str = DEFAULT_SCOPE
    groups_claim: str = DEFAULT_GROUPS_CLAIM

    @property
    def metadata_url(self) -> str:
        return self.issuer.rstrip("/") + "/.well-known/openid-configuration"


def providers_from(raw) -> tuple[Provider, ...]:
    """Providers from the decoded ``OIDC_PROVIDERS`` JSON: a list of objects with ``id``,
    ``label``, ``issuer``, ``client_id``, ``client_secret`` and optionally ``scope`` and
    ``groups_claim``.

    :raises ProviderConfigError: a field is missing or wrong, or two providers share an id.
    """
    if not isinstance(raw, list):
        raise ProviderConfigError("OIDC_PROVIDERS must be a JSON list of provider objects.")
    providers, seen = [], set()
    required = ("id", "label", "issuer", "client_id", "client_secret")
    for number, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            raise ProviderConfigError(f"OIDC_PROVIDERS entry {number} is not an object.")
        missing = [key for key in required if not isinstance(item.get(key), str) or not item[key]]
        unknown = set(item) - {*required, "scope", "groups_claim"}
        if missing or unknown:
            raise ProviderConfigError(
                f"OIDC_PROVIDERS entry {number}: "
                + "; ".join(
                    part
                    for part in (
                        missing and f"missing {', '.join(missing)}",
                        unknown and f"unknown {', '.join(sorted(unknown))}",
                    )
                    if part
                )
            )
        if not PROVIDER_ID_RE.fullmatch(item["id"]) or item["id"] in seen:
            raise ProviderConfigError(
                f"OIDC_PROVIDERS entry {number}: id {item['id']!r} must be unique, 1 to 30 "
                "lowercase letters, digits and '-'."
            )
        if not re.match(r"https?://", item["issuer"]):
            raise ProviderConfigError(
                f"OIDC_PROVIDERS entry {number}: issuer must be an http(s) URL."
            )
        scope = item.get("scope", DEFAULT_SCOPE)
        if "openid" not in str(scope).split():
            raise ProviderConfigError(f"OIDC_PROVIDERS entry {number}: scope must include openid.")
        seen.add(item["id"])
        providers.append(Provider(**{**item, "scope": scope}))
    return tuple(providers)
