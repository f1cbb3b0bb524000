"""Settings > Enforce sign-in: the registry.json file, other formats, and install commands."""

from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponse
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.generic import TemplateView, View

from orgs.mixins import OrganizationMixin
from orgs.models import Organization
from policies import signin
from policies.forms import SignInOrgsForm
from policies.hub_cache import restriction_check


class SignInOrgsMixin(OrganizationMixin):
    """Owner-only; reads ``?also=...`` (other organisations the owner owns) from the query."""

    owner_only = True
    tab = "settings"

    def orgs_form(self) -> SignInOrgsForm:
        owned = Organization.objects.owned_by(self.request.user).values_list("name", flat=True)
        data = self.request.GET if "also" in self.request.GET else None
        return SignInOrgsForm(data, organization=self.organization, owned_names=list(owned))

    def selected_orgs(self):
        """``(form, orgs)``: the checked :class:`~policies.signin.AllowedOrgs`, or None when the
        query is invalid."""
        form = self.orgs_form()
        if form.is_bound and not form.is_valid():
            return form, None
        if not form.is_bound:
            form.cleaned_data = {}
        return form, signin.allowed_orgs(form.org_names())


@dataclass(frozen=True)
class Link:
    """A download as the page shows it."""

    url: str
    name: str


@dataclass(frozen=True)
class MethodItem:
    """A :class:`~policies.signin.Method` with its download links resolved."""

    method: signin.Method
    download: Link | None
    also_download: Link | None


@dataclass(frozen=True)
class Panel:
    """One operating system's methods, the link that selects it, and whether it is shown."""

    os: signin.OsInstructions
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

    template_name = "policies/sign_in.html"

    def get(self, request, *args, **kwargs):
        form, orgs = self.selected_orgs()
        context = self.get_context_data(orgs_form=form)
        if orgs is not None:
            context.update(
                panels=self.panels(orgs),
                several=len(orgs.names) > 1,
                precedence_note=signin.PRECEDENCE_NOTE,
                multiple_orgs_note=signin.MULTIPLE_ORGS_NOTE,
                installer_note=signin.INSTALLER_SINGLE_ORG_NOTE,
                hub_cache_check=restriction_check(
                    host=settings.DOCKER_HUB_CACHE_HOST,
                    organization=self.organization.name,
                    activity_url=request.build_absolute_uri(reverse("policies:my_activity")),
                ),
            )
        response = self.render_to_response(context, status=200 if orgs is not None else 400)
        patch_vary_headers(response, ["User-Agent"])
        return response

    def panels(self, orgs) -> list[Panel]:
        selected = self.request.GET.get("os")
        if selected not in signin.OS_KEYS:
            selected = signin.os_from_user_agent(self.request.META.get("HTTP_USER_AGENT", ""))
        query = self.request.GET.copy()
        query.pop("os", None)
        suffix = f"?{query.urlencode()}" if query else ""
        links = {
            kind: Link(reverse(url_name, kwargs={"org": self.organization.name}) + suffix, filename)
            for kind, (url_name, filename) in DOWNLOADS.items()
        }
        panels = []
        for instructions in signin.install_instructions(orgs):
            query["os"] = instructions.os_key
            items = tuple(
                MethodItem(
                    method,
                    links[method.download] if method.download else None,
                    links[method.also_download] if method.also_download else None,
                )
                for method in instructions.methods
            )
            panels.append(
                Panel(
                    instructions,
                    f"?{query.urlencode()}",
                    instructions.os_key == selected,
                    items,
                )
            )
        return panels


# Each downloadable file: its URL name and file name.
DOWNLOADS = {
    "registry.json": ("policies:sign_in_registry_json", signin.REGISTRY_JSON_FILE_NAME),
    "reg": ("policies:sign_in_reg", signin.REG_FILE_NAME),
    "mobileconfig": ("policies:sign_in_mobileconfig", signin.MOBILECONFIG_FILE_NAME),
}


class SignInDownloadView(SignInOrgsMixin, View):
    """One of the files, as an attachment; ``kind`` picks which."""

    kind = "registry.json"
    FILES = {
        "registry.json": (signin.REGISTRY_JSON_FILE_NAME, "application/json"),
        "reg": (signin.REG_FILE_NAME, "application/octet-stream"),
        "mobileconfig": (signin.MOBILECONFIG_FILE_NAME, "application/x-apple-aspen-config"),
    }

    def get(self, request, *args, **kwargs):
        form, orgs = self.selected_orgs()
        if orgs is None:
            message = "; ".join(error for errors in form.errors.values() for error in errors)
            return HttpResponse(message + "\n", status=400, content_type="text/plain")
        filename, content_type = self.FILES[self.kind]
        if self.kind == "registry.json":
            body = signin.registry_json(orgs)
        elif self.kind == "reg":
            body = signin.windows_reg_file(orgs)
        else:
            identifier, payload = signin.mobileconfig_uuids(orgs)
            body = signin.macos_mobileconfig(orgs, identifier_uuid=identifier, payload_uuid=payload)
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response
