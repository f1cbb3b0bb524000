"""Organisation pages. Views declare a form and a service call; access is in OrganizationMixin."""

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import ngettext
from django.views.generic import RedirectView, TemplateView, View

from core.mixins import ConfirmActionView, Confirmation, ServiceFormView
from orgs import selectors, services
from orgs.forms import OrganizationCreateForm, TeamCreateForm, TeamMemberAddForm, TeamUpdateForm
from orgs.mixins import OrganizationMixin, TeamMixin
from orgs.team_extensions import team_sections


class OrganizationListView(LoginRequiredMixin, ServiceFormView):
    """The organisations I belong to, with my role and whether Image Access Management is on;
    whoever may create organisations (``ORGANIZATION_CREATION``) creates one here and becomes
    its owner. Anyone else sees no form, and their POST is a 403 that says why."""

    template_name = "orgs/organization_list.html"
    form_class = OrganizationCreateForm
    success_message = "Organization {result.name} created."

    def post(self, request, *args, **kwargs):
        refusal = selectors.organization_creation_refusal(user=request.user)
        if refusal is not None:
            raise PermissionDenied(refusal)
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["organizations"] = selectors.organizations_of(user=self.request.user)
        context["creation_refusal"] = selectors.organization_creation_refusal(
            user=self.request.user
        )
        return context

    def perform(self, form):
        return services.organization_create_checked(
            name=form.cleaned_data["name"], creator=self.request.user
        )

    def get_success_url(self, result=None):
        return reverse("orgs:detail", kwargs={"org": result.name})


class OrganizationDetailView(OrganizationMixin, TemplateView):
    """Members of the organisation and their teams: searched by username (``?q=``) and
    paginated (``?page=``), so a large organisation costs the same few queries."""

    template_name = "orgs/organization_detail.html"
    tab = "members"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.get("q", "")
        page = selectors.organization_members(
            organization=self.organization, query=query, page=self.request.GET.get("page")
        )
        context.update(page=page, query=query)
        if self.is_owner:
            context["next_steps"] = selectors.organization_next_steps(
                organization=self.organization
            )
        return context


class NextStepsDismissView(OrganizationMixin, View):
    """POST: hide the "Next steps" box from the organisation's home (owners only)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        services.organization_next_steps_dismiss(organization=self.organization)
        messages.success(request, "Next steps hidden.")
        return redirect("orgs:detail", org=self.organization.name)


class MemberMixin(OrganizationMixin):
    """Resolves ``self.member``: the user named by the URL's ``username``, if they are in the
    organisation (404 otherwise), and ``self.member_teams``, their teams there."""

    def resolve(self, **kwargs) -> None:
        super().resolve(**kwargs)
        self.member = get_user_model().objects.filter(username=kwargs["username"]).first()
        self.member_teams = (
            selectors.teams_of_member(organization=self.organization, user=self.member)
            if self.member is not None
            else []
        )
        if not self.member_teams:
            raise Http404("No such member.")


class MemberRemoveView(MemberMixin, ConfirmActionView):
    """Remove a user from every team of the organisation (owners only; never the last
    owner): GET explains, POST removes."""

    template_name = "orgs/confirm.html"
    owner_only = True
    tab = "members"

    def confirmation(self):
        name, org = self.member.username, self.organization.name
        teams = ", ".join(team.name for team in self.member_teams)
        return Confirmation(
            title=f"Remove {name} from {org}?",
            consequences=(
                f"{name} will be taken out of every team of {org} ({teams}).",
                f"They will no longer see {org}'s pages or be able to push to {org}/…, and "
                f"{org}'s Image Access Management will no longer apply to their pulls.",
                f"To come back, {name} needs a new invitation.",
            ),
            button=f"Remove {name}",
            cancel_url=reverse("orgs:detail", kwargs={"org": org}),
            refusal=selectors.last_owner_refusal(
                organization=self.organization, users=[self.member]
            ),
        )

    def perform(self):
        services.organization_member_remove(organization=self.organization, user=self.member)

    def get_success_message(self, result):
        return f"Removed {self.member.username} from {self.organization.name}."

    def get_success_url(self, result):
        return reverse("orgs:detail", kwargs={"org": self.organization.name})


class LeaveView(OrganizationMixin, ConfirmActionView):
    """Leave the organisation (any member; never its last owner): GET explains, POST leaves."""

    template_name = "orgs/confirm.html"
    owner_only_methods = frozenset()

    def confirmation(self):
        org = self.organization.name
        user = self.request.user
        return Confirmation(
            title=f"Leave {org}?",
            consequences=(
                f"You will be taken out of every team of {org}.",
                f"You will no longer see {org}'s pages or be able to push to {org}/…, and "
                f"{org}'s Image Access Management will no longer apply to your pulls.",
                f"To come back, you need a new invitation from an owner of {org}.",
            ),
            button=f"Leave {org}",
            cancel_url=reverse("orgs:detail", kwargs={"org": org}),
            refusal=selectors.last_owner_refusal(organization=self.organization, users=[user]),
        )

    def perform(self):
        services.organization_member_remove(organization=self.organization, user=self.request.user)

    def get_success_message(self, result):
        return f"You left {self.organization.name}."

    def get_success_url(self, result):
        return reverse("orgs:list")


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
    """One team: its members (searched and paginated like the members page) and what the apps
    above keep for it (its grant and allowlist entries, :mod:`orgs.team_extensions`). Owners
    add the organisation's members to it here (POST), and invite anyone else."""

    template_name = "orgs/team_detail.html"
    form_class = TeamMemberAddForm

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "team": self.team,
            "candidates": selectors.team_member_candidates(team=self.team),
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        query = self.request.GET.get("q", "")
        context.update(
            page=selectors.team_members(
                team=self.team, query=query, page=self.request.GET.get("page")
            ),
            query=query,
            sections=team_sections(self.team),
        )
        return context

    def perform(self, form):
        return services.team_member_add_existing(team=self.team, user=form.cleaned_data["username"])

    def get_success_message(self, result):
        return f"Added {result.user.username} to team {self.team.name}."

    def get_success_url(self, result=None):
        return reverse("orgs:team", kwargs={"org": self.organization.name, "team": self.team.name})


class TeamEditView(TeamMixin, ServiceFormView):
    """Rename a team or change its description (owners only; never the owners team's name)."""

    template_name = "orgs/team_edit.html"
    form_class = TeamUpdateForm
    owner_only = True

    def get_initial(self):
        return {"name": self.team.name, "description": self.team.description}

    def perform(self, form):
        return services.team_update(team=self.team, **form.cleaned_data)

    def get_success_message(self, result):
        return f"Team {result.name} saved."

    def get_success_url(self, result=None):
        return reverse("orgs:team", kwargs={"org": self.organization.name, "team": result.name})


LEAVING_SHOWN = 20  # members named on a team's deletion page; the others are counted


class TeamDeleteView(TeamMixin, ConfirmActionView):
    """Delete a team (owners only; never the owners team): GET says what goes with it, POST
    deletes."""

    template_name = "orgs/confirm.html"
    owner_only = True

    def confirmation(self):
        org, team = self.organization.name, self.team.name
        consequences = [f"Team {team} and its memberships are deleted."]
        leaving = selectors.team_only_members(team=self.team)
        if leaving:
            shown = ", ".join(leaving[:LEAVING_SHOWN])
            more = len(leaving) - LEAVING_SHOWN
            consequences.append(
                f"No longer members of {org} (they are in no other team): {shown}"
                + (f" and {more} more." if more > 0 else ".")
            )
        consequences.extend(
            section.deleted_with for section in team_sections(self.team) if section.deleted_with
        )
        pending = self.team.invitations.pending().count()
        if pending:
            consequences.append(
                ngettext(
                    "Its pending invitation is withdrawn.",
                    "Its %(count)d pending invitations are withdrawn.",
                    pending,
                )
                % {"count": pending}
            )
        return Confirmation(
            title=f"Delete team {team}?",
            consequences=tuple(consequences),
            button=f"Delete team {team}",
            cancel_url=reverse("orgs:team", kwargs={"org": org, "team": team}),
            refusal=(
                f"The {team} team can't be deleted: it is who manages {org}."
                if self.team.is_owners
                else None
            ),
        )

    def perform(self):
        services.team_delete(team=self.team, actor=self.request.user)

    def get_success_message(self, result):
        return f"Deleted team {self.team.name}."

    def get_success_url(self, result):
        return reverse("orgs:teams", kwargs={"org": self.organization.name})


class TeamMemberRemoveView(TeamMixin, MemberMixin, ConfirmActionView):
    """Remove a user from one team (owners only; never the last owner): GET explains, POST
    removes."""

    template_name = "orgs/confirm.html"
    owner_only = True

    def resolve(self, **kwargs) -> None:
        super().resolve(**kwargs)
        if self.team not in self.member_teams:
            raise Http404("Not in this team.")

    def confirmation(self):
        name, org, team = self.member.username, self.organization.name, self.team.name
        others = [t.name for t in self.member_teams if t != self.team]
        consequences = [f"{name} will be taken out of team {team}."]
        if self.team.is_owners:
            consequences.append(
                f"{name} will no longer manage {org}, and {org}'s Image Access Management "
                "will apply to their pulls."
            )
        if others:
            consequences.append(f"{name} stays a member of {org} through: {', '.join(others)}.")
        else:
            consequences.append(
                f"{team} is {name}'s only team in {org}: they will no longer be a member of "
                f"{org}, and will need a new invitation to come back."
            )
        refusal = None
        if self.team.is_owners:
            refusal = selectors.last_owner_refusal(
                organization=self.organization, users=[self.member]
            )
        return Confirmation(
            title=f"Remove {name} from team {team}?",
            consequences=tuple(consequences),
            button=f"Remove {name} from {team}",
            cancel_url=reverse("orgs:team", kwargs={"org": org, "team": team}),
            refusal=refusal,
        )

    def perform(self):
        services.team_member_remove(team=self.team, user=self.member)

    def get_success_message(self, result):
        return f"Removed {self.member.username} from team {self.team.name}."

    def get_success_url(self, result):
        return reverse("orgs:team", kwargs={"org": self.organization.name, "team": self.team.name})


class SettingsView(OrganizationMixin, RedirectView):
    """``/settings/`` opens the first settings page."""

    def get_redirect_url(self, *args, **kwargs):
        return reverse("policies:permissions", kwargs={"org": self.organization.name})
