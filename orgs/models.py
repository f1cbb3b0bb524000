"""Organisations, their teams and team memberships.

A user belongs to an organisation by belonging to at least one of its teams. Every organisation
has exactly one team named ``owners``; its members manage the organisation.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from orgs.naming import ORG_NAME_MAX_LENGTH, ORG_NAME_RE, org_name_error

OWNERS_TEAM = "owners"
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
