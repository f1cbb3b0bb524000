"""What the bench sends: each scenario is one request and what every answer to it must be.

A scenario is plain data. The same object drives the in-process measurement (Django's test
``Client``) and the load (wrk with ``bench/wrk/check.lua``, configured through the environment
from :meth:`Scenario.wrk_env`). To measure something new, add a scenario (and the data it needs
to ``bench/dataset.py``); a POST is ``method="POST"`` with a ``body`` and a ``Content-Type``
header.
"""

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

import jwt
from cryptography import x509


@dataclass(frozen=True)
class Grant:
    """What the registry token in a token-service answer must hold: ``action`` on ``repository``
    for ``subject``."""

    subject: str
    repository: str
    action: str

    @property
    def access(self) -> list[dict]:
        """The expected ``access`` claim, as the token service writes it."""
        return [{"type": "repository", "name": self.repository, "actions": [self.action]}]


@dataclass(frozen=True)
class Scenario:
    """One request, repeated under load, and the check each answer must pass.

    ``baseline`` marks the floor (``/healthz``): every other scenario is reported as a ratio to
    the baseline round of the same cycle.
    """

    name: str
    description: str
    path: str
    method: str = "GET"
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    expect_status: int = 200
    expect_body: str | None = None
    expect_grant: Grant | None = None
    baseline: bool = False

    def wrk_env(self, check_every: int) -> dict[str, str]:
        """The environment that makes ``check.lua`` send this request and check its answers."""
        env = {
            "BENCH_METHOD": self.method,
            "BENCH_PATH": self.path,
            "BENCH_HEADERS": "\n".join(f"{name}: {value}" for name, value in self.headers.items()),
            "BENCH_BODY": self.body,
            "BENCH_EXPECT_STATUS": str(self.expect_status),
            "BENCH_CHECK_EVERY": str(check_every),
        }
        if self.expect_body is not None:
            env["BENCH_EXPECT_BODY"] = self.expect_body
        if self.expect_grant is not None:
            env.update(
                BENCH_EXPECT_SUBJECT=self.expect_grant.subject,
                BENCH_EXPECT_REPOSITORY=self.expect_grant.repository,
                BENCH_EXPECT_ACTION=self.expect_grant.action,
            )
        return env


def basic_authorization(username: str, secret: str) -> str:
    """The ``Authorization`` header value of HTTP Basic authentication."""
    return "Basic " + base64.b64encode(f"{username}:{secret}".encode()).decode()


def token_scenario(
    *, name: str, description: str, username: str, secret: str, service: str, grant: Grant
) -> Scenario:
    """A registry asking the token service for ``grant`` with an access token (an allowed pull)."""
    scope = f"repository:{grant.repository}:{grant.action}"
    return Scenario(
        name=name,
        description=description,
        path="/auth/token?" + urlencode({"service": service, "scope": scope}),
        headers={"Authorization": basic_authorization(username, secret)},
        expect_grant=grant,
    )


HEALTHZ = Scenario(
    name="healthz",
    description="GET /healthz: the floor (no database)",
    path="/healthz",
    expect_body="ok\n",
    baseline=True,
)


def token_verifier(*, certificate_pem: bytes, issuer: str, audience: str) -> Callable[[str], dict]:
    """A function returning a registry token's claims once its signature, issuer, audience and
    expiry are verified with the token service's certificate (raises ``jwt.InvalidTokenError``)."""
    public_key = x509.load_pem_x509_certificate(certificate_pem).public_key()

    def claims_of(token: str) -> dict:
        algorithm = jwt.get_unverified_header(token)["alg"]
        return jwt.decode(
            token, public_key, algorithms=[algorithm], audience=audience, issuer=issuer
        )

    return claims_of


def answer_problem(
    scenario: Scenario, status: int, body: bytes, claims_of: Callable[[str], dict]
) -> str | None:
    """Why one answer fails the scenario's check; None if it passes.

    The strict form of ``check.lua``'s check, for the few requests made before the load: the
    token's signature is verified and its ``access`` claim must be exactly the expected one.
    """
    if status != scenario.expect_status:
        return f"status {status}: {body[:200]!r}"
    if scenario.expect_body is not None and body != scenario.expect_body.encode():
        return f"unexpected body {body[:200]!r}"
    grant = scenario.expect_grant
    if grant is None:
        return None
    try:
        claims = claims_of(json.loads(body)["token"])
    except (ValueError, KeyError, TypeError, jwt.InvalidTokenError) as error:
        return f"no valid token in the answer ({error}): {body[:200]!r}"
    if claims.get("sub") != grant.subject or claims.get("access") != grant.access:
        return (
            f"the token grants {claims.get('access')!r} to {claims.get('sub')!r}; "
            f"expected {grant.access!r} to {grant.subject!r}"
        )
    return None
