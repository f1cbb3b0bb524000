"""Secrets at rest: a secret of 256 random bits (an access token, a refresh token, an
invitation link) is stored only as its digest."""

import hashlib


def secret_digest(secret: str) -> str:
    """The stored form of a secret: its SHA-256 digest in hex."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()
