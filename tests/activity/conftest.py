"""The token service's fixtures (its signing key, a client that asks it), for the tests of the
record it keeps of its decisions."""

from tests.tokens.conftest import ask, claims_of, granted, signing, token_of  # noqa: F401
