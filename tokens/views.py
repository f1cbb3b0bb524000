"""The account's access tokens (list, create with the secret shown once, revoke, delete) and
registry sessions (list, revoke). The registry's token service is :mod:`tokens.endpoint`."""

import shlex

from django.conf import settings
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.translation import ngettext

from core.mixins import ConfirmActionView, Confirmation, ServiceFormView
from policies.hub_cache import hub_cache_help
from tokens.forms import AccessTokenCreateForm
from tokens.selectors import access_tokens_of, registry_sessions_of
from tokens.services import (
    access_token_create,
    access_token_delete,
    access_token_revoke,
    access_tokens_delete_inactive,
    inactive_tokens_q,
    refresh_token_revoke,
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
        # Rendered, not redirected: the secret must not travel through the session.
        context = self.get_context_data(form=self.get_form_class()(), token=token, secret=secret)
        response = self.render_to_response(context)
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
