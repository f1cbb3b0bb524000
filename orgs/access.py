"""The organisation access rule, in one place, for the pages (:mod:`orgs.mixins`) and the API
(:class:`api.views.OrganizationView`):

* a signed-in user who is not a member gets a 404, as for an organisation that does not exist
  (an organisation's existence is not leaked);
* a member gets a 403 on an owner-only action;
* anonymous visitors never get here: the pages send them to the login page, the API answers
  401.

Refusals are Django's ``Http404`` and ``PermissionDenied``, which Django renders as the error
pages and Django REST framework as the API's JSON errors.
"""

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404

from orgs.models import Organization
from orgs.selectors import is_owner, organization_for_member

#: The methods that are owner-only unless a view says otherwise: the writes.
OWNER_ONLY_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class OrganizationAccess:
    """What a member may do in an organisation."""

    organization: Organization
    is_owner: bool


def organization_access(*, user, name: str, owner_action: bool) -> OrganizationAccess:
    """``user``'s access to the organisation ``name`` for an action that is owner-only or not.

    :raises Http404: ``user`` is not a member (or there is no such organisation).
    :raises PermissionDenied: ``owner_action`` and ``user`` is not an owner.
    """
    try:
        organization = organization_for_member(user=user, name=name)
    except Organization.DoesNotExist:
        raise Http404("No such organization.") from None
    owner = is_owner(user=user, organization=organization)
    if owner_action and not owner:
        raise PermissionDenied(f"Only owners of {organization.name} can do that.")
    return OrganizationAccess(organization=organization, is_owner=owner)
