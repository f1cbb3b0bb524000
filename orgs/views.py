"""Organisation pages. Views only bind forms and call services; access is in OrganizationMixin."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views.generic import FormView, RedirectView, TemplateView, View

from orgs import selectors, services
from orgs.forms import MemberAddForm, OrganizationCreateForm, TeamCreateForm
from orgs.mixins import OrganizationMixin
from orgs.models import Organization, Team


def apply_service(form, call) -> bool:
    """Run ``call()``; put a ValidationError it raises back into ``form``. True on success."""
    try:
        call()
    except ValidationError as error:
        form.add_error(None, error)
        return False
    return True


class OrganizationListView(LoginRequiredMixin, TemplateView):
    """The organisations I belong to."""

    template_name = "orgs/organization_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        owned = set(Organization.objects.owned_by(user).values_list("pk", flat=True))
        context["organizations"] = [
            {"organization": org, "is_owner": org.pk in owned}
            for org in Organization.objects.for_user(user)
        ]
        context["form"] = OrganizationCreateForm()
        return context


class OrganizationCreateView(LoginRequiredMixin, FormView):
    """Create an organisation; its creator becomes its first owner."""

    template_name = "orgs/organization_create.html"
    form_class = OrganizationCreateForm

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)

    def form_valid(self, form):
        result = {}

        def create():
            result["org"] = services.organization_create(
                name=form.cleaned_data["name"], creator=self.request.user
            )

        if not apply_service(form, create):
            return self.form_invalid(form)
        messages.success(self.request, f"Organization {result['org'].name} created.")
        return redirect("orgs:detail", org=result["org"].name)


class OrganizationDetailView(OrganizationMixin, TemplateView):
    """Members of the organisation and their teams; owners add and remove members here."""

    template_name = "orgs/organization_detail.html"
    tab = "members"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["members"] = selectors.organization_members(organization=self.organization)
        if self.is_owner:
            context.setdefault("form", MemberAddForm(organization=self.organization))
        return context


class MemberAddView(OrganizationMixin, View):
    """Add an existing user to one of the organisation's teams (owners only)."""

    owner_only = True

    def post(self, request, *args, **kwargs):
        form = MemberAddForm(request.POST, organization=self.organization)
        if form.is_valid():
            team, user = form.cleaned_data["team"], form.cleaned_data["user"]
            if apply_service(form, lambda: services.team_member_add(team=team, user=user)):
                messages.success(request, f"Added {user.username} to team {team.name}.")
                return redirect("orgs:detail", org=self.organization.name)
        view = OrganizationDetailView(request=request, kwargs=kwargs)
        view.organization, view.is_owner = self.organization, self.is_owner
        context = view.get_context_data(form=form)
        return view.render_to_response(context, status=400)


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


class TeamListView(OrganizationMixin, TemplateView):
    """The organisation's teams; owners create teams here."""

    template_name = "orgs/team_list.html"
    tab = "teams"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["teams"] = selectors.organization_teams(organization=self.organization)
        if self.is_owner:
            context.setdefault("form", TeamCreateForm())
        return context

    def post(self, request, *args, **kwargs):
        form = TeamCreateForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data

            def create():
                services.team_create(
                    organization=self.organization,
                    name=data["name"],
                    description=data["description"],
                )

            if apply_service(form, create):
                messages.success(request, f"Team {data['name']} created.")
                return redirect("orgs:team", org=self.organization.name, team=data["name"])
        return self.render_to_response(self.get_context_data(form=form), status=400)


class TeamDetailView(OrganizationMixin, TemplateView):
    """One team and its members."""

    template_name = "orgs/team_detail.html"
    tab = "teams"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        team = get_object_or_404(
            selectors.organization_teams(organization=self.organization), name=kwargs["team"]
        )
        context["team"] = team
        context["form"] = MemberAddForm(organization=self.organization, initial={"team": team})
        return context


class TeamMemberRemoveView(OrganizationMixin, View):
    """Remove a user from one team (owners only; never the last owner)."""

    owner_only = True

    def post(self, request, *args, **kwargs):
        team = get_object_or_404(Team, organization=self.organization, name=kwargs["team"])
        user = get_object_or_404(get_user_model(), username=kwargs["username"])
        try:
            services.team_member_remove(team=team, user=user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Removed {user.username} from team {team.name}.")
        return HttpResponseRedirect(
            reverse("orgs:team", kwargs={"org": self.organization.name, "team": team.name})
        )


class SettingsView(OrganizationMixin, RedirectView):
    """``/settings/`` opens the first settings page."""

    def get_redirect_url(self, *args, **kwargs):
        return reverse("policies:permissions", kwargs={"org": self.organization.name})
