"""Image Access Management: each organisation's pull policy, its change history, and the
publisher catalogue kept by site staff."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from orgs.models import Organization, validate_namespace
from orgs.naming import ORG_NAME_RE

POLICY_FIELDS = ("enabled", "allow_official_images", "allow_verified_publishers")
POLICY_FIELD_LABELS = {
    "enabled": "Image Access Management",
    "allow_official_images": "Docker Official Images",
    "allow_verified_publishers": "Docker Verified Publisher images",
}


class AccessPolicy(models.Model):
    """Which image categories an organisation's members may pull.

    ``version`` grows by one on every saved change; an edit made from an older version is
    refused instead of silently overwriting the newer one.
    """

    organization = models.OneToOneField(
        Organization,
        on_delete=models.CASCADE,
        related_name="access_policy",
        verbose_name=_("organization"),
    )
    enabled = models.BooleanField(
        _("Image Access Management enabled"),
        default=False,
        help_text=_("While off, members can pull any image."),
    )
    allow_official_images = models.BooleanField(_("Docker Official Images allowed"), default=False)
    allow_verified_publishers = models.BooleanField(
        _("Docker Verified Publisher images allowed"), default=False
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("access policy")
        verbose_name_plural = _("access policies")

    def __str__(self) -> str:
        return f"Image Access Management for {self.organization.name}"

    def as_dict(self) -> dict[str, bool]:
        return {field: getattr(self, field) for field in POLICY_FIELDS}


class PolicyChange(models.Model):
    """One recorded change of an organisation's policy: who, when, and each field's from/to."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="policy_changes",
        verbose_name=_("organization"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )
    actor_username = models.CharField(_("changed by (username)"), max_length=150)
    changed_at = models.DateTimeField(_("changed at"), auto_now_add=True, db_index=True)
    changes = models.JSONField(
        _("changes"), help_text=_('{"field": {"from": old, "to": new}, ...}')
    )
    version = models.PositiveIntegerField(_("resulting version"))

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("policy change")
        verbose_name_plural = _("policy changes")

    def __str__(self) -> str:
        return f"{self.organization.name} v{self.version} by {self.actor_username}"

    def described(self) -> list[str]:
        """Each change as a sentence part, e.g. 'Docker Official Images: Restricted → Allowed'."""
        words = {"enabled": ("Off", "On")}
        parts = []
        for field, diff in self.changes.items():
            off, on = words.get(field, ("Restricted", "Allowed"))
            label = POLICY_FIELD_LABELS.get(field, field)
            parts.append(f"{label}: {on if diff['from'] else off} → {on if diff['to'] else off}")
        return parts


class Publisher(models.Model):
    """A Docker Hub namespace in the publisher catalogue; verified ones are Verified Publishers."""

    namespace = models.CharField(
        _("namespace"),
        max_length=30,
        unique=True,
        validators=[validate_namespace],
        help_text=_("Docker Hub namespace, e.g. 'bitnami': 4 to 30 lowercase letters and digits."),
    )
    display_name = models.CharField(_("display name"), max_length=100)
    verified = models.BooleanField(
        _("verified publisher"),
        default=True,
        help_text=_("Only verified publishers count as Docker Verified Publisher images."),
    )

    class Meta:
        ordering = ["namespace"]
        verbose_name = _("publisher")
        verbose_name_plural = _("publisher catalogue")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(namespace__regex=f"^{ORG_NAME_RE.pattern}$"),
                name="publisher_namespace_rule",
            )
        ]

    def __str__(self) -> str:
        return self.namespace
