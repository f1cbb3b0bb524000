"""The token service's client fixtures, for the tests that show what a namespace rule means at
``/auth/token``."""

from tests.tokens.conftest import ask, claims_of, granted, signing  # noqa: F401
