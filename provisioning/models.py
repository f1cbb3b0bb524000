"""SCIM provisioning: the bearer tokens an organisation's identity provider uses, and what the
provider said about the organisation's users and teams."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from orgs.models import Organization, Team


class ScimToken(models.Model):
    """A bearer token an organisation's owners made for its identity provider's SCIM client.

    Only a SHA-256 digest of the secret is stored (it is shown once, on creation). Its holder
    can read and change that organisation's users and teams through ``/scim/v2/``, and nothing
    else; a revoked token stops working at once.
    """

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="scim_tokens",
        verbose_name=_("organization"),
    )
    name = models.CharField(_("name"), max_length=100, help_text=_("e.g. 'Okta'."))
    secret_hash = models.CharField(_("secret digest"), max_length=64, unique=True, editable=False)
    hint = models.CharField(_("last characters"), max_length=8, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("SCIM token")
        verbose_name_plural = _("SCIM tokens")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "name"],
                condition=models.Q(revoked_at__isnull=True),
                name="scim_token_unique_active_name",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization.name} · {self.name}"


class ProvisionedAccount(models.Model):
    """What an organisation's identity provider said about one account, through SCIM.

    ``created_account``: SCIM created the account for this organisation (or revived one it had
    created), so the account belongs to that provider; otherwise the provider took over an
    existing member, whose username, name and e-mail address it does not change. ``active``
    is the provider's last word (``None``: it said nothing); ``False`` is a deprovisioning.
    ``removed_at``: the provider deleted the user; the row stays as the record of who created
    the account.
    """

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="provisioned_accounts",
        verbose_name=_("organization"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="provisioned_by",
        verbose_name=_("user"),
    )
    external_id = models.CharField(_("external id"), max_length=255, blank=True)
    display_name = models.CharField(_("display name"), max_length=255, blank=True)
    created_account = models.BooleanField(_("account created by provisioning"), default=False)
    active = models.BooleanField(_("active"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    removed_at = models.DateTimeField(_("deleted by the provider"), null=True, blank=True)

    class Meta:
        ordering = ["organization__name", "user__username"]
        verbose_name = _("provisioned account")
        verbose_name_plural = _("provisioned accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user"], name="provisioned_account_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} by {self.organization}"


class ProvisionedTeam(models.Model):
    """What an organisation's identity provider said about one of its teams: the group's name
    as the provider spells it (the team's name is made from it, within the team-name rule) and
    its external id."""

    team = models.OneToOneField(
        Team, on_delete=models.CASCADE, related_name="provisioned", verbose_name=_("team")
    )
    display_name = models.CharField(_("display name"), max_length=255)
    external_id = models.CharField(_("external id"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["team"]
        verbose_name = _("provisioned team")
        verbose_name_plural = _("provisioned teams")

    def __str__(self) -> str:
        return f"{self.display_name} ({self.team})"
