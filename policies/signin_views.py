"""Settings > Enforce sign-in: the registry.json file, other formats, and install commands."""

from django.http import HttpResponse
from django.views.generic import TemplateView, View

from orgs.mixins import OrganizationMixin
from orgs.models import Organization
from policies import signin
from policies.forms import SignInOrgsForm


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


class SignInView(SignInOrgsMixin, TemplateView):
    template_name = "policies/sign_in.html"

    def get(self, request, *args, **kwargs):
        form, orgs = self.selected_orgs()
        context = self.get_context_data(orgs_form=form)
        if orgs is not None:
            context.update(
                registry_json=signin.registry_json(orgs).decode("ascii"),
                instructions=signin.install_instructions(orgs),
                query=request.GET.urlencode(),
                paths=[
                    ("Windows", signin.WINDOWS_REGISTRY_JSON_PATH),
                    ("macOS", signin.MACOS_REGISTRY_JSON_PATH),
                    ("Linux", signin.LINUX_REGISTRY_JSON_PATH),
                ],
                precedence_note=signin.PRECEDENCE_NOTE,
                multiple_orgs_note=signin.MULTIPLE_ORGS_NOTE,
                mobileconfig_note=signin.MOBILECONFIG_INSTALL_NOTE,
                registry_key=signin.WINDOWS_REGISTRY_KEY,
            )
        return self.render_to_response(context, status=200 if orgs is not None else 400)


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
