"""Create the token-signing key pair and self-signed certificate for development."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from tokens.signing import generate_dev_keypair


class Command(BaseCommand):
    help = (
        "Create TOKEN_SIGNING_KEY_FILE and TOKEN_SIGNING_CERT_FILE (EC P-256, self-signed). "
        "The registry trusts the certificate through auth.token.rootcertbundle."
    )

    def add_arguments(self, parser):
        parser.add_argument("--key", default=str(settings.TOKEN_SIGNING_KEY_FILE))
        parser.add_argument("--cert", default=str(settings.TOKEN_SIGNING_CERT_FILE))
        parser.add_argument(
            "--if-missing",
            action="store_true",
            help="Do nothing when both files exist (an error if only one does).",
        )

    def handle(self, *args, key, cert, if_missing, **options):
        present = [path for path in (key, cert) if Path(path).exists()]
        if if_missing and len(present) == 2:
            self.stdout.write(f"Signing key and certificate already exist: {key}, {cert}")
            return
        try:
            generate_dev_keypair(Path(key), Path(cert))
        except FileExistsError as error:
            raise CommandError(f"Not overwriting an existing key or certificate: {error}") from None
        self.stdout.write(f"Signing key: {key}\nCertificate (give it to the registry): {cert}")
