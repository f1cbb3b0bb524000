"""Building blocks of the registry token service: keys, certificates and tokens (pure), and
the key this process signs with (named by the Django settings).

The portal acts as the token service of a CNCF Distribution registry (the
"Docker Registry v2 token authentication" protocol):

* :func:`generate_dev_keypair` writes a signing key and a self-signed
  certificate; the certificate goes into the registry's ``rootcertbundle``.
* :func:`load_signing_key` loads them into a :class:`SigningKey`;
  :func:`current_signing_key` is the key in use, reloaded when its files change
  and refused once its certificate has expired.
* :func:`next_keypair_paths`, :func:`certificate_bundle` and
  :func:`promote_next_keypair` are the steps of a rotation with two keys at once.
* :func:`issue_registry_token` signs a JWT the registry accepts and
  :func:`token_response` builds the JSON body clients expect.

Key choice: new keys are EC P-256 (ES256). Generation is instant (RSA 2048 takes
noticeably longer, which matters for tests creating keys per test), and the
certificate carried in every token's ``x5c`` header is about half the size of an
RSA one, which keeps the ``Authorization: Bearer`` header short. RSA keys
(RS256, at least 2048 bits) are accepted by :func:`load_signing_key` too, for
operators who bring their own key.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import dataclasses
import datetime as dt
import functools
import json
import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from django.core.signals import setting_changed
from django.dispatch import receiver
from jwt.algorithms import get_default_algorithms
from jwt.utils import base64url_encode

logger = logging.getLogger(__name__)

_MIN_RSA_BITS = 2048
# PyJWT's signers (they turn ECDSA's DER signature into the JWS form, r || s).
_JWS_ALGORITHMS = get_default_algorithms()
# Back-date new certificates so that a registry whose clock is slightly behind
# does not reject the certificate as "not yet valid".
_CERT_BACKDATE = dt.timedelta(minutes=5)


# --------------------------------------------------------------------------
# Keys and certificates
# --------------------------------------------------------------------------


class CertificateExpired(ValueError):
    """The token-signing certificate has expired: the registry refuses every token it signs."""

    def __init__(self, message: str, expired_at: dt.datetime | None = None):
        super().__init__(message)
        self.expired_at = expired_at


@dataclass(frozen=True)
class SigningKey:
    """A loaded token-signing key.

    ``certificate`` is the leaf certificate (its public key matches
    ``private_key``); ``x5c`` is the certificate chain from the PEM file as
    standard (not URL-safe) base64 DER strings, leaf first, ready for the JWT
    header; ``algorithm`` is the JWS algorithm (``"ES256"`` or ``"RS256"``).
    """

    private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    certificate: x509.Certificate
    x5c: list[str]
    algorithm: str

    @functools.cached_property
    def header_segment(self) -> bytes:
        """The token's encoded JOSE header: the same for every token this key signs, so it is
        encoded once (with the certificate chain it is most of the token)."""
        header = {"alg": self.algorithm, "typ": "JWT", "x5c": self.x5c}
        return base64url_encode(json.dumps(header, separators=(",", ":")).encode())


def _write_new_file(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` exclusively (FileExistsError if present) with ``mode``."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        os.fchmod(fd, mode)  # independent of the umask
        with os.fdopen(fd, "wb") as fh:
            fd = -1
            fh.write(data)
    finally:
        if fd != -1:
            os.close(fd)


def generate_dev_keypair(
    key_path: Path,
    cert_path: Path,
    *,
    common_name: str = "iam-portal token signer",
    days: int = 3650,
) -> None:
    """Create an EC P-256 private key and a self-signed certificate for it.

    The key is written as unencrypted PKCS#8 PEM with mode 0600, the certificate
    as PEM (mode 0644). The certificate is valid from five minutes ago (clock
    skew) for ``days`` days; it is what the registry's ``auth.token.rootcertbundle``
    must contain. Missing parent directories are created.

    Raises FileExistsError, without writing anything, if either file exists.
    Raises ValueError if ``days`` is not positive.
    """
    key_path = Path(key_path)
    cert_path = Path(cert_path)
    if days <= 0:
        raise ValueError(f"days must be positive, got {days}")
    for path in (key_path, cert_path):
        if path.exists() or path.is_symlink():
            raise FileExistsError(f"refusing to overwrite existing file: {path}")

    private_key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    public_key = private_key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - _CERT_BACKDATE)
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .sign(private_key, hashes.SHA256())
    )

    key_pem = private_key.private_bytes(
        encoding=serialization.Encoding.PEM,
        format=serialization.PrivateFormat.PKCS8,
        encryption_algorithm=serialization.NoEncryption(),
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM)

    key_path.parent.mkdir(parents=True, exist_ok=True)
    cert_path.parent.mkdir(parents=True, exist_ok=True)
    _write_new_file(key_path, key_pem, 0o600)
    try:
        _write_new_file(cert_path, cert_pem, 0o644)
    except BaseException:
        with contextlib.suppress(OSError):
            key_path.unlink()
        raise


def _algorithm_for(private_key: Any) -> str:
    if isinstance(private_key, ec.EllipticCurvePrivateKey):
        if not isinstance(private_key.curve, ec.SECP256R1):
            raise ValueError(
                f"unsupported EC curve {private_key.curve.name}: only P-256 (ES256) is supported"
            )
        return "ES256"
    if isinstance(private_key, rsa.RSAPrivateKey):
        if private_key.key_size < _MIN_RSA_BITS:
            raise ValueError(
                f"RSA key of {private_key.key_size} bits is too small: "
                f"at least {_MIN_RSA_BITS} bits are required"
            )
        return "RS256"
    raise ValueError(
        f"unsupported private key type {type(private_key).__name__}: "
        "use an EC P-256 (ES256) or RSA (RS256) key"
    )


def _spki(public_key: Any) -> bytes:
    return public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_signing_key(
    key_path: Path, cert_path: Path, *, password: bytes | None = None
) -> SigningKey:
    """Load a PEM private key and its PEM certificate (chain) into a SigningKey.

    ``cert_path`` may hold several certificates: the first is the signing
    (leaf) certificate, the others intermediates; all of them go into ``x5c`` in
    file order. ``password`` decrypts an encrypted private key.

    Raises ValueError when the key type is unsupported (EC P-256 and RSA >= 2048
    bits are), when the file holds no certificate, when the leaf certificate's
    public key does not match the private key, or when the leaf certificate is
    not yet valid; :class:`CertificateExpired` (a ValueError) when it has expired
    (the registry would then reject every token with a bare 401). Missing files
    raise FileNotFoundError.
    """
    key_pem = Path(key_path).read_bytes()
    cert_pem = Path(cert_path).read_bytes()

    private_key = serialization.load_pem_private_key(key_pem, password=password)
    algorithm = _algorithm_for(private_key)
    try:
        chain = x509.load_pem_x509_certificates(cert_pem)
    except ValueError as exc:
        raise ValueError(f"no PEM certificate could be read from {cert_path}: {exc}") from exc
    certificate = chain[0]

    if _spki(certificate.public_key()) != _spki(private_key.public_key()):
        raise ValueError(
            f"certificate {cert_path} (subject {certificate.subject.rfc4514_string()}) "
            f"does not match private key {key_path}: its public key differs"
        )

    now = dt.datetime.now(dt.UTC)
    if certificate.not_valid_after_utc <= now:
        raise CertificateExpired(
            f"certificate {cert_path} expired at {certificate.not_valid_after_utc.isoformat()}",
            expired_at=certificate.not_valid_after_utc,
        )
    if certificate.not_valid_before_utc > now:
        raise ValueError(
            f"certificate {cert_path} is not valid before "
            f"{certificate.not_valid_before_utc.isoformat()}"
        )

    x5c = [
        base64.b64encode(cert.public_bytes(serialization.Encoding.DER)).decode("ascii")
        for cert in chain
    ]
    return SigningKey(
        private_key=private_key, certificate=certificate, x5c=x5c, algorithm=algorithm
    )


# --------------------------------------------------------------------------
# Rotation: two keys at once
# --------------------------------------------------------------------------


def next_keypair_paths(key_path: Path, cert_path: Path) -> tuple[Path, Path]:
    """Where the next key pair waits, beside the current one: ``token.key`` and ``token.crt``
    give ``token.next.key`` and ``token.next.crt``."""
    key_path, cert_path = Path(key_path), Path(cert_path)
    return (
        key_path.with_name(f"{key_path.stem}.next{key_path.suffix}"),
        cert_path.with_name(f"{cert_path.stem}.next{cert_path.suffix}"),
    )


def certificate_bundle(cert_paths: list[Path]) -> tuple[bytes, list[x509.Certificate]]:
    """The registry's ``rootcertbundle``: every certificate of the given PEM files, in order,
    each once. The registry accepts a token whose ``x5c`` chains to any of them, so during a
    rotation it holds the current and the next certificate.

    Returns the PEM bytes and the certificates. Raises OSError or ValueError for a file that
    can't be read or holds no certificate.
    """
    certificates: list[x509.Certificate] = []
    for path in cert_paths:
        try:
            found = x509.load_pem_x509_certificates(Path(path).read_bytes())
        except ValueError as exc:
            raise ValueError(f"no PEM certificate could be read from {path}: {exc}") from exc
        certificates.extend(cert for cert in found if cert not in certificates)
    pem = b"".join(cert.public_bytes(serialization.Encoding.PEM) for cert in certificates)
    return pem, certificates


def promote_next_keypair(key_path: Path, cert_path: Path) -> SigningKey:
    """Make the next key pair (:func:`next_keypair_paths`) the current one: check that it loads
    (matching, valid now), then rename it over the current files.

    The two renames are not one atomic step: a worker that looks between them finds a key and
    a certificate that don't match and keeps signing with the old key until it looks again
    (:func:`current_signing_key`), so no token is signed by a mismatched pair.

    Returns the new key. Raises FileNotFoundError when there is no next pair, ValueError when
    it can't be used (nothing is renamed then).
    """
    next_key, next_cert = next_keypair_paths(key_path, cert_path)
    key = load_signing_key(next_key, next_cert)
    os.replace(next_key, key_path)
    os.replace(next_cert, cert_path)
    return key


# --------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------


def issue_registry_token(
    *,
    key: SigningKey,
    issuer: str,
    service: str,
    subject: str,
    access: list[dict],
    ttl_seconds: int,
    now: int | None = None,
) -> tuple[str, dict]:
    """Sign a registry bearer token; return ``(compact_jwt, claims)``.

    Claims: ``iss`` = ``issuer`` (must equal the registry's ``auth.token.issuer``), ``sub`` =
    ``subject``, ``aud`` = ``service`` as a single string (Distribution 2.8 rejects a list),
    integer ``iat`` = ``nbf`` = ``now`` and ``exp`` = ``now + ttl_seconds``, a random ``jti``
    and ``access``, a list of ``{"type", "name", "actions"}`` dicts. An empty ``access`` is a
    valid token granting nothing: that is how a denied scope is expressed. The JOSE header
    carries ``alg`` (ES256/RS256), ``typ: JWT`` and ``x5c``. ``now`` defaults to the current
    Unix time.
    """
    issued_at = int(time.time()) if now is None else now
    claims = {
        "iss": issuer,
        "sub": subject,
        "aud": service,
        "exp": issued_at + ttl_seconds,
        "nbf": issued_at,
        "iat": issued_at,
        "jti": secrets.token_urlsafe(16),
        "access": access,
    }
    payload = base64url_encode(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = key.header_segment + b"." + payload
    signature = _JWS_ALGORITHMS[key.algorithm].sign(signing_input, key.private_key)
    return (signing_input + b"." + base64url_encode(signature)).decode("ascii"), claims


def token_response(token: str, claims: dict) -> dict:
    """Build the JSON body of a successful token-endpoint response.

    Returns ``{"token", "access_token", "expires_in", "issued_at"}`` where
    ``expires_in`` is ``exp - iat`` in seconds and ``issued_at`` is RFC 3339 UTC
    (``YYYY-MM-DDTHH:MM:SSZ``); a numeric ``issued_at`` breaks skopeo.
    """
    issued = dt.datetime.fromtimestamp(claims["iat"], dt.UTC)
    return {
        "token": token,
        "access_token": token,
        "expires_in": int(claims["exp"]) - int(claims["iat"]),
        "issued_at": issued.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }


# --------------------------------------------------------------------------
# The key in use (per process): reloaded when its files change
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Loaded:
    """What :func:`current_signing_key` last read: the settings' paths, the files' stamps, the key
    (``None`` until one loads) and, when the files could not be used, why."""

    key_file: Any = None
    cert_file: Any = None
    stamps: tuple | None = None
    key: SigningKey | None = None
    expires_at: float = 0.0  # the key's certificate's notAfter, as a Unix time
    error: Exception | None = None  # raised (as a copy) while no key is loaded
    next_check: float = 0.0  # time.monotonic() after which the files are looked at again


_loaded = _Loaded()
_reload_lock = threading.Lock()


def _stamp(path: Any) -> tuple | None:
    """What changes when a file is rewritten or replaced (``None``: it cannot be read)."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return (status.st_dev, status.st_ino, status.st_size, status.st_mtime_ns)


def current_signing_key() -> SigningKey:
    """The token-signing key the settings name, as this process last loaded it.

    The files are looked at again at most every ``TOKEN_SIGNING_KEY_CHECK_SECONDS`` (their inode,
    size and mtime, without reading them) and reloaded when they changed, so a rotated key is
    used without a restart. While the new files can't be used (a key and a certificate that
    don't match yet because only one of them was replaced, an unreadable file), the key already
    loaded stays in use and a warning is logged. A key whose certificate has expired is never
    returned. Between two looks a call reads no setting and no file: it is on every token
    request's path.

    :raises CertificateExpired: when the certificate in use (or on disk, if none is loaded) has
        expired.
    :raises OSError, ValueError: as :func:`load_signing_key`, when no key could be loaded.
    """
    loaded = _loaded
    if time.monotonic() >= loaded.next_check:
        loaded = _reload()
    if loaded.key is None:
        raise copy.copy(loaded.error)  # a copy: a raised exception collects its traceback
    if time.time() >= loaded.expires_at:
        expired_at = loaded.key.certificate.not_valid_after_utc
        reload_error = f" (and its files can't be reloaded: {loaded.error})" if loaded.error else ""
        raise CertificateExpired(
            f"the token-signing certificate loaded from {loaded.cert_file} expired at "
            f"{expired_at.isoformat()}{reload_error}",
            expired_at=expired_at,
        )
    return loaded.key


def _reload() -> _Loaded:
    """Load the files the settings name again if they (or the settings) changed; return the
    new state."""
    global _loaded
    from django.conf import settings

    key_file, cert_file = settings.TOKEN_SIGNING_KEY_FILE, settings.TOKEN_SIGNING_CERT_FILE
    with _reload_lock:
        loaded = _loaded
        if time.monotonic() < loaded.next_check:
            return loaded  # another thread has just looked
        same_paths = key_file == loaded.key_file and cert_file == loaded.cert_file
        # The stamps are taken before reading, so that a change while we read is seen next time.
        stamps = (_stamp(key_file), _stamp(cert_file))
        next_check = time.monotonic() + settings.TOKEN_SIGNING_KEY_CHECK_SECONDS
        if same_paths and stamps == loaded.stamps and None not in stamps:
            _loaded = dataclasses.replace(loaded, next_check=next_check)
            return _loaded
        try:
            key = load_signing_key(key_file, cert_file)
        except (OSError, ValueError) as error:
            kept = loaded.key if same_paths else None
            if kept is not None and (stamps != loaded.stamps or loaded.error is None):
                logger.warning(
                    "Still signing with the key loaded from %s: its files changed but can't be "
                    "used (yet): %s",
                    key_file,
                    error,
                )
            _loaded = _Loaded(
                key_file=key_file,
                cert_file=cert_file,
                stamps=stamps,
                key=kept,
                expires_at=loaded.expires_at if kept is not None else 0.0,
                error=error.with_traceback(None),
                next_check=next_check,
            )
            return _loaded
        if loaded.key is not None and same_paths:
            logger.info(
                "Token-signing key reloaded from %s (certificate %s, valid until %s)",
                key_file,
                key.certificate.subject.rfc4514_string(),
                key.certificate.not_valid_after_utc.isoformat(),
            )
        _loaded = _Loaded(
            key_file=key_file,
            cert_file=cert_file,
            stamps=stamps,
            key=key,
            expires_at=key.certificate.not_valid_after_utc.timestamp(),
            next_check=next_check,
        )
        return _loaded


@receiver(setting_changed)
def _look_again_when_settings_change(*, setting, **kwargs) -> None:
    """Settings are read only when the files are looked at: an override (in tests) is seen at
    the next call instead of a few seconds later."""
    global _loaded
    if setting.startswith("TOKEN_SIGNING_"):
        with _reload_lock:
            _loaded = dataclasses.replace(_loaded, next_check=0.0)


class KeyStatus(NamedTuple):
    """How long the key in use can still sign: ``state`` is ``"ok"``, ``"expires_soon"`` or
    ``"expired"``; ``expires_at`` is its certificate's notAfter (UTC)."""

    state: str
    expires_at: dt.datetime | None


def signing_key_status(*, warn_before: dt.timedelta) -> KeyStatus:
    """The state of :func:`current_signing_key`'s certificate: ``"expires_soon"`` once it expires
    within ``warn_before``, ``"expired"`` once it has expired (tokens are then refused).

    :raises OSError, ValueError: when no key can be loaded for another reason.
    """
    try:
        key = current_signing_key()
    except CertificateExpired as error:
        return KeyStatus("expired", error.expired_at)
    expires_at = key.certificate.not_valid_after_utc
    if expires_at - dt.datetime.now(dt.UTC) <= warn_before:
        return KeyStatus("expires_soon", expires_at)
    return KeyStatus("ok", expires_at)


def forget_signing_key() -> None:
    """Drop the loaded key, so that the next :func:`current_signing_key` reads the files."""
    global _loaded
    with _reload_lock:
        _loaded = _Loaded()
