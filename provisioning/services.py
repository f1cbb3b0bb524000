"""Writes of SCIM provisioning: the organisation's SCIM tokens, and what its identity provider
does to its users and teams. Every change is recorded in the organisation's settings history
(``policies.PolicyChange``, kind ``provisioning``).

Deprovisioning (``active: false`` or a DELETE) ends the person's membership of the
organisation (every team), revokes all their access tokens and registry sessions, and
deactivates the account when it belongs only to that provider (:func:`belongs_only_to`). The
organisation's last active owner is never deprovisioned: the request is refused.
"""

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.secrets import secret_digest
from orgs.models import MEMBERS_TEAM, OWNERS_TEAM, TEAM_NAME_RE, Organization, Team, TeamMembership
from orgs.selectors import last_owner_refusal
from orgs.services import team_create, team_member_add
from policies.models import AccessPolicy
from policies.services import record_change
from provisioning.models import ProvisionedAccount, ProvisionedTeam, ScimToken
from tokens.services import user_tokens_revoke

User = get_user_model()

SCIM_TOKEN_PREFIX = "iams_"
LAST_USED_RESOLUTION = timedelta(minutes=1)
#: Teams the identity provider may fill but neither rename nor delete.
PROTECTED_TEAMS = frozenset({OWNERS_TEAM, MEMBERS_TEAM})
_TEAM_NAME = re.compile(rf"\A{TEAM_NAME_RE}\Z")


@dataclass(frozen=True)
class UserData:
    """A SCIM User as the portal keeps it. ``email`` and names empty when not given;
    ``active`` ``None`` when the provider said nothing."""

    username: str
    first_name: str = ""
    last_name: str = ""
    email: str = ""
    display_name: str = ""
    external_id: str = ""
    active: bool | None = None


@dataclass(frozen=True)
class GroupData:
    """A SCIM Group as the portal keeps it: its name, external id and members' user ids."""

    display_name: str
    external_id: str = ""
    member_ids: frozenset[int] = frozenset()


def _record(*, organization: Organization, token: ScimToken | None, actor, events: list[dict]):
    """Record provisioning ``events`` in the organisation's settings history (no new policy
    version: the policy is unchanged)."""
    if not events:
        return
    if token is not None:
        for event in events:
            event.setdefault("token", token.name)
    record_change(
        organization=organization,
        actor=actor,
        changes={"provisioning": events},
        bump=False,
        policy=AccessPolicy.objects.get(organization=organization),
    )


# --- Tokens --------------------------------------------------------------------------------


@transaction.atomic
def scim_token_create(*, organization: Organization, name: str, actor) -> tuple[ScimToken, str]:
    """Create a SCIM token for ``organization``'s identity provider; returns it with its
    secret, which is never stored (shown once)."""
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > 100:
        raise ValidationError({"name": "Give the token a name of up to 100 characters."})
    secret = SCIM_TOKEN_PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            token = ScimToken.objects.create(
                organization=organization,
                name=name,
                secret_hash=secret_digest(secret),
                hint=secret[-4:],
                created_by=actor,
            )
    except IntegrityError as exc:
        raise ValidationError({"name": f"A working token is already named '{name}'."}) from exc
    _record(
        organization=organization,
        token=None,
        actor=actor,
        events=[{"event": "token_created", "token": name}],
    )
    return token, secret


@transaction.atomic
def scim_token_revoke(*, token: ScimToken, actor) -> bool:
    """Revoke a SCIM token: it stops working at once. Returns whether it was working."""
    now = timezone.now()
    changed = ScimToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=now)
    if changed:
        token.revoked_at = now
        _record(
            organization=token.organization,
            token=None,
            actor=actor,
            events=[{"event": "token_revoked", "token": token.name}],
        )
    return bool(changed)


def scim_token_record_use(*, token: ScimToken) -> None:
    """Record that a SCIM token was used, at most once a minute."""
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_RESOLUTION:
        ScimToken.objects.filter(pk=token.pk).update(last_used_at=now)


# --- Users ---------------------------------------------------------------------------------


def _clean_user(data: UserData) -> None:
    if not data.username or len(data.username) > 150:
        raise ValidationError("userName must have 1 to 150 characters.", code="invalid")
    try:
        User.username_validator(data.username)
    except ValidationError:
        raise ValidationError(
            "userName may hold only letters, digits and @ . + - _ characters.", code="invalid"
        ) from None
    if data.email:
        try:
            EmailValidator()(data.email)
        except ValidationError:
            raise ValidationError(
                f"'{data.email[:100]}' is not an e-mail address.", code="invalid"
            ) from None
    if len(data.first_name) > 150 or len(data.last_name) > 150:
        raise ValidationError("Names are at most 150 characters.", code="invalid")
    if len(data.display_name) > 255 or len(data.external_id) > 255:
        raise ValidationError(
            "displayName and externalId are at most 255 characters.", code="invalid"
        )


def is_member(*, organization: Organization, user) -> bool:
    """Whether ``user`` is in one of ``organization``'s teams."""
    return TeamMembership.objects.filter(team__organization=organization, user=user).exists()


def belongs_only_to(*, account: ProvisionedAccount) -> bool:
    """Whether the account belongs only to the organisation's identity provider: provisioning
    created it for this organisation, it has no usable password, and it is in no other
    organisation. Such an account is deactivated when it is deprovisioned."""
    user = account.user
    return (
        account.created_account
        and not user.has_usable_password()
        and not TeamMembership.objects.filter(user=user)
        .exclude(team__organization=account.organization)
        .exists()
    )


def _members_team(organization: Organization) -> Team:
    team = Team.objects.filter(organization=organization, name=MEMBERS_TEAM).first()
    return team or team_create(organization=organization, name=MEMBERS_TEAM)


def _provision(account: ProvisionedAccount) -> list[dict]:
    """Make the account a member again (its account reactivated if provisioning made it)."""
    user, events = account.user, []
    if account.created_account and not user.is_active:
        user.is_active = True
        user.save(update_fields=["is_active"])
        events.append({"event": "user_reactivated", "user": user.username})
    if not is_member(organization=account.organization, user=user):
        team_member_add(team=_members_team(account.organization), user=user)
        events.append({"event": "user_joined", "user": user.username, "team": MEMBERS_TEAM})
    return events


def _deprovision(account: ProvisionedAccount) -> list[dict]:
    """End the person's membership, revoke their tokens and sessions, and deactivate an account
    that belongs only to this provider. Refuses the last owner."""
    organization, user = account.organization, account.user
    refusal = last_owner_refusal(organization=organization, users=[user])
    if refusal is not None:
        raise ValidationError(
            f"{user.username} cannot be deprovisioned: {refusal}", code="last_owner"
        )
    only_here = belongs_only_to(account=account)
    left = TeamMembership.objects.filter(team__organization=organization, user=user).delete()[0]
    revoked = user_tokens_revoke(user=user)
    event = {"event": "user_deprovisioned", "user": user.username, "teams_left": left}
    event["tokens_revoked"] = revoked
    if only_here and user.is_active:
        user.is_active = False
        user.save(update_fields=["is_active"])
        event["deactivated"] = True
    return [event]


def _apply(account: ProvisionedAccount, data: UserData) -> list[str]:
    """Write ``data`` on the row, and on the account when provisioning created it; returns
    what changed."""
    user, changed = account.user, []
    if account.created_account:
        if data.username != user.username:
            if User.objects.filter(username__iexact=data.username).exclude(pk=user.pk).exists():
                raise ValidationError(
                    f"The username '{data.username}' is taken.", code="uniqueness"
                )
            changed.append("userName")
        values = {
            "username": data.username,
            "first_name": data.first_name,
            "last_name": data.last_name,
            "email": data.email,
        }
        fields = [field for field, value in values.items() if getattr(user, field) != value]
        if fields:
            for field in fields:
                setattr(user, field, values[field])
            user.save(update_fields=fields)
            changed.extend(field for field in fields if field != "username")
    for field in ("display_name", "external_id", "active"):
        if getattr(account, field) != getattr(data, field):
            setattr(account, field, getattr(data, field))
            changed.append(field)
    account.removed_at = None
    account.save()
    return changed


@transaction.atomic
def scim_user_create(
    *, organization: Organization, token: ScimToken, data: UserData
) -> ProvisionedAccount:
    """The identity provider creates a user in ``organization``.

    A new account (unusable password) joins the organisation's ``members`` team. An existing
    member of the organisation is taken over instead (their account is not changed). An
    account this organisation's provider had created and then deleted is revived. Any other
    account with that username is refused (``uniqueness``): an account is never taken over by
    its name. ``active: false`` creates the user deprovisioned.
    """
    _clean_user(data)
    existing = User.objects.filter(username__iexact=data.username).first()
    account = None
    if existing is not None:
        account = ProvisionedAccount.objects.filter(
            organization=organization, user=existing
        ).first()
        if account is not None and account.removed_at is None:
            raise ValidationError(
                f"The user '{data.username}' already exists in {organization.name}.",
                code="uniqueness",
            )
        if account is None and not is_member(organization=organization, user=existing):
            raise ValidationError(
                f"The username '{data.username}' is taken by an account that is not a member "
                f"of {organization.name}.",
                code="uniqueness",
            )
    if existing is None:
        user = User(username=data.username)
        user.set_unusable_password()
        try:
            with transaction.atomic():
                user.save()
        except IntegrityError:  # the same user created twice at once
            raise ValidationError(
                f"The username '{data.username}' is taken.", code="uniqueness"
            ) from None
        account = ProvisionedAccount(organization=organization, user=user, created_account=True)
        event = "user_created"
    elif account is None:
        account = ProvisionedAccount(organization=organization, user=existing)
        event = "user_linked"
    else:
        event = "user_restored"
    _apply(account, data)
    events = [{"event": event, "user": account.user.username}]
    events += _deprovision(account) if data.active is False else _provision(account)
    _record(organization=organization, token=token, actor=None, events=events)
    return account


@transaction.atomic
def scim_user_update(
    *, organization: Organization, token: ScimToken, user, data: UserData
) -> ProvisionedAccount:
    """The identity provider replaces what it says about one of the organisation's users
    (PUT, or PATCH applied). ``active`` turning false deprovisions, turning true again
    provisions; a member never provisioned before is taken over (their account unchanged)."""
    _clean_user(data)
    account, _ = ProvisionedAccount.objects.select_for_update().get_or_create(
        organization=organization, user=user
    )
    was_active = account.active is not False
    changed = _apply(account, data)
    events = []
    if changed:
        events.append({"event": "user_updated", "user": user.username, "fields": changed})
    if data.active is False and was_active:
        events += _deprovision(account)
    elif data.active is not False and not was_active:
        events += _provision(account)
    _record(organization=organization, token=token, actor=None, events=events)
    return account


@transaction.atomic
def scim_user_delete(*, organization: Organization, token: ScimToken, user) -> None:
    """The identity provider deletes one of the organisation's users: deprovisioned (unless
    already), then gone from its Users; the record of who created the account stays."""
    account, _ = ProvisionedAccount.objects.select_for_update().get_or_create(
        organization=organization, user=user
    )
    events = _deprovision(account) if account.active is not False else []
    account.active = False
    account.removed_at = timezone.now()
    account.save(update_fields=["active", "removed_at", "updated_at"])
    events.append({"event": "user_deleted", "user": user.username})
    _record(organization=organization, token=token, actor=None, events=events)


# --- Groups --------------------------------------------------------------------------------


def team_name_for(*, organization: Organization, display_name: str, team: Team | None = None):
    """A team name (the team-name rule) made from a group's name: lowercase, other characters
    as '-', cut to 30, with '-2', '-3'... when another team has it."""
    base = re.sub(r"[^a-z0-9_-]+", "-", display_name.lower()).strip("-_")[:30] or "group"
    teams = Team.objects.filter(organization=organization)
    if team is not None:
        teams = teams.exclude(pk=team.pk)
    candidate, number = base, 1
    while teams.filter(name=candidate).exists():
        number += 1
        suffix = f"-{number}"
        candidate = base[: 30 - len(suffix)] + suffix
    assert _TEAM_NAME.match(candidate)
    return candidate


def _clean_group(data: GroupData) -> None:
    if not data.display_name.strip() or len(data.display_name) > 255:
        raise ValidationError("displayName must have 1 to 255 characters.", code="invalid")
    if len(data.external_id) > 255:
        raise ValidationError("externalId is at most 255 characters.", code="invalid")


def _set_members(*, team: Team, member_ids: frozenset[int], allowed) -> list[dict]:
    """Make the team's members exactly ``member_ids``, each one of the organisation's users
    (``allowed``: a queryset of them) who is not deprovisioned; never the last owner out."""
    current = set(TeamMembership.objects.filter(team=team).values_list("user_id", flat=True))
    adding = member_ids - current
    users = {user.pk: user for user in allowed.filter(pk__in=adding)}
    missing = adding - set(users)
    if missing:
        raise ValidationError(
            f"No such user in {team.organization.name}: {', '.join(map(str, sorted(missing)))}.",
            code="invalid",
        )
    deprovisioned = ProvisionedAccount.objects.filter(
        organization=team.organization, user_id__in=adding, active=False
    ).values_list("user__username", flat=True)
    if deprovisioned:
        raise ValidationError(
            f"Deprovisioned users cannot join a team: {', '.join(sorted(deprovisioned))}.",
            code="invalid",
        )
    events = []
    removing = current - member_ids
    if removing:
        leaving = list(User.objects.filter(pk__in=removing))
        if team.name == OWNERS_TEAM:
            refusal = last_owner_refusal(organization=team.organization, users=leaving)
            if refusal is not None:
                raise ValidationError(refusal, code="last_owner")
        TeamMembership.objects.filter(team=team, user_id__in=removing).delete()
        events += [
            {"event": "member_removed", "user": user.username, "team": team.name}
            for user in sorted(leaving, key=lambda user: user.username)
        ]
    for user in sorted(users.values(), key=lambda user: user.username):
        team_member_add(team=team, user=user)
        events.append({"event": "member_added", "user": user.username, "team": team.name})
    return events


@transaction.atomic
def scim_group_create(
    *, organization: Organization, token: ScimToken, data: GroupData, allowed
) -> Team:
    """The identity provider creates a group: a new team of the organisation (named from the
    group's name), with ``data.member_ids`` (of ``allowed``) in it."""
    _clean_group(data)
    team = team_create(
        organization=organization,
        name=team_name_for(organization=organization, display_name=data.display_name),
        description=f"Provisioned group '{data.display_name}'"[:200],
    )
    ProvisionedTeam.objects.create(
        team=team, display_name=data.display_name, external_id=data.external_id
    )
    events = [{"event": "group_created", "team": team.name, "group": data.display_name}]
    events += _set_members(team=team, member_ids=data.member_ids, allowed=allowed)
    _record(organization=organization, token=token, actor=None, events=events)
    return team


@transaction.atomic
def scim_group_update(*, team: Team, token: ScimToken, data: GroupData, allowed) -> Team:
    """The identity provider replaces a group (PUT, or PATCH applied): its name (the team is
    renamed; never ``owners`` nor ``members``), external id and members."""
    _clean_group(data)
    team = Team.objects.select_for_update().get(pk=team.pk)
    provisioned = ProvisionedTeam.objects.filter(team=team).first()
    old_name = provisioned.display_name if provisioned else team.name
    events = []
    if data.display_name != old_name:
        if team.name in PROTECTED_TEAMS:
            raise ValidationError(f"The {team.name} team cannot be renamed.", code="mutability")
        new_name = team_name_for(
            organization=team.organization, display_name=data.display_name, team=team
        )
        events.append({"event": "group_renamed", "team": new_name, "from": team.name})
        team.name = new_name
        team.save(update_fields=["name"])
    if provisioned is None:
        provisioned = ProvisionedTeam(team=team)
    provisioned.display_name = data.display_name
    provisioned.external_id = data.external_id
    provisioned.save()
    events += _set_members(team=team, member_ids=data.member_ids, allowed=allowed)
    _record(organization=team.organization, token=token, actor=None, events=events)
    return team


@transaction.atomic
def scim_group_delete(*, team: Team, token: ScimToken) -> None:
    """The identity provider deletes a group: its team goes, with its memberships (people in
    no other team of the organisation leave it). Never ``owners`` nor ``members``."""
    if team.name in PROTECTED_TEAMS:
        raise ValidationError(f"The {team.name} team cannot be deleted.", code="mutability")
    name, organization = team.name, team.organization
    Team.objects.filter(pk=team.pk).delete()
    _record(
        organization=organization,
        token=token,
        actor=None,
        events=[{"event": "group_deleted", "team": name}],
    )
