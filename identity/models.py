"""Who signed in through which OpenID provider, and which provider groups an organisation's
owners mapped to its teams."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from orgs.models import Team


class SsoIdentity(models.Model):
    """An account's identity at one OpenID provider: the provider's ``sub`` for it. The pair
    (provider, subject) is the link; the e-mail address is kept only to show it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="sso_identities",
        verbose_name=_("user"),
    )
    provider = models.CharField(_("provider"), max_length=30)
    subject = models.CharField(_("subject (sub)"), max_length=255)
    email = models.EmailField(_("e-mail address at the provider"), blank=True)
    created_at = models.DateTimeField(_("linked"), auto_now_add=True)
    last_sign_in_at = models.DateTimeField(_("last sign-in"), null=True, blank=True)

    class Meta:
        ordering = ["provider", "subject"]
        verbose_name = _("single sign-on identity")
        verbose_name_plural = _("single sign-on identities")
        constraints = [
            models.UniqueConstraint(fields=["provider", "subject"], name="sso_identity_unique"),
            models.UniqueConstraint(fields=["provider", "user"], name="sso_identity_one_per_user"),
        ]

    def __str__(self) -> str:
        return f"{self.user} at {self.provider}"


class GroupMapping(models.Model):
    """A provider's group whose members are in one of the organisation's teams: at each single
    sign-on through ``provider``, the person is added to ``team`` when the group is in their
    groups claim and removed from it when it is not. The organisation's owners created it, which
    is the organisation's consent to people joining through its identity provider."""

    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, related_name="group_mappings", verbose_name=_("team")
    )
    provider = models.CharField(_("provider"), max_length=30)
    group = models.CharField(_("group"), max_length=255)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        ordering = ["team__organization__name", "provider", "group", "team__name"]
        verbose_name = _("group mapping")
        verbose_name_plural = _("group mappings")
        constraints = [
            models.UniqueConstraint(
                fields=["team", "provider", "group"], name="group_mapping_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.group} -> {self.team}"
