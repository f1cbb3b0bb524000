"""Image Access Management: each organisation's pull policy, its teams' grants, its repository
allowlist, members' exception requests, the change history, and the publisher catalogue kept by
site staff."""

from datetime import datetime

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from orgs.models import Organization, Team, validate_namespace
from orgs.naming import ORG_NAME_RE
from policies.engine import expiry_text
from policies.references import MAX_REFERENCE_LENGTH


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
    audit_only = models.BooleanField(
        _("Audit-only mode"),
        default=False,
        help_text=_(
            "While on (with Image Access Management on), the policy is evaluated and recorded "
            "but not enforced: pulls it would refuse are allowed and recorded as would-block."
        ),
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


def boolean_fields(model: type[models.Model]) -> tuple[str, ...]:
    """The names of a model's own boolean fields, in declaration order."""
    return tuple(
        field.name for field in model._meta.local_fields if isinstance(field, models.BooleanField)
    )


#: The policy settings: every boolean field of :class:`AccessPolicy`, in declaration order.
POLICY_FIELDS: tuple[str, ...] = boolean_fields(AccessPolicy)
# How a setting's two values read in the history: (False, True). The default is
# ("Restricted", "Allowed"), which fits every "allow_..." category.
VALUE_WORDS = {"enabled": ("Off", "On"), "audit_only": ("Off", "On")}


def policy_field_label(field: str, model: type[models.Model] = AccessPolicy) -> str:
    """The setting's name as people read it, e.g. 'Docker Official Images' (the history may
    name a setting that no longer exists: then its field name)."""
    try:
        return str(model._meta.get_field(field).verbose_name)
    except FieldDoesNotExist:
        return field


def policy_value_word(field: str, value: bool) -> str:
    """One value of a setting in words, e.g. 'Allowed' or 'Off'."""
    return VALUE_WORDS.get(field, ("Restricted", "Allowed"))[bool(value)]


class TeamGrant(models.Model):
    """Extra categories a team's members may pull in its organisation, on top of the
    organisation's policy (only while Image Access Management is on; the owners team needs
    none). Every boolean field is a grant setting (:data:`GRANT_FIELDS`); a team without a row
    has no grant. Changes are recorded and bump the organisation's policy version."""

    team = models.OneToOneField(
        Team, on_delete=models.CASCADE, related_name="grant", verbose_name=_("team")
    )
    allow_official_images = models.BooleanField(_("Docker Official Images"), default=False)
    allow_verified_publishers = models.BooleanField(
        _("Docker Verified Publisher images"), default=False
    )
    allow_community_images = models.BooleanField(_("Community images"), default=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("team grant")
        verbose_name_plural = _("team grants")

    def __str__(self) -> str:
        return f"Grant to {self.team}"

    def as_dict(self) -> dict[str, bool]:
        """The settings, ``{field: value}`` for every field of :data:`GRANT_FIELDS`."""
        return {field: getattr(self, field) for field in GRANT_FIELDS}


#: The grant settings: every boolean field of :class:`TeamGrant`, in declaration order.
GRANT_FIELDS: tuple[str, ...] = boolean_fields(TeamGrant)
#: How many allowlist entries an organisation may have (its teams' included).
ALLOWLIST_MAX_ENTRIES = 1000


class AllowlistEntry(models.Model):
    """A repository pattern (:mod:`policies.patterns`) the organisation's members may pull
    whatever its category: for the whole organisation or for the members of one team, with a
    reason, who added it, and an optional expiry after which it stops applying everywhere.
    ``pattern`` is stored normalised (``ubuntu`` as ``library/ubuntu``)."""

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="allowlist",
        verbose_name=_("organization"),
    )
    team = models.ForeignKey(
        Team,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="allowlist_entries",
        verbose_name=_("team"),
        help_text=_("Empty: the whole organization."),
    )
    pattern = models.CharField(_("pattern"), max_length=MAX_REFERENCE_LENGTH + 3)
    reason = models.CharField(_("reason"), max_length=500)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("added by"),
    )
    added_by_username = models.CharField(_("added by (username)"), max_length=150)
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)
    expires_at = models.DateTimeField(
        _("expires at"), null=True, blank=True, help_text=_("Empty: never expires.")
    )

    class Meta:
        ordering = ["pattern", "team__name"]
        verbose_name = _("allowlist entry")
        verbose_name_plural = _("allowlist entries")
        indexes = [models.Index(fields=["organization", "pattern"], name="allowlist_lookup")]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "pattern"],
                condition=models.Q(team__isnull=True),
                name="allowlist_unique_org_pattern",
            ),
            models.UniqueConstraint(
                fields=["organization", "team", "pattern"],
                condition=models.Q(team__isnull=False),
                name="allowlist_unique_team_pattern",
            ),
            models.CheckConstraint(
                condition=~models.Q(pattern="") & ~models.Q(reason=""),
                name="allowlist_pattern_and_reason",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization.name}: {self.pattern}"

    @property
    def scope_text(self) -> str:
        return scope_text(self.team.name if self.team_id else None)

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def expiry_text(self) -> str:
        return expiry_text(self.expires_at)


def scope_text(team: str | None) -> str:
    """'the whole organization' or 'team platform'."""
    return f"team {team}" if team else "the whole organization"


class ExceptionRequest(models.Model):
    """A member's request to pull a repository their organisation refuses them. Owners approve
    it (which adds an allowlist entry, for the organisation or one team, with an expiry) or
    decline it with a note; the requester sees the outcome. ``granted_*`` keep what was
    approved even after the entry is removed or expires."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        APPROVED = "approved", _("Approved")
        DECLINED = "declined", _("Declined")

    organization = models.ForeignKey(
        Organization,
        on_delete=models.CASCADE,
        related_name="exception_requests",
        verbose_name=_("organization"),
    )
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="exception_requests",
        verbose_name=_("requester"),
    )
    reference = models.CharField(
        _("image"), max_length=MAX_REFERENCE_LENGTH, help_text=_("As checked, normalised.")
    )
    repository = models.CharField(_("repository"), max_length=MAX_REFERENCE_LENGTH)
    justification = models.TextField(_("justification"), max_length=1000)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True, db_index=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_by_username = models.CharField(_("decided by (username)"), max_length=150, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    note = models.TextField(_("note"), max_length=1000, blank=True)
    entry = models.ForeignKey(
        AllowlistEntry,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("allowlist entry"),
    )
    granted_pattern = models.CharField(
        _("granted pattern"), max_length=MAX_REFERENCE_LENGTH + 3, blank=True
    )
    granted_team = models.CharField(_("granted to team"), max_length=30, blank=True)
    granted_expires_at = models.DateTimeField(_("granted until"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("exception request")
        verbose_name_plural = _("exception requests")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "requester", "repository"],
                condition=models.Q(status="pending"),
                name="exception_one_pending_per_repository",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.requester} in {self.organization.name}: {self.repository}"

    @property
    def is_pending(self) -> bool:
        return self.status == self.Status.PENDING

    @property
    def granted_text(self) -> str:
        """What an approval granted, e.g. "'someone/*' for team platform, expires 2026-12-31"."""
        if self.status != self.Status.APPROVED:
            return ""
        return (
            f"'{self.granted_pattern}' for {scope_text(self.granted_team or None)}, "
            f"{expiry_text(self.granted_expires_at)}"
        )


class PolicyChange(models.Model):
    """One recorded change of an organisation's Image Access Management settings: who, when,
    and what (see :meth:`described` for the kinds of change)."""

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
        _("changes"),
        help_text=_(
            '{"<policy setting>": {"from": old, "to": new}, "team_grant": {...}, '
            '"allowlist_added": {...}, "allowlist_removed": {...}, "exception_<event>": {...}}'
        ),
    )
    version = models.PositiveIntegerField(_("resulting version"))

    class Meta:
        ordering = ["-changed_at", "-id"]
        verbose_name = _("policy change")
        verbose_name_plural = _("policy changes")

    def __str__(self) -> str:
        return f"{self.organization.name} v{self.version} by {self.actor_username}"

    def described(self) -> list[str]:
        """Each change as a line, e.g. 'Docker Official Images: Restricted → Allowed',
        'Team platform: Community images: Restricted → Allowed', "Allowlist: added
        'someone/*' for the whole organization, no expiry: 'CI base images'"."""
        lines = []
        for key in _ordered(self.changes, [*POLICY_FIELDS, *_DESCRIBERS]):
            describe = _DESCRIBERS.get(key)
            if describe is not None:
                lines.extend(describe(self.changes[key]))
            else:
                lines.append(_setting_line(policy_field_label(key), key, self.changes[key]))
        return lines


def _ordered(keys, order: list[str]) -> list[str]:
    """``keys`` in ``order``, then any others by name (PostgreSQL's jsonb keeps no order)."""
    return [key for key in order if key in keys] + sorted(set(keys) - set(order))


def _setting_line(label: str, field: str, diff: dict) -> str:
    return (
        f"{label}: {policy_value_word(field, diff['from'])} → "
        f"{policy_value_word(field, diff['to'])}"
    )


def _stored_expiry(value: str | None) -> str:
    return expiry_text(datetime.fromisoformat(value) if value else None)


def _describe_grant(value: dict) -> list[str]:
    changes = value["changes"]
    return [
        _setting_line(
            f"Team {value['team']}: {policy_field_label(field, TeamGrant)}", field, changes[field]
        )
        for field in _ordered(changes, list(GRANT_FIELDS))
    ]


def _describe_entry(verb: str):
    def describe(value: dict) -> list[str]:
        replaced = " (replacing an expired entry)" if value.get("replaced_expired") else ""
        return [
            f"Allowlist: {verb} '{value['pattern']}' for {scope_text(value['team'])}, "
            f"{_stored_expiry(value['expires_at'])}: '{value['reason']}'{replaced}"
        ]

    return describe


def _describe_request(event: str, text_key: str):
    def describe(value: dict) -> list[str]:
        text = value.get(text_key)
        said = f": '{text}'" if text else ""
        return [
            f"Exception request #{value['request']} by {value['requester']} for "
            f"{value['repository']} {event}{said}"
        ]

    return describe


def _describe_sso_required(value: dict) -> list[str]:
    words = {False: "Not required", True: "Required"}
    return [f"Single sign-on: {words[value['from']]} → {words[value['to']]}"]


def _describe_group_mapping(value: dict) -> list[str]:
    verb = "mapped to" if value["action"] == "added" else "no longer mapped to"
    return [f"Group '{value['group']}' of {value['provider']}: {verb} team {value['team']}"]


def _describe_sso_memberships(value: list) -> list[str]:
    return [
        f"Single sign-on: {change['user']} {change['action']} team {change['team']} "
        f"(group {change['group']} {'in' if change['action'] == 'joined' else 'no longer in'} "
        "their groups claim)"
        for change in value
    ]


def _lifetime_words(days: int | None) -> str:
    return {None: "no limit", 365: "1 year"}.get(days, f"{days} days")


def _describe_org_token(verb: str):
    def describe(value: dict) -> list[str]:
        scope = "pull and push" if value["scope"] == "repo:write" else "pull only"
        patterns = ", ".join(f"'{pattern}'" for pattern in value.get("repositories") or ())
        limited = f", limited to {patterns}" if patterns else ""
        return [
            f"Organization token '{value['name']}' (iamo_…{value['hint']}) {verb}: {scope}"
            f"{limited}, {_stored_expiry(value['expires_at'])}"
        ]

    return describe


def _describe_member_token_revoked(value: dict) -> list[str]:
    return [
        f"Personal access token '{value['name']}' (iamp_…{value['hint']}) of {value['user']} "
        "revoked"
    ]


def _describe_token_policy(value: dict) -> list[str]:
    lines = []
    if "allow_non_expiring" in value:
        words = {False: "Not allowed", True: "Allowed"}
        diff = value["allow_non_expiring"]
        lines.append(
            f"Organization tokens that never expire: {words[diff['from']]} → {words[diff['to']]}"
        )
    if "personal_token_max_days" in value:
        diff = value["personal_token_max_days"]
        lines.append(
            f"Maximum lifetime of members' personal tokens: {_lifetime_words(diff['from'])} → "
            f"{_lifetime_words(diff['to'])}"
        )
    return lines


def _describe_team_deleted(value: dict) -> list[str]:
    lines = [f"Team {value['team']} deleted"]
    if value["grant"]:
        lines.append(f"Team {value['team']}: grant removed ({', '.join(value['grant'])} allowed)")
    lines.extend(
        f"Allowlist: removed '{pattern}' for team {value['team']} (with the team)"
        for pattern in value["entries"]
    )
    return lines


_PROVISIONING_WORDS = {
    "token_created": "SCIM token '{token}' created",
    "token_revoked": "SCIM token '{token}' revoked",
    "user_created": "account {user} created and provisioned",
    "user_linked": "member {user} taken over by the identity provider",
    "user_restored": "account {user} provisioned again",
    "user_updated": "{user} updated ({fields})",
    "user_reactivated": "account {user} reactivated",
    "user_joined": "{user} joined team {team}",
    "user_deprovisioned": "{user} deprovisioned: left {teams_left} team(s), "
    "{tokens_revoked} access token(s) revoked",
    "user_deleted": "{user} deleted",
    "group_created": "team {team} created for group '{group}'",
    "group_renamed": "team {from} renamed {team}",
    "group_deleted": "team {team} deleted",
    "member_added": "{user} added to team {team}",
    "member_removed": "{user} removed from team {team}",
}


def _describe_provisioning(value: list) -> list[str]:
    lines = []
    for event in value:
        words = _PROVISIONING_WORDS.get(event.get("event"), "{event}")
        fields = {**event, "fields": ", ".join(event.get("fields", []))}
        line = f"Provisioning (SCIM): {words.format_map(fields)}"
        if event.get("deactivated"):
            line += ", account deactivated (it belonged only to this identity provider)"
        if event.get("token") and not event["event"].startswith("token_"):
            line += f" (token '{event['token']}')"
        lines.append(line)
    return lines


# In the order their lines are shown (after the policy settings). The single sign-on entries
# are written by identity.services, the provisioning ones by provisioning.services, the token
# entries by tokens.services.
_DESCRIBERS = {
    "team_grant": _describe_grant,
    "exception_requested": _describe_request("requested", "justification"),
    "exception_approved": _describe_request("approved", "note"),
    "exception_declined": _describe_request("declined", "note"),
    "allowlist_removed": _describe_entry("removed"),
    "allowlist_added": _describe_entry("added"),
    "team_deleted": _describe_team_deleted,
    "sso_required": _describe_sso_required,
    "sso_group_mapping": _describe_group_mapping,
    "sso_memberships": _describe_sso_memberships,
    "provisioning": _describe_provisioning,
    "token_policy": _describe_token_policy,
    "org_token_created": _describe_org_token("created"),
    "org_token_revoked": _describe_org_token("revoked"),
    "member_token_revoked": _describe_member_token_revoked,
}


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
