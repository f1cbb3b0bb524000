"""Writes of single sign-on: signing a person in from verified claims (the account created
just in time, or linked by a verified e-mail address), their memberships in mapped teams,
the owners' group mappings and "Require single sign-on". Each change of an organisation is
recorded in its settings history (``policies.PolicyChange``)."""

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from identity.client import SsoFailed
from identity.config import Provider
from identity.models import GroupMapping, SsoIdentity
from identity.selectors import configured_providers
from orgs.models import Organization, Team, TeamMembership
from orgs.services import team_member_add, team_member_remove
from policies.models import AccessPolicy, PolicyChange
from policies.services import record_change

logger = logging.getLogger(__name__)

USERNAME_MAX_LENGTH = 150
_NOT_USERNAME = re.compile(r"[^\w.@+-]")


@dataclass
class SsoSignIn:
    """Who signed in: ``created`` for an account made just now, ``linked`` for an existing
    account linked now by its verified e-mail address; ``renamed_from`` the username the
    provider asked for when it was taken; ``changes`` the team memberships that followed the
    groups claim."""

    user: object
    created: bool = False
    linked: bool = False
    renamed_from: str = ""
    changes: list[dict] = field(default_factory=list)


def _email_verified(claims: Mapping) -> bool:
    # Some providers send the JSON string "true" rather than true.
    return claims.get("email_verified") in (True, "true")


def _groups(claims: Mapping, provider: Provider) -> list[str] | None:
    """The groups claim as a list of names; None when the provider sent none."""
    value = claims.get(provider.groups_claim)
    if value is None:
        return None
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise SsoFailed(
            f"{provider.label} sent a '{provider.groups_claim}' claim that is not a list."
        )
    return value


def _free_username(wanted: str) -> tuple[str, str]:
    """``(username, taken)``: ``wanted`` made a valid username, or with ``-2``, ``-3``… when
    another account has it (in any letter case), and then ``taken`` is the name that was
    taken. An account is never taken over by its name."""
    base = _NOT_USERNAME.sub("", wanted)[: USERNAME_MAX_LENGTH - 4] or "user"
    users = get_user_model().objects
    candidate, number = base, 1
    while users.filter(username__iexact=candidate).exists():
        number += 1
        candidate = f"{base}-{number}"
    return candidate, base if candidate != base else ""


def _link_or_create(*, provider: Provider, claims: Mapping, subject: str) -> SsoSignIn:
    email = (claims.get("email") or "").strip()
    verified = bool(email) and _email_verified(claims)
    users = get_user_model().objects
    same_email = list(users.filter(email__iexact=email)[:2]) if email else []
    if same_email:
        domain = email.rsplit("@", 1)[-1].lower()
        if not verified or domain not in settings.SSO_LINK_EMAIL_DOMAINS or len(same_email) > 1:
            raise SsoFailed(
                f"An account with the e-mail address {email} already exists. It is linked to "
                f"{provider.label} only when {provider.label} says the address is verified and "
                "it is in a domain the operator allows. Sign in with your password, or ask your "
                "administrator.",
                status=403,
            )
        user = same_email[0]
        if not user.is_active:
            raise SsoFailed(f"The account {user.username} is deactivated.", status=403)
        if SsoIdentity.objects.filter(user=user, provider=provider.id).exists():
            raise SsoFailed(
                f"The account with the e-mail address {email} is linked to another "
                f"{provider.label} identity. Ask your administrator.",
                status=403,
            )
        SsoIdentity.objects.create(user=user, provider=provider.id, subject=subject, email=email)
        logger.info("Single sign-on: %s linked to %s by %s", user.username, provider.id, email)
        return SsoSignIn(user=user, linked=True)

    wanted = (claims.get("preferred_username") or email.split("@")[0]).strip()
    if not wanted:
        raise SsoFailed(
            f"{provider.label} sent neither a preferred_username nor an email claim: no account "
            "can be made. Ask your administrator to release these claims to the portal."
        )
    username, taken = _free_username(wanted)
    name = (claims.get("name") or "").strip()
    user = users.create_user(
        username=username,
        email=email if verified else "",
        first_name=(claims.get("given_name") or name)[:150],
        last_name=(claims.get("family_name") or "")[:150],
    )  # no password: an unusable one
    SsoIdentity.objects.create(user=user, provider=provider.id, subject=subject, email=email)
    logger.info("Single sign-on: account %s created for %s:%s", username, provider.id, subject)
    return SsoSignIn(user=user, created=True, renamed_from=taken)


@transaction.atomic
def sso_sign_in(*, provider: Provider, claims: Mapping) -> SsoSignIn:
    """The account of the person ``claims`` (verified by :mod:`identity.client`) describe, and
    their memberships in the teams mapped to ``provider``'s groups brought in line.

    Known (provider, ``sub``): that account. Otherwise an existing account with the same
    e-mail address is linked only when the claim is verified and its domain is in
    ``SSO_LINK_EMAIL_DOMAINS``; otherwise a new account is created from ``preferred_username``
    (a free variant when it is taken), ``email`` (kept only when verified) and ``name``.

    :raises SsoFailed: a claim is missing or malformed, the account is deactivated, or an
        account with that address exists and may not be linked. Nothing is written then.
    """
    subject = claims.get("sub")
    if not isinstance(subject, str) or not subject:
        raise SsoFailed(f"{provider.label} sent no subject ('sub') for you: nothing was changed.")
    groups = _groups(claims, provider)
    identity = (
        SsoIdentity.objects.select_related("user")
        .filter(provider=provider.id, subject=subject)
        .first()
    )
    if identity is not None:
        result = SsoSignIn(user=identity.user)
        if not identity.user.is_active:
            raise SsoFailed(f"The account {identity.user.username} is deactivated.", status=403)
    else:
        try:
            with transaction.atomic():
                result = _link_or_create(provider=provider, claims=claims, subject=subject)
        except IntegrityError:  # the same person signing in twice at once
            raise SsoFailed("You are already being signed in: try again.", status=409) from None
    SsoIdentity.objects.filter(provider=provider.id, subject=subject).update(
        last_sign_in_at=timezone.now()
    )
    if groups is None:
        if GroupMapping.objects.filter(provider=provider.id).exists():
            logger.warning(
                "Single sign-on with %s: no '%s' claim for %s; team memberships unchanged",
                provider.id,
                provider.groups_claim,
                result.user.username,
            )
    else:
        result.changes = memberships_sync(user=result.user, provider=provider, groups=groups)
    return result


def _record(*, organization: Organization, actor, changes: dict) -> PolicyChange:
    """Record ``changes`` in the organisation's settings history (no new policy version:
    what a member may pull is decided per team, and the policy itself is unchanged)."""
    return record_change(
        organization=organization,
        actor=actor,
        changes=changes,
        bump=False,
        policy=AccessPolicy.objects.get(organization=organization),
    )


def memberships_sync(*, user, provider: Provider, groups: list[str]) -> list[dict]:
    """Make ``user``'s memberships in the teams mapped to ``provider``'s groups follow
    ``groups``: in a mapped team exactly when one of its mapped groups is in the list. Only
    organisations that mapped a group are touched (their owners' consent). The last owner is
    never removed: that change is refused and logged. Each organisation's changes are recorded
    in its history; returns them."""
    mapped: dict[Team, list[str]] = {}  # each mapped team: its groups
    for mapping in GroupMapping.objects.filter(provider=provider.id).select_related(
        "team__organization"
    ):
        mapped.setdefault(mapping.team, []).append(mapping.group)
    wanted = {team: [group for group in names if group in groups] for team, names in mapped.items()}
    member_of = set(
        TeamMembership.objects.filter(user=user, team__in=list(wanted)).values_list(
            "team_id", flat=True
        )
    )
    by_organization: dict[Organization, list[dict]] = {}
    for team, present in sorted(wanted.items(), key=lambda item: item[0].name):
        if present and team.pk not in member_of:
            team_member_add(team=team, user=user)
            change = {"user": user.username, "team": team.name, "action": "joined"}
            change["group"] = ", ".join(f"'{group}'" for group in present)
        elif not present and team.pk in member_of:
            try:
                with transaction.atomic():
                    team_member_remove(team=team, user=user)
            except ValidationError as refusal:
                logger.warning(
                    "Single sign-on: %s stays in %s (group gone from the claim): %s",
                    user.username,
                    team,
                    " ".join(refusal.messages),
                )
                continue
            change = {"user": user.username, "team": team.name, "action": "left"}
            change["group"] = ", ".join(f"'{group}'" for group in mapped[team])
        else:
            continue
        by_organization.setdefault(team.organization, []).append(change)
    for organization, changes in by_organization.items():
        _record(organization=organization, actor=user, changes={"sso_memberships": changes})
    return [change for changes in by_organization.values() for change in changes]


@transaction.atomic
def group_mapping_create(*, team: Team, provider: Provider, group: str, actor) -> GroupMapping:
    """Map ``provider``'s ``group`` to ``team`` (recorded in the organisation's history).

    :raises ValidationError: the group is empty or too long, or already mapped to the team.
    """
    group = group.strip()
    if not group or len(group) > 255:
        raise ValidationError({"group": "Enter the group's name, up to 255 characters."})
    mapping, created = GroupMapping.objects.get_or_create(
        team=team, provider=provider.id, group=group
    )
    if not created:
        raise ValidationError(f"Group '{group}' is already mapped to team {team.name}.")
    _record(
        organization=team.organization,
        actor=actor,
        changes={
            "sso_group_mapping": {
                "action": "added",
                "provider": provider.label,
                "group": group,
                "team": team.name,
            }
        },
    )
    return mapping


@transaction.atomic
def group_mapping_delete(*, mapping: GroupMapping, actor, provider_label: str) -> None:
    """Remove a group mapping (recorded in the organisation's history); memberships stay as
    they are until they are changed by hand."""
    GroupMapping.objects.filter(pk=mapping.pk).delete()
    _record(
        organization=mapping.team.organization,
        actor=actor,
        changes={
            "sso_group_mapping": {
                "action": "removed",
                "provider": provider_label,
                "group": mapping.group,
                "team": mapping.team.name,
            }
        },
    )


@transaction.atomic
def organization_require_sso_set(*, organization: Organization, required: bool, actor) -> bool:
    """Require single sign-on for the members of ``organization`` (or stop requiring it);
    returns whether anything changed (recorded in the organisation's history).

    :raises ValidationError: requiring it while no provider is configured.
    """
    if required and not configured_providers():
        raise ValidationError(
            "No identity provider is configured on this portal, so members could not sign in "
            "at all. Ask the operator to configure one first."
        )
    changed = Organization.objects.filter(pk=organization.pk, require_sso=not required).update(
        require_sso=required
    )
    if changed:
        organization.require_sso = required
        _record(
            organization=organization,
            actor=actor,
            changes={"sso_required": {"from": not required, "to": required}},
        )
    return bool(changed)
