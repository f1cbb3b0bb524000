"""Exception request pages: a member asks an organisation's owners for an image it refuses
them (from a refusal on Org Permissions), an owner reviews a request and approves or declines
it, and a member follows their requests and the answers."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.views.generic import TemplateView

from core.links import site_url
from core.mail import MailFailureWarning
from core.mixins import ServiceFormView
from orgs.mixins import OrganizationMixin
from policies import selectors
from policies.engine import pull_decide
from policies.exceptions import selectors as exception_selectors
from policies.exceptions import services
from policies.exceptions.forms import (
    ExceptionApproveForm,
    ExceptionDeclineForm,
    ExceptionRequestForm,
)
from policies.forms import ImageCheckForm
from policies.models import ExceptionRequest
from policies.references import parse_reference
from policies.views import permissions_url


class ExceptionCreateView(MailFailureWarning, OrganizationMixin, ServiceFormView):
    """Ask this organisation's owners for an exception (``?image=`` fills in the image)."""

    template_name = "policies/exceptions/request.html"
    form_class = ExceptionRequestForm
    tab = "settings"
    owner_only_methods = frozenset()  # a member's action (the service refuses owners)

    def get_initial(self):
        return {"image": self.request.GET.get("image", "")}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        image = form.data.get("image") if form.is_bound else self.request.GET.get("image")
        check = ImageCheckForm({"image": image}) if image else None
        if check is not None and check.is_valid():
            reference = check.cleaned_data["image"]
            snapshot = selectors.pull_snapshot(user=self.request.user, references=[reference])
            context["decision"] = decision = pull_decide(snapshot, reference)
            if not decision.allowed and decision.organization:
                context["pending_request"] = exception_selectors.pending_request_for(
                    user=self.request.user,
                    organization=decision.organization,
                    repository=reference.path,
                )
        return context

    def perform(self, form):
        return services.exception_request_create(
            organization=self.organization,
            requester=self.request.user,
            reference=form.cleaned_data["image"],
            justification=form.cleaned_data["justification"],
            site_url=site_url("/"),
            on_mail_failure=self.mail_not_sent,
        )

    def get_success_message(self, result):
        return (
            f"Your request for {result.repository} was sent to {self.organization.name}'s "
            "owners. You will find their answer here."
        )

    def get_mail_failure_message(self, result):
        return (
            f"The e-mail telling {self.organization.name}'s owners could not be sent: they "
            "will see your request on the organization's Requests page."
        )

    def get_success_url(self, result=None):
        return reverse("policies:my_requests")


class ExceptionReviewMixin(MailFailureWarning, OrganizationMixin):
    """Owners' page for one of the organisation's requests: approve or decline it. The
    requester is told by e-mail; if it cannot be sent, the owner is told so."""

    owner_only = True
    tab = "settings"
    template_name = "policies/exceptions/review.html"

    def resolve(self, **kwargs):
        try:
            self.exception = exception_selectors.exception_request_of(
                organization=self.organization, pk=kwargs["pk"]
            )
        except ExceptionRequest.DoesNotExist:
            raise Http404("No such request.") from None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(exception=self.exception, **kwargs)
        own = {self.form_slot: context["form"]}
        context["approve_form"] = own.get("approve_form") or ExceptionApproveForm(
            request=self.exception
        )
        context["decline_form"] = own.get("decline_form") or ExceptionDeclineForm()
        if self.exception.is_pending:
            context["requester_decision"] = self.requester_decision()
        return context

    def requester_decision(self):
        """What the engine says to the requester about the image now."""
        reference = parse_reference(self.exception.reference)
        snapshot = selectors.pull_snapshot(user=self.exception.requester, references=[reference])
        return pull_decide(snapshot, reference)

    def get_success_url(self, result=None):
        return permissions_url(self.organization, "requests")

    def get_mail_failure_message(self, result):
        return (
            f"The e-mail telling {self.exception.requester.username} your answer could not be "
            "sent: they will see it on their Exception requests page."
        )

    def mail_options(self) -> dict:
        """What the services need to send the requester's mail."""
        return {
            "site_url": site_url("/"),
            "on_mail_failure": self.mail_not_sent,
        }


class ExceptionApproveView(ExceptionReviewMixin, ServiceFormView):
    """The review page (GET) and its approval (POST)."""

    form_class = ExceptionApproveForm
    form_slot = "approve_form"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.exception}

    def perform(self, form):
        return services.exception_request_approve(
            request=self.exception,
            actor=self.request.user,
            **form.cleaned_data,
            **self.mail_options(),
        )

    def get_success_message(self, result):
        return (
            f"Approved {self.exception.requester.username}'s request: '{result.pattern}' is on "
            f"the allowlist for {result.scope_text} ({result.expiry_text})."
        )


class ExceptionDeclineView(ExceptionReviewMixin, ServiceFormView):
    """Decline a request (POST); a GET goes to the review page."""

    form_class = ExceptionDeclineForm
    form_slot = "decline_form"

    def get(self, request, *args, **kwargs):
        return redirect(
            "policies:exception_review", org=self.organization.name, pk=self.exception.pk
        )

    def perform(self, form):
        return services.exception_request_decline(
            request=self.exception,
            actor=self.request.user,
            note=form.cleaned_data["note"],
            **self.mail_options(),
        )

    def get_success_message(self, result):
        return f"Declined {result.requester.username}'s request for {result.repository}."


class MyExceptionRequestsView(LoginRequiredMixin, TemplateView):
    """The exception requests I made, in every organisation, with the owners' answers."""

    template_name = "policies/exceptions/my_requests.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["requests"] = exception_selectors.exception_requests_by(user=self.request.user)
        return context
