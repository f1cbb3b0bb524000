"""Organisation pages. Views declare a form and a service call; access is in OrganizationMixin."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import RedirectView, View

from orgs import selectors, services
from orgs.forms import MemberAddForm, OrganizationCreateForm, TeamCreateForm
from orgs.mixins import OrganizationMixin, TeamMixin
from portal.mixins import ServiceFormView


class OrganizationListView(LoginRequiredMixin, ServiceFormView):
    """The organisations I belong to; anyone signed in can create one and becomes its owner."""

    template_name = "orgs/organization_list.html"
    form_class = OrganizationCreateForm
    success_message = "Organization {result.name} created."

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["organizations"] = selectors.organizations_of(user=self.request.user)
        return context

    def perform(self, form):
        return services.organization_create(
            name=form.cleaned_data["name"], creator=self.request.user
        )

    def get_success_url(self, result=None):
        return reverse("orgs:detail", kwargs={"org": result.name})


class OrganizationDetailView(OrganizationMixin, ServiceFormView):
    """Members of the organisation and their teams; owners add members here."""

    template_name = "orgs/organization_detail.html"
    form_class = MemberAddForm
    tab = "members"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "organization": self.organization}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["members"] = selectors.organization_members(organization=self.organization)
        return context

    def perform(self, form):
        team, user = form.cleaned_data["team"], form.cleaned_data["user"]
        return services.team_member_add(team=team, user=user)

    def get_success_message(self, result):
        return f"Added {result.user.username} to team {result.team.name}."


class MemberRemoveView(OrganizationMixin, View):
    """Remove a user from every team of the organisation (owners only; never the last owner)."""

    owner_only = True

    def post(self, request, *args, **kwargs):
        user = get_object_or_404(get_user_model(), username=kwargs["username"])
        try:
            services.organization_member_remove(organization=self.organization, user=user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Removed {user.username} from {self.organization.name}.")
        return redirect("orgs:detail", org=self.organization.name)


class TeamListView(OrganizationMixin, ServiceFormView):
    """The organisation's teams; owners create teams here."""

    template_name = "orgs/team_list.html"
    form_class = TeamCreateForm
    tab = "teams"
    success_message = "Team {result.name} created."

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["teams"] = selectors.organization_teams(organization=self.organization)
        return context

    def perform(self, form):
        return services.team_create(organization=self.organization, **form.cleaned_data)

    def get_success_url(self, result=None):
        return reverse("orgs:team", kwargs={"org": self.organization.name, "team": result.name})


class TeamDetailView(TeamMixin, ServiceFormView):
    """One team and its members; owners add members to it here."""

    template_name = "orgs/team_detail.html"
    form_class = MemberAddForm
    tab = "teams"

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "organization": self.organization,
            "initial": {"team": self.team},
        }

    def perform(self, form):
        return services.team_member_add(team=self.team, user=form.cleaned_data["user"])

    def get_success_message(self, result):
        return f"Added {result.user.username} to team {result.team.name}."


class TeamMemberRemoveView(TeamMixin, View):
    """Remove a user from one team (owners only; never the last owner)."""

    owner_only = True

    def post(self, request, *args, **kwargs):
        user = get_object_or_404(get_user_model(), username=kwargs["username"])
        try:
            services.team_member_remove(team=self.team, user=user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Removed {user.username} from team {self.team.name}.")
        return redirect("orgs:team", org=self.organization.name, team=self.team.name)


class SettingsView(OrganizationMixin, RedirectView):
    """``/settings/`` opens the first settings page."""

    def get_redirect_url(self, *args, **kwargs):
        return reverse("policies:permissions", kwargs={"org": self.organization.name})
