"""The SCIM 2.0 endpoint (``/scim/v2/``, for an organisation's identity provider) and the
owners' Provisioning page (``/orgs/<org>/settings/provisioning/``: the SCIM base URL, tokens
made, shown once and revoked, and the provisioning history).

The endpoint is a thin Django front of scim2-server's framework-independent handler: the
request's bearer token names the organisation, :class:`provisioning.storage.OrganizationStorage`
serves its users and teams, and every answer (errors included) is SCIM JSON.
"""

import json
import logging
from functools import cache

from django.conf import settings
from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils.cache import add_never_cache_headers
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt
from scim2_models import PayloadTooLargeException, SCIMException, UnauthorizedException
from scim2_server.handler import ScimHandler
from scim2_server.requests import ScimRequest
from scim2_server.routing import Operation
from scim2_server.service import ScimService

from core.mixins import ConfirmActionView, Confirmation, ServiceFormView
from orgs.mixins import OrganizationMixin
from provisioning import schema, selectors, services
from provisioning.forms import ScimTokenCreateForm
from provisioning.models import ScimToken
from provisioning.storage import OrganizationStorage

logger = logging.getLogger(__name__)

SCIM_ROOT = "/scim/v2"
#: The largest request body read (a group of a few thousand members fits).
MAX_BODY_BYTES = 1024 * 1024


@cache
def scim_service() -> ScimService:
    """The SCIM protocol of :mod:`provisioning.schema`'s description (one per process)."""
    return ScimService(schema.provider())


def scim_base_url() -> str:
    """The SCIM base URL an identity provider is given, from ``SITE_URL``."""
    return settings.SITE_URL + SCIM_ROOT


def _bearer_token(request) -> ScimToken:
    scheme, _, secret = request.headers.get("Authorization", "").partition(" ")
    token = (
        selectors.scim_token_by_secret(secret=secret.strip())
        if scheme.lower() == "bearer"
        else None
    )
    if token is None:
        raise UnauthorizedException(detail="A working SCIM token is required (Bearer).")
    services.scim_token_record_use(token=token)
    return token


@method_decorator(csrf_exempt, name="dispatch")
class ScimView(View):
    """``/scim/v2/<path>``: every SCIM request of an organisation's identity provider."""

    def dispatch(self, request, path=""):
        service = scim_service()
        scim_request = ScimRequest(
            method=request.method,
            base_url=scim_base_url(),
            path="/" + path,
            query=request.GET.dict(),
            headers=list(request.headers.items()),
        )
        try:
            response = self._serve(request, service, scim_request)
        except Exception as error:
            if not isinstance(error, SCIMException):
                logger.exception("SCIM request failed: %s %s", request.method, request.path)
            response = service.error_response(error)
        body = b"" if response.body is None else json.dumps(response.body).encode()
        answer = HttpResponse(body, status=response.status.value)
        for name, value in response.headers.items():
            answer[name] = value
        add_never_cache_headers(answer)
        return answer

    @staticmethod
    def _serve(request, service: ScimService, scim_request: ScimRequest):
        try:
            open_to_all = service.match(scim_request).operation is Operation.service_provider_config
        except SCIMException:
            open_to_all = False
        token = None if open_to_all else _bearer_token(request)
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            raise PayloadTooLargeException(
                detail=f"The request body is larger than {MAX_BODY_BYTES} bytes."
            )
        scim_request.body = request.body
        storage = OrganizationStorage(  # without a token: /ServiceProviderConfig reads none
            organization=token.organization if token else None,
            token=token,
            models={rt.name: service.get_model(rt) for rt in service.provider.resource_types},
        )
        return ScimHandler(service, storage).handle(scim_request)


class ProvisioningView(OrganizationMixin, ServiceFormView):
    """``/orgs/<org>/settings/provisioning/`` (owners): the SCIM base URL, the SCIM tokens
    (a new one's secret shown once) and the provisioning history."""

    template_name = "provisioning/organization_provisioning.html"
    form_class = ScimTokenCreateForm
    owner_only = True
    tab = "settings"

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            scim_base_url=scim_base_url(),
            tokens=selectors.scim_tokens_of(organization=self.organization),
            history=selectors.provisioning_history(organization=self.organization),
            **kwargs,
        )

    def perform(self, form):
        return services.scim_token_create(
            organization=self.organization, name=form.cleaned_data["name"], actor=self.request.user
        )

    def succeeded(self, result):
        token, secret = result
        # Rendered, not redirected: the secret must not travel through the session.
        context = self.get_context_data(form=self.form_class(), token=token, secret=secret)
        response = self.render_to_response(context)
        add_never_cache_headers(response)
        response["Cache-Control"] += ", no-store"
        return response


class ScimTokenRevokeView(OrganizationMixin, ConfirmActionView):
    """``/orgs/<org>/settings/provisioning/tokens/<id>/revoke/`` (owners): GET explains, POST
    revokes."""

    template_name = "provisioning/confirm.html"
    owner_only = True
    tab = "settings"

    def resolve(self, **kwargs):
        self.token = (
            selectors.scim_tokens_of(organization=self.organization).filter(pk=kwargs["pk"]).first()
        )
        if self.token is None:
            raise Http404("No such SCIM token.")

    def confirmation(self):
        return Confirmation(
            title=f"Revoke SCIM token '{self.token.name}' (iams_…{self.token.hint})?",
            consequences=(
                "The identity provider using it is refused at once: nobody is provisioned or "
                "deprovisioned through it any more.",
                "Nobody's access changes now. A revoked token cannot be restored.",
            ),
            button="Revoke token",
            cancel_url=reverse("provisioning:organization", args=[self.organization.name]),
            refusal="This token is already revoked." if self.token.revoked_at else None,
        )

    def perform(self):
        return services.scim_token_revoke(token=self.token, actor=self.request.user)

    def get_success_message(self, result):
        return f"SCIM token '{self.token.name}' is revoked."

    def get_success_url(self, result):
        return reverse("provisioning:organization", args=[self.organization.name])
