"""What every API view shares: the access rules of the pages, and safe concurrent edits of an
organisation's settings (``ETag`` / ``If-Match``)."""

from django.http import Http404
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from api.errors import Refused
from orgs.access import OWNER_ONLY_METHODS, organization_access
from orgs.models import Organization
from policies.models import AccessPolicy
from policies.selectors import policy_for_organization
from policies.services import StalePolicyEdit, policy_update

# Without If-Match a write applies to the version just read; a save landing in between makes
# it stale, and it is tried again on the new version (a client that sent no precondition
# asked for none).
ATTEMPTS_WITHOUT_PRECONDITION = 3


class OrganizationView(APIView):
    """An endpoint of one organisation, named by the URL's ``org`` (``org_kwarg``): anonymous
    401 and token scope first (the permission classes), then the organisation access rule
    (:mod:`orgs.access`, shared with the pages): non-member 404 (an organisation's existence
    is not leaked), member on an owner action 403.

    ``owner_only`` makes every method owner-only; ``owner_only_methods`` lists the methods that
    are (by default the writes). :meth:`resolve` looks up further objects named by the URL.
    """

    org_kwarg = "org"
    owner_only = False
    owner_only_methods = OWNER_ONLY_METHODS

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        access = organization_access(
            user=request.user,
            name=kwargs[self.org_kwarg],
            owner_action=self.owner_only or request.method in self.owner_only_methods,
        )
        self.organization, self.is_owner = access.organization, access.is_owner
        try:
            self.resolve(**kwargs)
        except Http404 as missing:
            raise NotFound(str(missing)) from None

    def resolve(self, **kwargs) -> None:
        """Look up further objects named by the URL (raise ``Http404`` if one is missing)."""


def etag(policy: AccessPolicy) -> str:
    """The ``ETag`` of an organisation's settings: its policy version, which grows with every
    change of what members may pull (settings, grants, allowlist)."""
    return f'"{policy.version}"'


def with_etag(response: Response, policy: AccessPolicy) -> Response:
    response["ETag"] = etag(policy)
    return response


def expected_version(request, organization: Organization) -> int:
    """The policy version a write may apply to: with ``If-Match``, the version the client read,
    refused (412, nothing changed) when the settings changed since (``*`` matches any
    version); without it, the current version (Docker Hub's API has no preconditions)."""
    current = policy_for_organization(organization=organization)
    header = request.headers.get("If-Match")
    if header is None:
        return current.version
    tags = [tag.strip() for tag in header.split(",")]
    if "*" in tags or etag(current) in tags:
        return current.version
    raise Refused(
        412,
        f"The settings changed since you read them (If-Match: {header[:100]}; the current ETag "
        f"is {etag(current)}). Nothing was changed: read them again and reapply your change.",
    )


def save_with_precondition(request, organization: Organization, save):
    """``save(expected_version)`` (a service that refuses a stale version), applied to the
    version :func:`expected_version` allows; a stale save is 412 with ``If-Match``, and tried
    again on the new version without it."""
    attempts = 1 if "If-Match" in request.headers else ATTEMPTS_WITHOUT_PRECONDITION
    for attempt in range(attempts):
        try:
            return save(expected_version(request, organization))
        except StalePolicyEdit:
            if attempt == attempts - 1:
                raise Refused(
                    412,
                    "The settings changed while you were saving. Nothing was changed: read "
                    "them again and reapply your change.",
                ) from None


def save_policy(request, organization: Organization, values: dict) -> AccessPolicy:
    """Save ``values`` (policy settings) as the request's user, with its precondition; the
    policy as saved (recorded in the settings history when something changed)."""
    return save_with_precondition(
        request,
        organization,
        lambda version: policy_update(
            organization=organization,
            actor=request.user,
            expected_version=version,
            values=values,
        )[0],
    )
