"""Access rules for every organisation URL, in one place.

Anonymous visitors are sent to the login page; signed-in users who are not members get a 404
(an organisation's existence is not leaked); members get a 403 on owner-only actions.
"""

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404

from orgs.models import Organization
from orgs.selectors import is_owner, organization_for_member


class OrganizationMixin:
    """Resolves ``self.organization`` from the URL's ``org`` through a member-scoped queryset.

    ``owner_only`` makes every method owner-only; ``owner_only_methods`` lists the methods that
    are (by default the writes). ``tab`` names the navigation tab to highlight.
    """

    owner_only = False
    owner_only_methods = frozenset({"POST", "PUT", "PATCH", "DELETE"})
    tab = ""

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        try:
            self.organization = organization_for_member(user=request.user, name=kwargs["org"])
        except Organization.DoesNotExist:
            raise Http404("No such organization.") from None
        self.is_owner = is_owner(user=request.user, organization=self.organization)
        owner_action = self.owner_only or request.method in self.owner_only_methods
        if owner_action and not self.is_owner:
            raise PermissionDenied("Only owners of this organization can do that.")
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(organization=self.organization, is_owner=self.is_owner, tab=self.tab)
        return context
