"""Image Access Management: each organisation's pull policy, its change history, and the
publisher catalogue kept by site staff."""

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _

from orgs.models import Organization, validate_namespace
from orgs.naming import ORG_NAME_RE


class AccessPolicy(models.Model):
    """Which image categories an organisation's members may pull.

    Every boolean field is a policy setting (:data:`POLICY_FIELDS` is derived from them): the
    form, the history, the admin, the decision snapshot and the token service's read all follow
    from this class, so a new setting is a new field here, its migration, and its use in
    :mod:`policies.engine`. ``version`` grows by one on every saved change; an edit made from an
    older version is refused instead of silently overwriting the newer one.
    """

    organization = models.OneToOneField(
        Organization,
        on_delete=models.CASCADE,
        related_name="access_policy",
        verbose_name=_("organization"),
    )
    enabled = models.BooleanField(
        _("Image Access Management"),
        default=False,
        help_text=_("While off, members can pull any image."),
    )
    allow_official_images = models.BooleanField(_("Docker Official Images"), default=False)
    allow_verified_publishers = models.BooleanField(
        _("Docker Verified Publisher images"), default=False
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("access policy")
        verbose_name_plural = _("access policies")

    def __str__(self) -> str:
        return f"Image Access Management for {self.organization.name}"

    def as_dict(self) -> dict[str, bool]:
        """The settings, ``{field: value}`` for every field of :data:`POLICY_FIELDS`."""
        return {field: getattr(self, field) for field in POLICY_FIELDS}


#: The policy settings: every boolean field of :class:`AccessPolicy`, in declaration order.
POLICY_FIELDS: tuple[str, ...] = tuple(
    field.name
    for field in AccessPolicy._meta.local_fields
    if isinstance(field, models.BooleanField)
)
# How a setting's two values read in the history: (False, True). The default is
# ("Restricted", "Allowed"), which fits every "allow_..." category.
VALUE_WORDS = {"enabled": ("Off", "On")}


def policy_field_label(field: str) -> str:
    """The setting's name as people read it, e.g. 'Docker Official Images' (the history may
    name a setting that no longer exists: then its field name)."""
    try:
        return str(AccessPolicy._meta.get_field(field).verbose_name)
    except FieldDoesNotExist:
        return field


def policy_value_word(field: str, value: bool) -> str:
    """One value of a setting in words, e.g. 'Allowed' or 'Off'."""
    return VALUE_WORDS.get(field, ("Restricted", "Allowed"))[bool(value)]


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
        return [
            f"{policy_field_label(field)}: {policy_value_word(field, diff['from'])} → "
            f"{policy_value_word(field, diff['to'])}"
            for field, diff in self.changes.items()
        ]


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

    def clean(self):
        """A namespace is an organisation's or a publisher's, never both: an organisation's
        members may push to its namespace, so they could publish "verified" images there
        (:func:`orgs.services.organization_create` keeps the other direction)."""
        super().clean()
        if self.namespace and Organization.objects.filter(name=self.namespace).exists():
            raise ValidationError(
                {
                    "namespace": f"'{self.namespace}' is the namespace of the organization "
                    f"{self.namespace}, whose members can push images there; it cannot also be "
                    "a publisher's."
                }
            )
