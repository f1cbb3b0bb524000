"""Property-based fuzzing of the whole API with schemathesis: for every operation of the
OpenAPI schema the portal serves, generated requests (valid and invalid) go to the WSGI app
as the owner of acme, and every answer must be no server error and conform to the schema
(status code documented, body and headers as documented, invalid input refused).

Path parameters are drawn partly from objects that exist (acme, its teams, an allowlist
entry, an exception request, an access token), so that the fuzzing reaches past the 404s.
Runtime: ``FUZZ_EXAMPLES`` examples per operation (8 locally, 20 with ``CI=true``), a few
hundred requests in all.
"""

import os
import re

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.specs.openapi.checks import positive_data_acceptance

from orgs.models import TEAM_NAME_RE
from orgs.naming import ORG_NAME_RE
from tests.api.conftest import sign_in
from tests.conftest import IN_CI
from tests.factories import PASSWORD, add_entry, ask_exception, record_pulls, set_policy
from tokens.services import access_token_create

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", 20 if IN_CI else 8))


# Filled by the ``known`` fixture for each test, read while examples are drawn and sent.
KNOWN: dict[str, list] = {}
PENDING = "bearer-of-the-test"
VALID = {
    "org": re.compile(ORG_NAME_RE.pattern),
    "name": re.compile(ORG_NAME_RE.pattern),
    "team": re.compile(TEAM_NAME_RE),
    "id": re.compile(r"[0-9]+"),
    "uuid": re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
}

# Loaded when the module is collected (pytest-django has set Django up by then); serving the
# schema touches no database.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Valid path parameters (a negative case is left alone): each the generated value, or
    one naming an object that exists."""
    if not path_parameters or not all(
        VALID[name].fullmatch(str(value)) for name, value in path_parameters.items()
    ):
        return st.just(path_parameters)
    return st.fixed_dictionaries(
        {
            # Mostly an existing object: the generated value is almost always a 404.
            name: st.sampled_from([value, *KNOWN.get(name, []) * 3])
            for name, value in path_parameters.items()
        }
    )


@schema.auth(refresh_interval=None)
class OwnerBearer:
    """olivia's bearer (she owns acme), made for each test by the ``known`` fixture. Some
    cases are drawn when the module is collected, before there is one: the test puts it in."""

    def get(self, case, context):
        return KNOWN.get("bearer", PENDING)

    def set(self, case, data, context):
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@pytest.fixture
def keep_the_test_connection(known):
    """Django's WSGI handler closes old database connections around each request; inside a
    test that would close the test's own transaction, so the handler is kept from doing it,
    as Django's test client does (after ``known``, whose test-client calls reconnect it)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def known(acme):
    """Objects of acme for the path parameters: its name, teams, an allowlist entry, an
    exception request by mike, and an access token of olivia's; and pull decisions, so that
    the activity endpoints answer with some."""
    set_policy(acme.org, actor=acme.owner, enabled=True)
    record_pulls(acme.member, "library/alpine", "someone/thing", user_agent="docker/27.0")
    record_pulls(acme.owner, "bitnami/redis", signed_in_with="password")
    entry = add_entry(acme.org, "someone/*", actor=acme.owner)
    request = ask_exception(acme.org, acme.member)
    token, _ = access_token_create(user=acme.owner, name="laptop")
    KNOWN.update(
        bearer=sign_in("olivia", PASSWORD),
        org=["acme"],
        name=["acme"],
        team=["developers", "members", "owners"],
        id=[entry.pk, request.pk],
        uuid=[str(token.uuid)],
    )
    yield KNOWN
    KNOWN.clear()


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_the_api_conforms_to_its_schema(case, known, keep_the_test_connection):
    # Every check but positive_data_acceptance: a request the schema allows may still be
    # refused for what a schema cannot say (the image-name grammar, a page past the last, an
    # expiry in the past, a pattern that must cover the requested repository).
    if (case.headers or {}).get("Authorization") == f"Bearer {PENDING}":
        case.headers["Authorization"] = f"Bearer {known['bearer']}"
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
