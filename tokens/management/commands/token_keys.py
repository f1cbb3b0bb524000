"""Create the token-signing key pair, and rotate it with two keys trusted at once."""

import os
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tokens.signing import (
    certificate_bundle,
    generate_dev_keypair,
    next_keypair_paths,
    promote_next_keypair,
)


class Command(BaseCommand):
    help = (
        "Create TOKEN_SIGNING_KEY_FILE and TOKEN_SIGNING_CERT_FILE (EC P-256, self-signed). "
        "The registry trusts the certificate through auth.token.rootcertbundle. To rotate: "
        "--next, then --bundle (and reload the registry), then --promote, then after "
        "TOKEN_TTL_SECONDS --bundle again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--key", default=str(settings.TOKEN_SIGNING_KEY_FILE))
        parser.add_argument("--cert", default=str(settings.TOKEN_SIGNING_CERT_FILE))
        parser.add_argument(
            "--days", type=int, default=3650, help="Validity of a new certificate (days)."
        )
        action = parser.add_mutually_exclusive_group()
        action.add_argument(
            "--if-missing",
            action="store_true",
            help="Do nothing when both files exist (an error if only one does).",
        )
        action.add_argument(
            "--next",
            action="store_true",
            help="Create the next key pair beside the current one (token.next.key, "
            "token.next.crt); the portal goes on signing with the current one.",
        )
        action.add_argument(
            "--bundle",
            metavar="FILE",
            help="Write the registry's rootcertbundle to FILE ('-': print it): the current "
            "certificate and, if it exists, the next one.",
        )
        action.add_argument(
            "--promote",
            action="store_true",
            help="Make the next key pair the current one (its files replace the current "
            "files; running workers switch within TOKEN_SIGNING_KEY_CHECK_SECONDS).",
        )

    def handle(self, *args, key, cert, days, if_missing, next, bundle, promote, **options):
        key, cert = Path(key), Path(cert)
        if bundle:
            self.write_bundle(bundle, key, cert)
        elif promote:
            self.promote(key, cert)
        elif next:
            self.create(*next_keypair_paths(key, cert), days=days)
            self.stdout.write("Next: --bundle, to have the registry trust both certificates.")
        else:
            if if_missing and key.exists() and cert.exists():
                self.stdout.write(f"Signing key and certificate already exist: {key}, {cert}")
                return
            self.create(key, cert, days=days)

    def create(self, key: Path, cert: Path, *, days: int) -> None:
        """Create a key pair at ``key`` and ``cert``, never overwriting a file."""
        try:
            generate_dev_keypair(key, cert, days=days)
        except FileExistsError as error:
            raise CommandError(f"Not overwriting an existing key or certificate: {error}") from None
        except ValueError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Signing key: {key}\nCertificate (give it to the registry): {cert}")

    def write_bundle(self, destination: str, key: Path, cert: Path) -> None:
        next_cert = next_keypair_paths(key, cert)[1]
        sources = [cert, next_cert] if next_cert.exists() else [cert]
        try:
            pem, certificates = certificate_bundle(sources)
        except (OSError, ValueError) as error:
            raise CommandError(str(error)) from None
        if destination == "-":
            self.stdout.write(pem.decode("ascii"), ending="")
            return
        _replace_file(Path(destination), pem)
        self.stdout.write(f"{destination}: the certificates of {', '.join(map(str, sources))}")
        for certificate in certificates:
            self.stdout.write(
                f"  {certificate.subject.rfc4514_string()}, serial {certificate.serial_number:x}, "
                f"valid until {certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC"
            )
        self.stdout.write("Reload or restart the registry to use it.")

    def promote(self, key: Path, cert: Path) -> None:
        try:
            new = promote_next_keypair(key, cert)
        except (OSError, ValueError) as error:
            raise CommandError(f"Not promoting the next key pair: {error}") from None
        check = settings.TOKEN_SIGNING_KEY_CHECK_SECONDS
        wait = check + settings.TOKEN_TTL_SECONDS + 60
        self.stdout.write(
            f"{key} and {cert} now hold the new key pair (valid until "
            f"{new.certificate.not_valid_after_utc:%Y-%m-%d}). Running workers switch within "
            f"{check:g} s. In {wait:g} s (when the tokens signed by the old key have expired, "
            "with the registry's 60 s of leeway), run --bundle again to drop the old "
            "certificate, and reload the registry."
        )


def _replace_file(path: Path, data: bytes) -> None:
    """Write ``path`` (mode 0644) in one step: a reader sees the old file or the new one."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
