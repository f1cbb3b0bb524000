"""Settings > Org Permissions: owners edit the policy, members read it; everyone checks images."""

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.functional import cached_property

from orgs.mixins import OrganizationMixin
from policies import selectors
from policies.engine import as_plain_member, pull_decide
from policies.forms import AccessPolicyForm, ImageCheckForm
from policies.services import StalePolicyEdit, policy_update
from portal.mixins import ServiceFormView


class PermissionsView(OrganizationMixin, ServiceFormView):
    """The policy form (owners), the saved policy and its history, and 'Check an image'."""

    template_name = "policies/permissions.html"
    form_class = AccessPolicyForm
    tab = "settings"

    @cached_property
    def policy(self):
        return selectors.policy_for_organization(organization=self.organization)

    def get_initial(self):
        return {**self.policy.as_dict(), "version": self.policy.version}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["policy"] = self.policy
        context["history"] = selectors.policy_history(organization=self.organization)
        context["check_form"], context["decision"], context["member_decision"] = self.check_image()
        return context

    def check_image(self):
        """Answer 'Check an image' (a GET, so members can use it and it can be bookmarked).

        Returns the form, the decision for the user asking and, for owners (whom their own
        organisation does not restrict), the decision for a plain member of this organisation.
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
            this = next(o for o in snapshot.organizations if o.name == self.organization.name)
            member_decision = pull_decide(as_plain_member(snapshot, this), reference)
        return form, pull_decide(snapshot, reference), member_decision

    def perform(self, form):
        return policy_update(
            organization=self.organization,
            actor=self.request.user,
            expected_version=form.cleaned_data["version"],
            values=form.policy_values(),
        )

    def succeeded(self, result):
        _, change = result
        if change is None:
            messages.info(self.request, "No changes to save.")
        else:
            messages.success(self.request, "Image Access Management settings saved.")
        return redirect("policies:permissions", org=self.organization.name)

    def refused(self, form, error):
        if isinstance(error, StalePolicyEdit):
            # Show the settings as they are now, which the owner must review before saving.
            messages.error(self.request, error.messages[0])
            return self.render_to_response(
                self.get_context_data(form=self.get_form_class()(initial=self.get_initial())),
                status=409,
            )
        return super().refused(form, error)

    def form_invalid(self, form):
        messages.error(self.request, "Nothing was changed: the submitted settings were not valid.")
        return super().form_invalid(form)
