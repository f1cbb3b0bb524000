"""Who signed in through which OpenID provider, and which provider groups an organisation's
owners mapped to its teams."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from identity.config import DEFAULT_GROUPS_CLAIM, DEFAULT_SCOPE, PROVIDER_ID_RE, Provider
from orgs.models import Team


class IdentityProvider(models.Model):
    """An OpenID provider configured by site staff in the admin, next to those of the
    ``OIDC_PROVIDERS`` setting (which win when both use the same id)."""

    slug = models.CharField(
        _("id"),
        max_length=30,
        unique=True,
        validators=[
            RegexValidator(
                rf"\A{PROVIDER_ID_RE.pattern}\Z",
                _("1 to 30 lowercase letters, digits and '-', starting with a letter or digit."),
            )
        ],
        help_text=_("Part of the callback URL to register at the provider: /sso/<id>/callback/."),
    )
    label = models.CharField(
        _("button label"), max_length=60, help_text=_("Shown as 'Sign in with <label>'.")
    )
    issuer = models.URLField(
        _("issuer"),
        help_text=_("The provider's exact issuer identifier, as in its discovery document."),
    )
    client_id = models.CharField(_("client id"), max_length=255)
    client_secret = models.CharField(_("client secret"), max_length=255)
    scope = models.CharField(_("scope"), max_length=255, default=DEFAULT_SCOPE)
    groups_claim = models.CharField(_("groups claim"), max_length=100, default=DEFAULT_GROUPS_CLAIM)
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        ordering = ["label"]
        verbose_name = _("identity provider")
        verbose_name_plural = _("identity providers")

    def __str__(self) -> str:
        return self.label

    def clean(self):
        if "openid" not in self.scope.split():
            raise ValidationError({"scope": _("The scope must include openid.")})
        if any(provider.id == self.slug for provider in settings.OIDC_PROVIDERS):
            raise ValidationError(
                {"slug": _("OIDC_PROVIDERS already configures a provider with this id.")}
            )

    def as_provider(self) -> Provider:
        return Provider(
            id=self.slug,
            label=self.label,
            issuer=self.issuer,
            client_id=self.client_id,
            client_secret=self.client_secret,
            scope=self.scope,
            groups_claim=self.groups_claim,
        )


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
