"""Fixtures from the token service's tests (its signing key, a client that asks it) and the
API's (a JSON client signed in as someone), for the tests of the decision log and its readers."""

from tests.api.conftest import api  # noqa: F401
from tests.tokens.conftest import ask, claims_of, granted, signing, token_of  # noqa: F401
