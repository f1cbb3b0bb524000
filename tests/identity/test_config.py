"""OIDC_PROVIDERS: what the settings accept, and why they refuse the rest (no database)."""

import pytest

from identity.config import Provider, ProviderConfigError, providers_from

GOOD = {
    "id": "corp",
    "label": "Example Corp",
    "issuer": "https://login.example.com/realms/corp",
    "client_id": "iam-portal",
    "client_secret": "s3cret",
}


def test_a_provider_with_defaults():
    (provider,) = providers_from([GOOD])
    assert provider == Provider(**GOOD)
    assert provider.scope == "openid email profile"
    assert provider.groups_claim == "groups"
    assert provider.metadata_url == (
        "https://login.example.com/realms/corp/.well-known/openid-configuration"
    )


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        ({"id": "corp"}, "must be a JSON list"),
        ([GOOD, GOOD], "must be unique"),
        ([{**GOOD, "id": "Corp!"}], "must be unique, 1 to 30 lowercase"),
        ([{k: v for k, v in GOOD.items() if k != "client_secret"}], "missing client_secret"),
        ([{**GOOD, "secret": "x"}], "unknown secret"),
        ([{**GOOD, "issuer": "login.example.com"}], "issuer must be an http(s) URL"),
        ([{**GOOD, "scope": "email profile"}], "scope must include openid"),
        (["corp"], "is not an object"),
    ],
)
def test_wrong_configurations_say_why(raw, words):
    with pytest.raises(ProviderConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
        providers_from(raw)
