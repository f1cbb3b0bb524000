"""The activity log: one row per decision of the registry token service about one repository
scope that asks to pull, filed under each organisation the user belonged to at that moment."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from policies.engine import Category, Outcome, Rule, explanation
from policies.references import MAX_REFERENCE_LENGTH


class PullDecision(models.Model):
    """One decision of the registry token service about one repository scope that asks to
    pull: who asked, how they signed in, from where, what they asked and got, and what the
    engine said (category, deciding organisation, rule, reason, outcome).

    A decision is one row, stored once, with the organisations it concerns: ``filed_under``
    holds every organisation the user belonged to at that moment, with the version of its
    policy. The owners' activity page reads the rows filed under their organisation
    (:func:`activity.selectors.organization_activity`), so it shows exactly the decisions made
    while people were members, whatever the memberships are today; the user's own page reads
    their rows. On PostgreSQL the table is partitioned by month of ``decided_at`` and old
    decisions go by whole partitions (:mod:`activity.partitions`, ``manage.py prune_activity``).

    Which organisations decided is stored as data: ``deciding_organization``, whose words
    ``reason`` is (it names no other organisation), and ``also_allowed_by``. An organisation's
    owners are shown only their own organisation's part (:func:`activity.selectors.shown_reason`),
    the user the whole :attr:`explanation`.
    """

    class SignIn(models.TextChoices):
        ACCESS_TOKEN = "access_token", _("Access token")
        REFRESH_TOKEN = "refresh_token", _("Registry session")
        PASSWORD = "password", _("Password")
        ANONYMOUS = "anonymous", _("Anonymous")
        ORGANIZATION_TOKEN = "org_token", _("Organization token")

    decided_at = models.DateTimeField(_("when"))
    filed_under = models.JSONField(
        _("filed under"),
        default=dict,
        blank=True,
        help_text=_(
            "The organisations the user was a member of at the time, each with the version of "
            'its policy the decision was made under: {"<organization id>": <version>} '
            "(empty: none)."
        ),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        db_index=False,  # decision_user_time starts with it
        related_name="+",
        verbose_name=_("user"),
    )
    username = models.CharField(_("username"), max_length=150, blank=True)
    signed_in_with = models.CharField(_("signed in with"), max_length=16, choices=SignIn.choices)
    credential = models.CharField(
        _("credential"),
        max_length=100,
        blank=True,
        help_text=_("The access token's name, or the registry session's client."),
    )
    client_address = models.CharField(_("client address"), max_length=64, blank=True)
    user_agent = models.CharField(_("user agent"), max_length=200, blank=True)
    repository = models.CharField(_("repository"), max_length=MAX_REFERENCE_LENGTH)
    actions_asked = models.CharField(_("actions asked"), max_length=100)
    actions_granted = models.CharField(_("actions granted"), max_length=100, blank=True)
    category = models.CharField(
        _("category"), max_length=20, choices=[(c.value, c.label) for c in Category]
    )
    deciding_organization = models.CharField(_("decided by"), max_length=30, blank=True)
    also_allowed_by = models.TextField(
        _("also allowed by"),
        blank=True,
        default="",
        help_text=_(
            "The other organisations that restricted the user and allowed the pull too, by "
            "name, comma-separated (organisation names have no commas). Shown to the user only."
        ),
    )
    rule = models.CharField(_("rule"), max_length=20, choices=[(r.value, r.label) for r in Rule])
    reason = models.TextField(
        _("reason"),
        help_text=_("Why, in the deciding organisation's words (it names no other one)."),
    )
    outcome = models.CharField(
        _("outcome"), max_length=12, choices=[(o.value, o.label) for o in Outcome]
    )

    class Meta:
        # The table it had in the policies app, where it began (moved without copying a row).
        db_table = "policies_pulldecision"
        ordering = ["-decided_at", "-id"]
        verbose_name = _("pull decision")
        verbose_name_plural = _("pull decisions")
        indexes = [
            # The owners' page: the log by time, by member, by outcome, keeping the rows filed
            # under the organisation. No index on filed_under: a GIN index on it would cost a
            # member of 50 organisations more per decision than the rest of the write.
            models.Index(fields=["-decided_at"], name="decision_time"),
            models.Index(fields=["username", "-decided_at"], name="decision_member_time"),
            models.Index(fields=["outcome", "-decided_at"], name="decision_outcome_time"),
            # A user's own page (and SET_NULL when a user is deleted).
            models.Index(fields=["user", "-decided_at"], name="decision_user_time"),
        ]

    def __str__(self) -> str:
        return f"{self.username or 'anonymous'} {self.repository}: {self.outcome}"

    def policy_version_for(self, organization_id: int) -> int | None:
        """The version of ``organization_id``'s policy the decision was made under (None: not
        filed under it)."""
        return self.filed_under.get(str(organization_id))

    @property
    def also_allowed_by_names(self) -> tuple[str, ...]:
        return tuple(name for name in self.also_allowed_by.split(",") if name)

    @property
    def explanation(self) -> str:
        """The reason as the user whose decision it is reads it (with the other organisations
        that allowed it): never shown to an organisation's owners."""
        return explanation(self.reason, self.also_allowed_by_names)

    @property
    def outcome_label(self) -> str:
        return Outcome(self.outcome).label

    @property
    def outcome_verdict(self) -> str:
        return Outcome(self.outcome).verdict

    @property
    def category_label(self) -> str:
        return Category(self.category).label
