"""Single sign-on pages: the redirect to the provider and the way back, and the owners' page
of an organisation (Require single sign-on, groups mapped to teams)."""

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import View
from django.views.generic import TemplateView

from core.mixins import ConfirmActionView, Confirmation
from identity import client, selectors, services
from identity.forms import GroupMappingForm
from identity.models import GroupMapping
from orgs.mixins import OrganizationMixin

logger = logging.getLogger(__name__)
NEXT_KEY = "sso_next"


def _provider(provider_id: str):
    provider = selectors.provider_by_id(provider_id)
    if provider is None:
        raise Http404("No such identity provider.")
    return provider


def _failed(request, failure: client.SsoFailed, provider):
    return render(
        request,
        "identity/failed.html",
        {"reason": failure.message, "provider": provider},
        status=failure.status,
    )


class SsoLoginView(View):
    """``/sso/<provider>/login/``: off to the provider's sign-in page; ``?next=`` is where to
    come back to afterwards (a local URL only)."""

    def get(self, request, provider_id):
        provider = _provider(provider_id)
        next_url = request.GET.get("next", "")
        if next_url and url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            request.session[NEXT_KEY] = next_url
        else:
            request.session.pop(NEXT_KEY, None)
        callback = request.build_absolute_uri(reverse("identity:callback", args=[provider.id]))
        try:
            return client.authorization_redirect(request, provider, callback)
        except client.SsoFailed as failure:
            return _failed(request, failure, provider)


class SsoCallbackView(View):
    """``/sso/<provider>/callback/``: the provider's answer. Verified, it signs the person in
    (creating or linking the account, following their groups); otherwise a page says why and
    nothing was written."""

    def get(self, request, provider_id):
        provider = _provider(provider_id)
        next_url = request.session.pop(NEXT_KEY, None) or settings.LOGIN_REDIRECT_URL
        try:
            claims = client.verified_claims(request, provider)
            result = services.sso_sign_in(provider=provider, claims=claims)
        except client.SsoFailed as failure:
            logger.info("Single sign-on with %s refused: %s", provider.id, failure.message)
            return _failed(request, failure, provider)
        login(request, result.user, backend=settings.AUTHENTICATION_BACKENDS[0])
        if result.renamed_from:
            messages.info(
                request,
                f"The username {result.renamed_from} was taken by another account, so yours is "
                f"{result.user.username}.",
            )
        elif result.linked:
            messages.info(request, f"Your account is now linked to {provider.label}.")
        for change in result.changes:
            messages.info(request, f"You {change['action']} team {change['team']}.")
        return redirect(next_url)


class OrganizationSsoView(OrganizationMixin, TemplateView):
    """``/orgs/<org>/sso/`` (owners): whether single sign-on is required, and the groups
    mapped to teams, with the form that proposes a new mapping (confirmed on the next page)."""

    template_name = "identity/organization_sso.html"
    owner_only = True
    tab = "settings"

    def get_context_data(self, **kwargs):
        mappings = selectors.group_mappings_of(organization=self.organization)
        providers = selectors.configured_providers()
        labels = {provider.id: provider.label for provider in providers}
        return super().get_context_data(
            mappings=[
                (mapping, labels.get(mapping.provider, mapping.provider)) for mapping in mappings
            ],
            form=GroupMappingForm(organization=self.organization),
            providers=providers,
            **kwargs,
        )


class RequireSsoView(OrganizationMixin, ConfirmActionView):
    """``/orgs/<org>/sso/require/`` (owners): turn "Require single sign-on" on or off."""

    template_name = "identity/confirm.html"
    owner_only = True
    tab = "settings"

    def confirmation(self):
        org, turning_on = self.organization.name, not self.organization.require_sso
        back = reverse("identity:organization", args=[org])
        if turning_on:
            return Confirmation(
                title=f"Require single sign-on for {org}?",
                consequences=(
                    f"Members of {org} will have to sign in to the portal through the company's "
                    "identity provider: their passwords will be refused, in the portal and by "
                    "the registry (docker login).",
                    "Access tokens keep working for registry clients; members who sign in with "
                    "their password today should create one first.",
                    "Signed-in sessions are not ended.",
                    *(
                        ()
                        if selectors.has_sso_identity(user=self.request.user)
                        else (
                            "You have never signed in through single sign-on: do it once before, "
                            "or you will be refused too.",
                        )
                    ),
                ),
                button="Require single sign-on",
                cancel_url=back,
                refusal=None
                if selectors.configured_providers()
                else "No identity provider is configured on this portal.",
            )
        return Confirmation(
            title=f"Stop requiring single sign-on for {org}?",
            consequences=(f"Members of {org} may sign in with their password again.",),
            button="Stop requiring single sign-on",
            cancel_url=back,
        )

    def perform(self):
        return services.organization_require_sso_set(
            organization=self.organization,
            required=not self.organization.require_sso,
            actor=self.request.user,
        )

    def get_success_message(self, result):
        required = "now requires" if self.organization.require_sso else "no longer requires"
        return f"{self.organization.name} {required} single sign-on."

    def get_success_url(self, result):
        return reverse("identity:organization", args=[self.organization.name])


class GroupMappingAddView(OrganizationMixin, ConfirmActionView):
    """``/orgs/<org>/sso/mappings/add/?provider=&group=&team=`` (owners): GET says what the
    mapping will do, POST (to the same URL) creates it."""

    template_name = "identity/confirm.html"
    owner_only = True
    tab = "settings"

    def resolve(self, **kwargs):
        self.form = GroupMappingForm(self.request.GET, organization=self.organization)
        self.valid = self.form.is_valid()

    def confirmation(self):
        back = reverse("identity:organization", args=[self.organization.name])
        if not self.valid:
            errors = "; ".join(
                f"{self.form.fields[name].label if name in self.form.fields else ''}: {' '.join(e)}"
                for name, e in self.form.errors.items()
            )
            return Confirmation(
                title="Map a group to a team",
                consequences=(),
                button="",
                cancel_url=back,
                refusal=f"Check the mapping: {errors}",
            )
        data = self.form.cleaned_data
        provider = selectors.provider_by_id(data["provider"])
        team, group = data["team"], data["group"]
        owners = (
            " It is the owners team: its members manage the organization."
            if team == "owners"
            else ""
        )
        return Confirmation(
            title=f"Map group '{group}' of {provider.label} to team {team}?",
            consequences=(
                f"Everyone who signs in through {provider.label} with '{group}' in their groups "
                f"will join team {team} of {self.organization.name}, without an invitation."
                + owners,
                f"Members of team {team} who sign in through {provider.label} without a mapped "
                "group of this team will leave it (never the last owner).",
                "Each change is recorded in the organization's settings history.",
            ),
            button="Map the group",
            cancel_url=back,
        )

    def post(self, request, *args, **kwargs):
        if not self.valid:
            return self.render_to_response(self.get_context_data(), status=400)
        return super().post(request, *args, **kwargs)

    def perform(self):
        data = self.form.cleaned_data
        return services.group_mapping_create(
            team=self.form.teams[data["team"]],
            provider=selectors.provider_by_id(data["provider"]),
            group=data["group"],
            actor=self.request.user,
        )

    def get_success_message(self, result):
        return f"Group '{result.group}' is mapped to team {result.team.name}."

    def get_success_url(self, result):
        return reverse("identity:organization", args=[self.organization.name])


class GroupMappingDeleteView(OrganizationMixin, ConfirmActionView):
    """``/orgs/<org>/sso/mappings/<id>/delete/`` (owners): GET explains, POST removes."""

    template_name = "identity/confirm.html"
    owner_only = True
    tab = "settings"

    def resolve(self, **kwargs):
        try:
            self.mapping = selectors.group_mappings_of(organization=self.organization).get(
                pk=kwargs["pk"]
            )
        except GroupMapping.DoesNotExist:
            raise Http404("No such group mapping.") from None
        provider = selectors.provider_by_id(self.mapping.provider)
        self.provider_label = provider.label if provider else self.mapping.provider

    def confirmation(self):
        mapping = self.mapping
        return Confirmation(
            title=f"Stop mapping group '{mapping.group}' to team {mapping.team.name}?",
            consequences=(
                f"Signing in through {self.provider_label} will no longer add people to or "
                f"remove them from team {mapping.team.name} for this group.",
                "Nobody leaves the team now: remove members by hand if needed.",
            ),
            button="Remove the mapping",
            cancel_url=reverse("identity:organization", args=[self.organization.name]),
        )

    def perform(self):
        services.group_mapping_delete(
            mapping=self.mapping, actor=self.request.user, provider_label=self.provider_label
        )

    def get_success_message(self, result):
        return f"Group '{self.mapping.group}' is no longer mapped to team {self.mapping.team.name}."

    def get_success_url(self, result):
        return reverse("identity:organization", args=[self.organization.name])
