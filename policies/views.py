"""Settings pages: Org Permissions and Enforce sign-in."""

from django.contrib import messages
from django.shortcuts import redirect
from django.views.generic import TemplateView

from orgs.mixins import OrganizationMixin
from policies import selectors
from policies.engine import CATEGORY_LABELS, Category, OrgPolicy, PullSnapshot, pull_decide
from policies.forms import AccessPolicyForm, ImageCheckForm
from policies.services import StalePolicyEdit, policy_update


class PermissionsView(OrganizationMixin, TemplateView):
    """Settings > Org Permissions: owners edit, members read; everyone can check an image."""

    template_name = "policies/permissions.html"
    tab = "settings"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        policy = selectors.policy_for_organization(organization=self.organization)
        context["policy"] = policy
        context["history"] = selectors.policy_history(organization=self.organization)
        if self.is_owner:
            context.setdefault(
                "form", AccessPolicyForm(initial={**policy.as_dict(), "version": policy.version})
            )
        context["check_form"], context["decision"], context["member_decision"] = self.check_image(
            policy
        )
        context["labels"] = CATEGORY_LABELS
        context["Category"] = Category
        return context

    def check_image(self, policy):
        """Answer 'Check an image' (a GET, so members can use it and it can be bookmarked).

        Returns the form, the decision for the user asking and, for owners (whom their own
        organisation does not restrict), the decision for a member bound only by this policy.
        """
        if "image" not in self.request.GET:
            return ImageCheckForm(), None, None
        form = ImageCheckForm(self.request.GET)
        if not form.is_valid():
            return form, None, None
        reference = form.cleaned_data["image"]
        snapshot = selectors.pull_snapshot(user=self.request.user, references=[reference])
        member_decision = None
        if self.is_owner:
            as_member = PullSnapshot(
                username="",
                organizations=(
                    OrgPolicy(name=self.organization.name, is_owner=False, **policy.as_dict()),
                ),
                verified_publishers=snapshot.verified_publishers,
            )
            member_decision = pull_decide(as_member, reference)
        return form, pull_decide(snapshot, reference), member_decision

    def post(self, request, *args, **kwargs):
        form = AccessPolicyForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                _, change = policy_update(
                    organization=self.organization,
                    actor=request.user,
                    expected_version=data["version"],
                    enabled=data["enabled"],
                    allow_official_images=data["allow_official_images"],
                    allow_verified_publishers=data["allow_verified_publishers"],
                )
            except StalePolicyEdit as error:
                messages.error(request, error.messages[0])
                return self.render_to_response(self.get_context_data(), status=409)
            if change is None:
                messages.info(request, "No changes to save.")
            else:
                messages.success(request, "Image Access Management settings saved.")
            return redirect("policies:permissions", org=self.organization.name)
        messages.error(request, "Nothing was changed: the submitted settings were not valid.")
        return self.render_to_response(self.get_context_data(form=form), status=400)
