"""Personal access tokens: what registry clients sign in with instead of a password."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def token_status(*, revoked_at, expires_at, now) -> str:
    """``"revoked"``, ``"expired"`` or ``"active"``: the one rule for whether a token works
    (its user must be active too), used by the token service and the tokens page."""
    if revoked_at is not None:
        return "revoked"
    if expires_at is not None and expires_at <= now:
        return "expired"
    return "active"


class TokenScope(models.TextChoices):
    """What an access token may do, named as Docker Hub names its personal access token scopes.
    ``repo:write`` includes everything ``repo:read`` allows."""

    READ = "repo:read", _("Read-only: pull images, read through the API")
    WRITE = "repo:write", _("Read & write: also push images and change settings through the API")


class AccessToken(models.Model):
    """A personal access token. Only a SHA-256 digest of the secret is stored.

    The secret is 256 random bits, so a fast digest is as safe as a slow password hash and keeps
    every registry request cheap: the lookup is one indexed query on the digest. ``uuid`` names
    the token in the API (Docker Hub's ``/v2/access-tokens/{uuid}``); ``scope`` limits what it
    can do at the registry and in the API, whatever its user could do with their password.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="access_tokens",
        verbose_name=_("user"),
    )
    uuid = models.UUIDField(_("UUID"), default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=100, help_text=_("What the token is for."))
    scope = models.CharField(
        _("scope"),
        max_length=10,
        choices=TokenScope.choices,
        default=TokenScope.WRITE,
        help_text=_(
            "repo:read tokens can pull and read; repo:write tokens can also push and write."
        ),
    )
    secret_hash = models.CharField(_("secret digest"), max_length=64, unique=True, editable=False)
    hint = models.CharField(
        _("last characters"), max_length=8, editable=False, help_text=_("To recognise a token.")
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("access token")
        verbose_name_plural = _("access tokens")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "name"],
                condition=models.Q(revoked_at__isnull=True),
                name="access_token_unique_active_name",
            ),
            models.CheckConstraint(
                condition=models.Q(scope__in=TokenScope.values), name="access_token_scope_known"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.name}"

    @property
    def status(self) -> str:
        """See :func:`token_status`."""
        return token_status(
            revoked_at=self.revoked_at, expires_at=self.expires_at, now=timezone.now()
        )

    @property
    def read_only(self) -> bool:
        return self.scope == TokenScope.READ


class RefreshToken(models.Model):
    """A registry session: the OAuth2 refresh token a registry client (Docker Engine,
    containerd) keeps after signing in with ``access_type=offline``, to get registry tokens
    later without the credentials. Only a SHA-256 digest of the secret is stored.

    It was created by a sign-in with ``access_token`` and works only while that token does:
    revoking or expiring the access token ends the session too. A session opened with the
    account password instead (``access_token`` empty) is bound to that password
    (``password_binding``: changing or resetting it ends the session) and ends at
    ``expires_at`` (``REGISTRY_PASSWORD_SESSION_DAYS``). It grants nothing by itself: every
    scope is decided again on each use.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="refresh_tokens",
        verbose_name=_("user"),
    )
    access_token = models.ForeignKey(
        AccessToken,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="refresh_tokens",
        verbose_name=_("signed in with access token"),
        help_text=_("Empty when the client signed in with the account password."),
    )
    client_id = models.CharField(
        _("client"), max_length=100, blank=True, help_text=_("What the client calls itself.")
    )
    secret_hash = models.CharField(_("secret digest"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    expires_at = models.DateTimeField(
        _("expires"),
        null=True,
        blank=True,
        help_text=_("Sessions opened with the account password end then; others never expire."),
    )
    password_binding = models.CharField(
        _("password binding"),
        max_length=128,
        blank=True,
        editable=False,
        help_text=_(
            "For a session opened with the account password: a digest of that password's hash, "
            "so that changing the password ends the session."
        ),
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("registry session")
        verbose_name_plural = _("registry sessions")

    def __str__(self) -> str:
        return f"{self.user} · {self.client_id or 'unnamed client'}"
