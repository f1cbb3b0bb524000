"""The account's access tokens (list, create with the secret shown once, revoke, delete) and
registry sessions (list, revoke); an organisation's tokens, its token rules and its members'
personal tokens (owners). The registry's token service is :mod:`tokens.endpoint`."""

import shlex

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import ngettext
from django.views.generic import TemplateView

from core.links import site_url
from core.mail import MailFailureWarning
from core.mixins import ConfirmActionView, Confirmation, ServiceFormView
from orgs.mixins import OrganizationMixin
from policies.hub_cache import hub_cache_help
from policies.selectors import policy_history
from tokens.forms import AccessTokenCreateForm, OrganizationTokenCreateForm, TokenPolicyForm
from tokens.models import AccessToken, OrganizationToken
from tokens.selectors import (
    access_tokens_of,
    member_tokens_of,
    organization_tokens_of,
    registry_sessions_of,
    token_policy_of,
)
from tokens.services import (
    access_token_create,
    access_token_delete,
    access_token_revoke,
    access_tokens_delete_inactive,
    inactive_tokens_q,
    member_token_revoke,
    organization_token_create,
    organization_token_revoke,
    refresh_token_revoke,
    token_policy_update,
)


class AccessTokenListView(LoginRequiredMixin, ServiceFormView):
    """My access tokens, and the form to create one."""

    template_name = "tokens/token_list.html"
    form_class = AccessTokenCreateForm

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        tokens = list(access_tokens_of(user=user))
        inactive = [token for token in tokens if token.status != "active"]
        show_inactive = self.request.GET.get("show") == "all"
        username = user.get_username()
        host = shlex.quote(settings.REGISTRY_HOST)
        context.update(
            tokens=tokens if show_inactive else [t for t in tokens if t.status == "active"],
            inactive_count=len(inactive),
            show_inactive=show_inactive,
            revoked_by_owners=[t for t in inactive if t.revoked_by_organization],
            registry_host=settings.REGISTRY_HOST,
            login_commands=(
                ("docker", f"docker login {host} -u {shlex.quote(username)}"),
                ("skopeo", f"skopeo login -u {shlex.quote(username)} {host}"),
            ),
            hub_cache=hub_cache_help(host=settings.DOCKER_HUB_CACHE_HOST, username=username),
            sessions=registry_sessions_of(user=user, open_only=True),
        )
        return context

    def perform(self, form):
        return access_token_create(user=self.request.user, **form.cleaned_data)

    def succeeded(self, result):
        token, secret = result
        return secret_page(self, token=token, secret=secret)


def secret_page(view, **context):
    """The list page again with a new token's secret: rendered, not redirected (the secret
    must not travel through the session), and never stored by a cache."""
    response = view.render_to_response(view.get_context_data(form=view.get_form(None), **context))
    add_never_cache_headers(response)
    response["Cache-Control"] += ", no-store"
    return response


class AccessTokenRevokeView(LoginRequiredMixin, ConfirmActionView):
    """Revoke one of my tokens (someone else's is a 404): GET explains, POST revokes."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.token = get_object_or_404(access_tokens_of(user=request.user), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def confirmation(self):
        return Confirmation(
            title=f"Revoke token '{self.token.name}' (iamp_…{self.token.hint})?",
            consequences=(
                "It stops working at once: registry clients signed in with it are refused "
                "until they sign in again with another token.",
                "A revoked token cannot be restored.",
            ),
            button="Revoke token",
            cancel_url=reverse("tokens:list"),
            refusal="This token is already revoked." if self.token.revoked_at else None,
        )

    def perform(self):
        return access_token_revoke(token=self.token)

    def get_success_message(self, result):
        return f"Token '{result.name}' revoked. It no longer works."

    def get_success_url(self, result):
        return reverse("tokens:list")


class AccessTokenDeleteView(LoginRequiredMixin, ConfirmActionView):
    """Delete one of my revoked or expired tokens (someone else's is a 404)."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.token = get_object_or_404(access_tokens_of(user=request.user), pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def confirmation(self):
        token = self.token
        return Confirmation(
            title=f"Delete token '{token.name}' (iamp_…{token.hint})?",
            consequences=(
                f"It is {token.status}; deleting it removes it from your list for good.",
                "Registry sessions it opened are deleted with it.",
            ),
            button="Delete token",
            cancel_url=reverse("tokens:list") + "?show=all",
            refusal=(
                f"Token '{token.name}' still works: revoke it before deleting it."
                if token.status == "active"
                else None
            ),
        )

    def perform(self):
        return access_token_delete(token=self.token)

    def get_success_message(self, result):
        return f"Token '{result.name}' deleted."

    def get_success_url(self, result):
        return reverse("tokens:list")


class InactiveTokensDeleteView(LoginRequiredMixin, ConfirmActionView):
    """Delete all my revoked and expired tokens at once."""

    def confirmation(self):
        count = (
            access_tokens_of(user=self.request.user)
            .filter(inactive_tokens_q(timezone.now()))
            .count()
        )
        return Confirmation(
            title=f"Delete {count} revoked or expired token{pluralize(count)}?",
            consequences=(
                "They no longer work; deleting removes them from your list for good.",
                "Tokens that still work are kept.",
            ),
            button=ngettext("Delete it", "Delete them", count),
            cancel_url=reverse("tokens:list") + "?show=all",
            refusal="You have no revoked or expired tokens." if not count else None,
        )

    def perform(self):
        return access_tokens_delete_inactive(user=self.request.user)

    def get_success_message(self, result):
        return f"Deleted {result} revoked or expired token{pluralize(result)}."

    def get_success_url(self, result):
        return reverse("tokens:list")


class RegistrySessionRevokeView(LoginRequiredMixin, ConfirmActionView):
    """End one of my registry sessions (someone else's is a 404): GET explains, POST revokes."""

    def dispatch(self, request, *args, **kwargs):
        if request.user.is_authenticated:
            self.session = get_object_or_404(
                registry_sessions_of(user=request.user), pk=kwargs["pk"]
            )
        return super().dispatch(request, *args, **kwargs)

    def confirmation(self):
        session = self.session
        signed_in_with = (
            f"the access token '{session.access_token.name}'"
            if session.access_token
            else "your password"
        )
        last_used = (
            f"last used {session.last_used_at:%Y-%m-%d %H:%M} UTC"
            if session.last_used_at
            else "never used"
        )
        return Confirmation(
            title=f"Revoke the registry session of '{session.client_id or 'unnamed client'}'?",
            consequences=(
                f"It signed in with {signed_in_with} on {session.created_at:%Y-%m-%d %H:%M} UTC "
                f"and was {last_used}.",
                "Its refresh token stops working at once: that client has to sign in again.",
            ),
            button="Revoke session",
            cancel_url=reverse("tokens:list") + "#sessions",
            refusal="This session is already revoked." if session.revoked_at else None,
        )

    def perform(self):
        return refresh_token_revoke(session=self.session)

    def get_success_message(self, result):
        return (
            f"Registry session of '{result.client_id or 'unnamed client'}' revoked. "
            "Its refresh token no longer works."
        )

    def get_success_url(self, result):
        return reverse("tokens:list")


# --- an organisation's tokens (owners) ------------------------------------------------------

#: The kinds of change the token pages show from the organisation's history.
TOKEN_HISTORY = ("org_token_created", "org_token_revoked", "member_token_revoked", "token_policy")


def token_history(organization, limit: int = 10) -> list:
    """The organisation's recent token events (from its settings history)."""
    return [
        change
        for change in policy_history(organization=organization, limit=100)
        if any(key in change.changes for key in TOKEN_HISTORY)
    ][:limit]


class OrganizationTokensView(OrganizationMixin, ServiceFormView):
    """``/orgs/<org>/settings/tokens/`` (owners): the organisation's access tokens, the form
    that creates one (its secret shown once), the organisation's token rules and the recent
    token events."""

    template_name = "tokens/organization_tokens.html"
    form_class = OrganizationTokenCreateForm
    owner_only = True
    tab = "settings"

    def get_form_kwargs(self):
        kwargs = super().get_form_kwargs()
        kwargs["allow_non_expiring"] = self.token_policy.allow_non_expiring
        return kwargs

    def get_form(self, form_class=None):
        self.token_policy = token_policy_of(organization=self.organization)
        return super().get_form(form_class)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        organization = self.organization
        tokens = list(organization_tokens_of(organization=organization))
        show_inactive = self.request.GET.get("show") == "all"
        host = shlex.quote(settings.REGISTRY_HOST)
        context.update(
            tokens=tokens if show_inactive else [t for t in tokens if t.status == "active"],
            inactive_count=sum(1 for t in tokens if t.status != "active"),
            show_inactive=show_inactive,
            token_policy=self.token_policy,
            history=token_history(organization),
            login_command=f"docker login {host} -u {shlex.quote(organization.name)}",
            registry_host=settings.REGISTRY_HOST,
        )
        return context

    def perform(self, form):
        return organization_token_create(
            organization=self.organization, actor=self.request.user, **form.cleaned_data
        )

    def succeeded(self, result):
        token, secret = result
        return secret_page(self, token=token, secret=secret)


class OrganizationTokenRevokeView(OrganizationMixin, ConfirmActionView):
    """Revoke one of the organisation's tokens (owners; another organisation's is a 404)."""

    template_name = "orgs/confirm.html"
    owner_only = True
    tab = "settings"

    def resolve(self, **kwargs):
        try:
            self.token = organization_tokens_of(organization=self.organization).get(pk=kwargs["pk"])
        except OrganizationToken.DoesNotExist:
            raise Http404("No such token.") from None

    def confirmation(self):
        token = self.token
        last_used = (
            f"It was last used {token.last_used_at:%Y-%m-%d %H:%M} UTC."
            if token.last_used_at
            else "It was never used."
        )
        return Confirmation(
            title=f"Revoke organization token '{token.name}' (iamo_…{token.hint})?",
            consequences=(
                "It stops working at once: pipelines signed in with it are refused by the "
                "registry.",
                last_used,
                "A revoked token cannot be restored; the organization's history records it.",
            ),
            button="Revoke token",
            cancel_url=reverse("tokens:organization", args=[self.organization.name]),
            refusal="This token is already revoked." if token.revoked_at else None,
        )

    def perform(self):
        return organization_token_revoke(token=self.token, actor=self.request.user)

    def get_success_message(self, result):
        return f"Organization token '{result.name}' revoked. It no longer works."

    def get_success_url(self, result):
        return reverse("tokens:organization", args=[self.organization.name])


class TokenPolicyView(OrganizationMixin, ServiceFormView):
    """``/orgs/<org>/settings/tokens/rules/`` (owners): whether organisation tokens may never
    expire, and the cap on members' personal tokens."""

    template_name = "tokens/token_policy.html"
    form_class = TokenPolicyForm
    owner_only = True
    tab = "settings"

    def get_initial(self):
        policy = token_policy_of(organization=self.organization)
        return {
            "allow_non_expiring": policy.allow_non_expiring,
            "personal_token_max_days": policy.personal_token_max_days or "",
            "expected_version": policy.version,
        }

    def perform(self, form):
        return token_policy_update(
            organization=self.organization, actor=self.request.user, **form.cleaned_data
        )

    def get_success_message(self, result):
        return "Token rules saved." if result[1] else "Nothing changed."

    def get_success_url(self, result=None):
        return reverse("tokens:organization", args=[self.organization.name])


class MemberTokensView(OrganizationMixin, TemplateView):
    """``/orgs/<org>/settings/member-tokens/`` (owners): the working personal access tokens
    of the organisation's members (never their secrets), each with a revoke button."""

    template_name = "tokens/member_tokens.html"
    owner_only = True
    tab = "settings"

    def get_context_data(self, **kwargs):
        policy = token_policy_of(organization=self.organization)
        return super().get_context_data(
            tokens=member_tokens_of(organization=self.organization),
            max_days=policy.personal_token_max_days,
            **kwargs,
        )


class MemberTokenRevokeView(OrganizationMixin, MailFailureWarning, ConfirmActionView):
    """Revoke a member's personal access token (owners; the token of someone who is not a
    member is a 404). The member is e-mailed."""

    template_name = "orgs/confirm.html"
    owner_only = True
    tab = "settings"
    mail_failure_message = "The e-mail telling {result.user.username} could not be sent."

    def resolve(self, **kwargs):
        try:
            self.token = member_tokens_of(organization=self.organization).get(pk=kwargs["pk"])
        except AccessToken.DoesNotExist:
            raise Http404("No such token.") from None

    def confirmation(self):
        token, org = self.token, self.organization.name
        return Confirmation(
            title=f"Revoke {token.user.username}'s access token '{token.name}' "
            f"(iamp_…{token.hint})?",
            consequences=(
                "It stops working at once, everywhere (a personal token is not limited to "
                f"{org}), with the registry sessions it opened.",
                f"{token.user.username} is e-mailed and sees on their tokens page that an "
                f"owner of {org} revoked it.",
                "A revoked token cannot be restored; the organization's history records it.",
            ),
            button="Revoke token",
            cancel_url=reverse("tokens:member_tokens", args=[org]),
        )

    def perform(self):
        return member_token_revoke(
            organization=self.organization,
            token=self.token,
            actor=self.request.user,
            site_url=site_url(""),
            on_failure=self.mail_not_sent,
        )

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        if self.unsent_mail is not None and response.status_code == 302:
            messages.warning(request, self.mail_failure_message.format(result=self.token))
        return response

    def get_success_message(self, result):
        return f"{result.user.username}'s token '{result.name}' revoked. They have been told."

    def get_success_url(self, result):
        return reverse("tokens:member_tokens", args=[self.organization.name])
