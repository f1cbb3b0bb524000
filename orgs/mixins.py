"""The pages' side of the organisation access rule (:mod:`orgs.access`, shared with the API):
anonymous visitors are sent to the login page; signed-in users who are not members get a 404
(an organisation's existence is not leaked); members get a 403 on owner-only actions.
"""

from django.contrib.auth.views import redirect_to_login
from django.http import Http404

from orgs.access import OWNER_ONLY_METHODS, organization_access
from orgs.models import Team
from orgs.selectors import team_of_organization


class OrganizationMixin:
    """Resolves ``self.organization`` from the URL's ``org`` through a member-scoped queryset.

    ``owner_only`` makes every method owner-only; ``owner_only_methods`` lists the methods that
    are (by default the writes). ``tab`` names the navigation tab to highlight. Subclasses that
    need more objects from the URL resolve them in :meth:`resolve`, which runs once access is
    granted.
    """

    owner_only = False
    owner_only_methods = OWNER_ONLY_METHODS
    tab = ""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        access = organization_access(
            user=request.user,
            name=kwargs["org"],
            owner_action=self.owner_only or request.method in self.owner_only_methods,
        )
        self.organization, self.is_owner = access.organization, access.is_owner
        self.resolve(**kwargs)
        return super().dispatch(request, *args, **kwargs)

    def resolve(self, **kwargs) -> None:
        """Look up further objects named by the URL (raise Http404 if one is missing)."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(organization=self.organization, is_owner=self.is_owner, tab=self.tab)
        return context


class TeamMixin(OrganizationMixin):
    """Also resolves ``self.team``: the organisation's team named by the URL's ``team``."""

    tab = "teams"

    def resolve(self, **kwargs) -> None:
        super().resolve(**kwargs)
        try:
            self.team = team_of_organization(organization=self.organization, name=kwargs["team"])
        except Team.DoesNotExist:
            raise Http404("No such team.") from None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["team"] = self.team  # TemplateView also passes the URL's "team", a name
        return context
