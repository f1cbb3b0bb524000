"""Settings > Enforce sign-in (owners): the page with the files and commands for each operating
system, and the files as downloads."""

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.generic import TemplateView, View

from core.links import site_url
from orgs.mixins import OrganizationMixin
from orgs.models import Organization
from policies.hub_cache import restriction_check
from signin import files, instructions
from signin.forms import SignInOrgsForm


class SignInOrgsMixin(OrganizationMixin):
    """Owner-only; reads ``?also=...`` (other organisations the owner owns) from the query."""

    owner_only = True
    tab = "settings"

    def orgs_form(self) -> SignInOrgsForm:
        owned = Organization.objects.owned_by(self.request.user).values_list("name", flat=True)
        data = self.request.GET if "also" in self.request.GET else None
        return SignInOrgsForm(data, organization=self.organization, owned_names=list(owned))

    def selected_orgs(self):
        """``(form, orgs)``: the checked :class:`~signin.files.AllowedOrgs`, or None when the
        query is invalid."""
        form = self.orgs_form()
        if form.is_bound and not form.is_valid():
            return form, None
        if not form.is_bound:
            form.cleaned_data = {}
        return form, files.allowed_orgs(form.org_names())


@dataclass(frozen=True)
class Link:
    """A download as the page shows it."""

    url: str
    name: str


@dataclass(frozen=True)
class MethodItem:
    """A :class:`~signin.instructions.Method` with its download links resolved."""

    method: instructions.Method
    download: Link | None
    also_download: Link | None


@dataclass(frozen=True)
class Panel:
    """One operating system's methods, the link that selects it, and whether it is shown."""

    os: instructions.OsInstructions
    href: str
    selected: bool
    methods: tuple[MethodItem, ...]

    @property
    def recommended(self) -> MethodItem:
        return self.methods[0]

    @property
    def alternatives(self) -> tuple[MethodItem, ...]:
        return self.methods[1:]


class SignInView(SignInOrgsMixin, TemplateView):
    """The files and commands for each operating system. One OS is shown at a time: the one
    in ``?os=``, else the one the browser's User-Agent names; the others are a link (with
    JavaScript, a tab) away."""

    template_name = "signin/sign_in.html"

    def get(self, request, *args, **kwargs):
        form, orgs = self.selected_orgs()
        context = self.get_context_data(orgs_form=form)
        if orgs is not None:
            context.update(
                panels=self.panels(orgs),
                several=len(orgs.names) > 1,
                precedence_note=instructions.PRECEDENCE_NOTE,
                multiple_orgs_note=instructions.MULTIPLE_ORGS_NOTE,
                installer_note=instructions.INSTALLER_SINGLE_ORG_NOTE,
                hub_cache_check=restriction_check(
                    host=settings.DOCKER_HUB_CACHE_HOST,
                    organization=self.organization.name,
                    activity_url=site_url(reverse("activity:my_activity")),
                ),
            )
        response = self.render_to_response(context, status=200 if orgs is not None else 400)
        patch_vary_headers(response, ["User-Agent"])
        return response

    def panels(self, orgs) -> list[Panel]:
        selected = self.request.GET.get("os")
        if selected not in instructions.OS_KEYS:
            selected = instructions.os_from_user_agent(self.request.META.get("HTTP_USER_AGENT", ""))
        query = self.request.GET.copy()
        query.pop("os", None)
        suffix = f"?{query.urlencode()}" if query else ""
        links = {
            kind: Link(reverse(url_name, kwargs={"org": self.organization.name}) + suffix, filename)
            for kind, (url_name, filename) in DOWNLOADS.items()
        }
        panels = []
        for os_instructions in instructions.install_instructions(orgs):
            query["os"] = os_instructions.os_key
            items = tuple(
                MethodItem(
                    method,
                    links[method.download] if method.download else None,
                    links[method.also_download] if method.also_download else None,
                )
                for method in os_instructions.methods
            )
            panels.append(
                Panel(
                    os_instructions,
                    f"?{query.urlencode()}",
                    os_instructions.os_key == selected,
                    items,
                )
            )
        return panels


# Each downloadable file: its URL name and file name.
DOWNLOADS = {
    "registry.json": ("signin:sign_in_registry_json", files.REGISTRY_JSON_FILE_NAME),
    "reg": ("signin:sign_in_reg", files.REG_FILE_NAME),
    "mobileconfig": ("signin:sign_in_mobileconfig", files.MOBILECONFIG_FILE_NAME),
}


class SignInDownloadView(SignInOrgsMixin, View):
    """One of the files, as an attachment; ``kind`` picks which."""

    kind = "registry.json"
    FILES = {
        "registry.json": (files.REGISTRY_JSON_FILE_NAME, "application/json"),
        "reg": (files.REG_FILE_NAME, "application/octet-stream"),
        "mobileconfig": (files.MOBILECONFIG_FILE_NAME, "application/x-apple-aspen-config"),
    }

    def get(self, request, *args, **kwargs):
        form, orgs = self.selected_orgs()
        if orgs is None:
            message = "; ".join(error for errors in form.errors.values() for error in errors)
            return HttpResponse(message + "\n", status=400, content_type="text/plain")
        filename, content_type = self.FILES[self.kind]
        if self.kind == "registry.json":
            body = files.registry_json(orgs)
        elif self.kind == "reg":
            body = files.windows_reg_file(orgs)
        else:
            identifier, payload = files.mobileconfig_uuids(orgs)
            body = files.macos_mobileconfig(orgs, identifier_uuid=identifier, payload_uuid=payload)
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response
