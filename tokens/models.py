"""Access tokens: what registry clients sign in with instead of a password. Personal ones
belong to a user; organisation ones belong to an organisation and outlive any member."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orgs.models import Organization


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
    revoked_by_organization = models.CharField(
        _("revoked by the owners of"),
        max_length=30,
        blank=True,
        editable=False,
        help_text=_("Set when an owner of that organisation revoked it (the user is told)."),
    )

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


#: The lifetimes owners choose from (days) for an organisation token, and as the cap of the
#: personal tokens their members use against the organisation.
LIFETIME_CHOICES = ((30, _("30 days")), (90, _("90 days")), (365, _("1 year")))


class OrganizationTokenPolicy(models.Model):
    """An organisation's rules for access tokens; an organisation without a row has the
    defaults (no non-expiring organisation tokens, no cap on personal tokens). ``version``
    grows with every change, so that an edit made from an older version is refused instead of
    silently undoing the newer one."""

    organization = models.OneToOneField(
        Organization,
        on_delete=models.CASCADE,
        related_name="token_policy",
        verbose_name=_("organization"),
    )
    allow_non_expiring = models.BooleanField(
        _("allow organization tokens that never expire"), default=False
    )
    personal_token_max_days = models.PositiveSmallIntegerField(
        _("maximum lifetime of members' personal tokens"),
        null=True,
        blank=True,
        choices=LIFETIME_CHOICES,
        help_text=_(
            "A member's personal access token stops working for this organization's "
            "repositories this many days after it was created. Empty: no limit."
        ),
    )
    version = models.PositiveIntegerField(
        _("version"), default=0, help_text=_("Grows with every saved change.")
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("organization token policy")
        verbose_name_plural = _("organization token policies")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(personal_token_max_days__in=[30, 90, 365])
                | models.Q(personal_token_max_days__isnull=True),
                name="token_policy_max_days_known",
            ),
        ]

    def __str__(self) -> str:
        return f"Token policy of {self.organization.name}"


class OrganizationToken(models.Model):
    """An organisation access token: it belongs to the organisation, not to a person, so it
    survives any member leaving (``created_by`` is kept only as a record). Only a SHA-256
    digest of the secret is stored, as for :class:`AccessToken`.

    It pulls as a plain member of its organisation alone would (the organisation's policy and
    organisation-wide allowlist; never an owner's bypass), pushes only with ``repo:write`` and
    only to the organisation's namespace, and, when ``repositories`` lists patterns
    (:mod:`policies.patterns`), touches no repository outside them.
    """

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="access_tokens",
        verbose_name=_("organization"),
    )
    uuid = models.UUIDField(_("UUID"), default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=100, help_text=_("What the token is for."))
    scope = models.CharField(
        _("scope"), max_length=10, choices=TokenScope.choices, default=TokenScope.READ
    )
    repositories = models.TextField(
        _("repositories"),
        blank=True,
        help_text=_(
            "The repository patterns the token is limited to, normalised, one a line; "
            "empty: any repository."
        ),
    )
    secret_hash = models.CharField(_("secret digest"), max_length=64, unique=True, editable=False)
    hint = models.CharField(_("last characters"), max_length=8, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_by_username = models.CharField(_("created by (username)"), max_length=150)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)
    revoked_by_username = models.CharField(_("revoked by (username)"), max_length=150, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("organization access token")
        verbose_name_plural = _("organization access tokens")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"],
                condition=models.Q(revoked_at__isnull=True),
                name="org_token_unique_active_name",
            ),
            models.CheckConstraint(
                condition=models.Q(scope__in=TokenScope.values), name="org_token_scope_known"
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """How the activity log and the JWT name it, e.g. ``acme/ci-pipeline`` (no username
        contains a slash, so it is never a person's)."""
        return organization_token_label(self.organization.name, self.name)

    @property
    def status(self) -> str:
        """See :func:`token_status`."""
        return token_status(
            revoked_at=self.revoked_at, expires_at=self.expires_at, now=timezone.now()
        )

    @property
    def read_only(self) -> bool:
        return self.scope == TokenScope.READ

    @property
    def patterns(self) -> tuple[str, ...]:
        """The repository patterns it is limited to (empty: none)."""
        return split_patterns(self.repositories)


def split_patterns(repositories: str) -> tuple[str, ...]:
    """The stored ``repositories`` text as patterns."""
    return tuple(line for line in repositories.splitlines() if line)


def organization_token_label(organization: str, name: str) -> str:
    """``acme/ci-pipeline``: who an organisation token is, where a username would be."""
    return f"{organization}/{name}"[:150]


class MembershipEpoch(models.Model):
    """One row whose ``value`` changes, in the same transaction, with every write to a table
    the token service reads a holder's memberships from: organisations, teams, team
    memberships, access policies, team grants and organisations' token rules. Database
    triggers change it (migration ``0008``), so no write is missed: not a queryset's
    ``update()``, a bulk delete, the admin, a raw statement nor a ``TRUNCATE``. The value is
    never one it had before (a sequence on PostgreSQL, a random 64-bit number on SQLite), so a
    rolled-back change can't bring back an older value.

    The token service reads it with the credential and keeps each holder's memberships per
    value (:func:`tokens.selectors.holder_memberships`): while it is unchanged, the
    memberships read under it are still the database's. No row (a flushed database): nothing is
    kept."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    value = models.BigIntegerField()

    def __str__(self) -> str:
        return f"memberships epoch {self.value}"
