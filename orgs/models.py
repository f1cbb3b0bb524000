"""Organisations, their teams, team memberships and invitations.

A user belongs to an organisation by belonging to at least one of its teams. Every organisation
has exactly one team named ``owners``; its members manage the organisation. Nobody is put in a
team without consent: owners send an :class:`Invitation`, and only its acceptance creates the
:class:`TeamMembership` (the only thing the pull rule reads).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orgs.naming import ORG_NAME_MAX_LENGTH, ORG_NAME_RE, org_name_error

OWNERS_TEAM = "owners"
# Every new organisation also gets this team; invitations preselect it, never the owners team.
MEMBERS_TEAM = "members"
TEAM_NAME_RE = r"[a-z0-9][a-z0-9_-]{0,29}"


def validate_namespace(value: str) -> None:
    """Django validator for the organisation-name rule, with its precise message."""
    error = org_name_error(value)
    if error is not None:
        raise ValidationError(error, code="invalid_name")


class OrganizationQuerySet(models.QuerySet):
    """Scopes organisations to what a user may see."""

    def for_user(self, user) -> "OrganizationQuerySet":
        """Organisations the user is a member of (through any team); none for anonymous users."""
        if not user.is_authenticated:
            return self.none()
        memberships = TeamMembership.objects.filter(team__organization=OuterRef("pk"), user=user)
        return self.filter(Exists(memberships))

    def owned_by(self, user) -> "OrganizationQuerySet":
        """Organisations in whose owners team the user is."""
        if not user.is_authenticated:
            return self.none()
        owners = TeamMembership.objects.filter(
            team__organization=OuterRef("pk"), team__name=OWNERS_TEAM, user=user
        )
        return self.filter(Exists(owners))


class Organization(models.Model):
    """A Docker Hub style organisation: a namespace whose members are managed in teams."""

    name = models.CharField(
        _("name"),
        max_length=ORG_NAME_MAX_LENGTH,
        unique=True,
        validators=[validate_namespace],
        help_text=_("The organisation's namespace: 4 to 30 lowercase letters and digits."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    require_sso = models.BooleanField(
        _("require single sign-on"),
        default=False,
        help_text=_(
            "Members must sign in through the company's identity provider: their passwords are "
            "refused in the portal and by the registry's token service (access tokens still work)."
        ),
    )
    next_steps_dismissed_at = models.DateTimeField(
        _("next steps dismissed"),
        null=True,
        blank=True,
        help_text=_('When an owner hid the "Next steps" box from the organization\'s home.'),
    )

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(name__regex=f"^{ORG_NAME_RE.pattern}$"),
                name="organization_name_rule",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Team(models.Model):
    """A named group of members inside an organisation."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="teams", verbose_name=_("organization")
    )
    name = models.CharField(
        _("name"),
        max_length=30,
        validators=[
            RegexValidator(
                # \A...\Z: "$" would also accept a name followed by a newline.
                rf"\A{TEAM_NAME_RE}\Z",
                _(
                    "Up to 30 characters: lowercase letters, digits, '-' and '_', "
                    "starting with a letter or digit."
                ),
            )
        ],
    )
    description = models.CharField(_("description"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, through="TeamMembership", related_name="org_teams"
    )

    class Meta:
        ordering = ["organization__name", "name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        constraints = [
            models.UniqueConstraint(fields=["organization", "name"], name="team_unique_name"),
            models.CheckConstraint(
                condition=models.Q(name__regex=f"^{TEAM_NAME_RE}$"), name="team_name_rule"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization.name}/{self.name}"

    @property
    def is_owners(self) -> bool:
        return self.name == OWNERS_TEAM


class TeamMembership(models.Model):
    """One user in one team."""

    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("team")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="team_memberships",
        verbose_name=_("user"),
    )
    created_at = models.DateTimeField(_("added"), auto_now_add=True)

    class Meta:
        ordering = ["team", "user__username"]
        verbose_name = _("team membership")
        verbose_name_plural = _("team memberships")
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="membership_unique_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.team}"


class InvitationQuerySet(models.QuerySet):
    """Scopes invitations by state."""

    @staticmethod
    def _open() -> models.Q:
        return models.Q(status=Invitation.Status.PENDING, expires_at__gt=timezone.now())

    def pending(self) -> "InvitationQuerySet":
        """Invitations that can still be accepted: pending and not expired."""
        return self.filter(self._open())

    def closed(self) -> "InvitationQuerySet":
        """Invitations that can no longer be accepted: answered, revoked or expired."""
        return self.exclude(self._open())


class Invitation(models.Model):
    """An owner's invitation of one person into one team.

    Addressed either to an existing account (``invitee``: only that user can accept) or to an
    e-mail address (``email``: whoever follows the link sent there accepts, signed in or with a
    new account). The link carries a random token of which only the SHA-256 digest is stored.
    An invitation is answered once: ``status`` leaves ``pending`` exactly once (accepted,
    declined or revoked by an owner), and a pending invitation past ``expires_at`` is expired.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        ACCEPTED = "accepted", _("accepted")
        DECLINED = "declined", _("declined")
        REVOKED = "revoked", _("revoked")
        EXPIRED = "expired", _("expired")

    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="invitations", verbose_name=_("team")
    )
    invitee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="org_invitations",
        verbose_name=_("invited user"),
    )
    email = models.EmailField(_("invited e-mail address"), blank=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("invited by"),
    )
    invited_by_username = models.CharField(_("invited by (username)"), max_length=150)
    token_hash = models.CharField(_("link digest"), max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("sent"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    responded_at = models.DateTimeField(_("answered"), null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
        help_text=_("Who accepted or declined it, or the owner who revoked it."),
    )

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(invitee__isnull=False, email="")
                    | (models.Q(invitee__isnull=True) & ~models.Q(email=""))
                ),
                name="invitation_user_or_email",
            ),
            models.UniqueConstraint(
                fields=["team", "invitee"],
                condition=models.Q(status="pending", invitee__isnull=False),
                name="invitation_one_pending_per_user",
            ),
            models.UniqueConstraint(
                "team",
                Lower("email"),
                condition=models.Q(status="pending") & ~models.Q(email=""),
                name="invitation_one_pending_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.addressee} to {self.team}"

    @property
    def addressee(self) -> str:
        """Whom it is for: the invited username or e-mail address."""
        return self.invitee.username if self.invitee_id else self.email

    @property
    def current_status(self) -> str:
        """``status``, except that a pending invitation past its expiry reads ``expired``."""
        if self.status == self.Status.PENDING and self.expires_at <= timezone.now():
            return self.Status.EXPIRED
        return self.status

    def closed_reason(self) -> str | None:
        """Why this invitation can no longer be answered, in words for the invitee; ``None``
        while it is pending."""
        organization = self.team.organization.name
        match self.current_status:
            case self.Status.ACCEPTED:
                return "This invitation has already been accepted. An invitation works once."
            case self.Status.DECLINED:
                return "This invitation was declined. An invitation works once."
            case self.Status.REVOKED:
                return f"This invitation was withdrawn by an owner of {organization}."
            case self.Status.EXPIRED:
                return (
                    f"This invitation expired on {self.expires_at:%Y-%m-%d %H:%M} UTC. Ask an "
                    f"owner of {organization} to invite you again."
                )
        return None
