"""Create a personal access token and print its secret alone on stdout (for scripts)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from tokens.models import TokenScope
from tokens.services import access_token_create


class Command(BaseCommand):
    help = "Create an access token for USERNAME and print the secret (shown only once)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--name", required=True, help="What the token is for.")
        parser.add_argument("--expires-days", type=int, default=None, help="Days until expiry.")
        parser.add_argument(
            "--scope",
            choices=TokenScope.values,
            default=TokenScope.WRITE,
            help="repo:read (pull, API reads) or repo:write (also push, API writes; the default).",
        )

    def handle(self, *args, username, name, expires_days, scope, **options):
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist:
            raise CommandError(f"Unknown user '{username}'.") from None
        try:
            _, secret = access_token_create(
                user=user, name=name, expires_days=expires_days, scope=scope
            )
        except ValidationError as error:
            raise CommandError(" ".join(error.messages)) from None
        self.stdout.write(secret)
