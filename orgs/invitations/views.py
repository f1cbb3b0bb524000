"""Invitation pages.

Owners: invite people and see pending invitations (``orgs:invitations``), revoke one
(``orgs:invitation_revoke``). Invitees: the list of their pending invitations with accept and
decline (``invitations:list``), the page an invitation link opens (``invitations:open``: accept
or decline signed in, or create an account from an e-mail invitation), and self sign-up where
the operator allows it (``invitations:signup``, ``SIGNUP_OPEN``).
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView, View

from core.links import site_url
from core.mail import MailFailureWarning
from core.mixins import ConfirmActionView, Confirmation, ServiceFormView, add_service_error
from orgs.invitations import selectors, services
from orgs.invitations.forms import InvitationCreateForm, SignUpForm
from orgs.mixins import OrganizationMixin
from orgs.models import Invitation

# --- owners ------------------------------------------------------------------------------

# A new account is signed in without a password check, so Django needs to be told which of the
# AUTHENTICATION_BACKENDS will load it on later requests (the one: orgs.backends.SignInBackend).
NEW_ACCOUNT_BACKEND = "orgs.backends.SignInBackend"


class OrganizationInvitationsView(MailFailureWarning, OrganizationMixin, ServiceFormView):
    """Invite someone into a team (within the rate limits: the page says how many invitations
    remain this hour); the pending invitations (who invited whom into which team, when, until
    when) and the most recent answered ones. Owners only.

    When the invitation's e-mail cannot be sent, the invitation stays and the owner is warned;
    an e-mail invitation's link (which only the mail carried) is then shown to the owner, once,
    on this response, to pass on another way."""

    template_name = "orgs/invitations.html"
    form_class = InvitationCreateForm
    owner_only = True
    tab = "invitations"

    def get_form_kwargs(self):
        return {
            **super().get_form_kwargs(),
            "organization": self.organization,
            "team": self.request.GET.get("team"),
        }

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            pending=selectors.pending_invitations_of(organization=self.organization),
            past=selectors.answered_invitations_of(organization=self.organization),
            ttl_days=settings.INVITATION_TTL_DAYS,
            allowance=selectors.invitation_allowance(organization=self.organization),
            per_address=settings.INVITATIONS_PER_ADDRESS_PER_DAY,
        )
        return context

    def form_valid(self, form):
        if form.needs_owner_confirmation:
            # Second step: say what owners can do, and ask again.
            return self.render_to_response(self.get_context_data(form=form, confirm_owner=True))
        return super().form_valid(form)

    def perform(self, form):
        return services.invitation_create(
            team=form.cleaned_data["team"],
            invited_by=self.request.user,
            invitee=form.cleaned_data["invitee"],
            absolute_url=site_url,
            on_mail_failure=self.mail_not_sent,
        )

    def get_mail_failure_message(self, result):
        invitation, _ = result
        if invitation.invitee_id:
            return (
                f"The invitation was saved, but the e-mail to {invitation.invitee.username} "
                "could not be sent: they will see it under Invitations when they sign in."
            )
        return (
            f"The invitation was saved, but the e-mail to {invitation.email} could not be "
            "sent. Share its link below with them yourself (it is shown only now), or revoke "
            "the invitation."
        )

    def succeeded(self, result):
        invitation, token = result
        if self.unsent_mail is None or invitation.invitee_id:
            return super().succeeded(result)
        messages.warning(self.request, self.get_mail_failure_message(result))
        unbound = {k: v for k, v in self.get_form_kwargs().items() if k not in ("data", "files")}
        context = self.get_context_data(
            form=self.form_class(**unbound),
            share_link=site_url(services.invitation_path(token)),
            shared_invitation=invitation,
        )
        response = self.render_to_response(context)
        response["Cache-Control"] = "no-store"  # the link is a secret
        return response

    def get_success_message(self, result):
        invitation, _ = result
        if invitation.invitee_id:
            return (
                f"Invited {invitation.invitee.username} to team {invitation.team.name}. They "
                "become a member when they accept."
            )
        return (
            f"Invitation to team {invitation.team.name} e-mailed to {invitation.email}. They "
            "become a member when they follow the link and accept."
        )


class InvitationRevokeView(OrganizationMixin, ConfirmActionView):
    """Withdraw a pending invitation (owners only): GET explains, POST revokes."""

    template_name = "orgs/confirm.html"
    owner_only = True
    tab = "invitations"

    def resolve(self, **kwargs) -> None:
        super().resolve(**kwargs)
        self.invitation = get_object_or_404(
            Invitation.objects.select_related("team", "invitee"),
            pk=kwargs["pk"],
            team__organization=self.organization,
        )

    def confirmation(self):
        invitation = self.invitation
        reason = invitation.closed_reason()
        return Confirmation(
            title=f"Revoke the invitation of {invitation.addressee} to team "
            f"{invitation.team.name}?",
            consequences=(
                f"{invitation.addressee} will no longer be able to accept it, and its link "
                "will stop working.",
                "Nobody is removed: they are not a member until they accept.",
            ),
            button="Revoke invitation",
            cancel_url=self.get_success_url(None),
            refusal=f"Nothing to revoke. {reason}" if reason else None,
        )

    def perform(self):
        services.invitation_revoke(invitation=self.invitation, actor=self.request.user)

    def get_success_message(self, result):
        return f"Invitation of {self.invitation.addressee} revoked."

    def get_success_url(self, result):
        return reverse("orgs:invitations", kwargs={"org": self.organization.name})


# --- invitees ----------------------------------------------------------------------------


class MyInvitationsView(LoginRequiredMixin, TemplateView):
    """The signed-in user's pending invitations, each with Accept and Decline."""

    template_name = "invitations/list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["invitations"] = selectors.pending_invitations_for(user=self.request.user)
        return context


class InvitationAnswerView(LoginRequiredMixin, View):
    """Accept or decline one of my invitations (``answer``); anyone else's is a 404."""

    answer = ""  # "accept" or "decline"

    def post(self, request, pk):
        invitation = get_object_or_404(
            Invitation.objects.select_related("team__organization"), pk=pk, invitee=request.user
        )
        try:
            return answer_invitation(request, invitation, self.answer)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("invitations:list")


def answer_invitation(request, invitation: Invitation, answer: str):
    """Accept (then go to the organisation) or decline (then back to my invitations) as the
    signed-in user, with a message; the service's ``ValidationError`` is the caller's."""
    organization, team = invitation.team.organization.name, invitation.team.name
    if answer == "accept":
        services.invitation_accept(invitation=invitation, user=request.user)
        messages.success(request, f"You joined {organization} (team {team}).")
        return redirect("orgs:detail", org=organization)
    services.invitation_decline(invitation=invitation, user=request.user)
    messages.success(request, f"You declined the invitation to {organization}.")
    return redirect("invitations:list")


@method_decorator(never_cache, name="dispatch")
class InvitationLinkView(TemplateView):
    """The page an invitation link opens; its token is the only key.

    Signed in: accept or decline (an invitation to another account is refused, 403). Signed
    out: an invitation to an account asks to sign in; an e-mail invitation also offers to
    create an account, which accepts it. An unknown link is a 404, a used, declined, revoked
    or expired one a 410 that says which.
    """

    template_name = "invitations/open.html"

    def dispatch(self, request, *args, **kwargs):
        try:
            self.invitation = selectors.invitation_by_token(token=kwargs["token"])
        except Invitation.DoesNotExist:
            return self.render_to_response({"unknown": True}, status=404)
        return super().dispatch(request, *args, **kwargs)

    def get(self, request, *args, **kwargs):
        return self.page()

    def page(self, *, form=None, error=None, status=None):
        invitation, user = self.invitation, self.request.user
        closed = invitation.closed_reason()
        wrong_user = (
            user.is_authenticated
            and invitation.invitee_id is not None
            and invitation.invitee_id != user.pk
        )
        if form is None and not closed and not user.is_authenticated and not invitation.invitee_id:
            form = SignUpForm(email=invitation.email)
        context = self.get_context_data(
            invitation=invitation,
            closed=closed,
            wrong_user=wrong_user,
            form=form,
            error=error,
            login_url=f"{reverse('login')}?next={self.request.path}",
        )
        # A closed invitation or another account's is refused whatever was asked.
        status = 410 if closed else 403 if wrong_user else status or 200
        return self.render_to_response(context, status=status)

    def post(self, request, *args, **kwargs):
        invitation = self.invitation
        if request.user.is_authenticated:
            answer = request.POST.get("answer")
            if answer not in ("accept", "decline"):
                return self.page(error="Choose Accept or Decline.", status=400)
            try:
                return answer_invitation(request, invitation, answer)
            except ValidationError as error:
                return self.page(error=" ".join(error.messages), status=400)
        if invitation.invitee_id is not None:
            return redirect_to_login(request.path)
        form = SignUpForm(request.POST, email=invitation.email)
        if not form.is_valid():
            return self.page(form=form, status=400)
        try:
            user = services.invitation_signup(
                invitation=invitation,
                username=form.cleaned_data["username"],
                password=form.cleaned_data["password1"],
            )
        except ValidationError as error:
            add_service_error(form, error)
            return self.page(form=form, status=400)
        login(request, user, backend=NEW_ACCOUNT_BACKEND)
        organization = invitation.team.organization.name
        messages.success(
            request,
            f"Welcome, {user.username}! Your account is ready and you joined {organization} "
            f"(team {invitation.team.name}).",
        )
        return redirect("orgs:detail", org=organization)


class SignUpView(ServiceFormView):
    """Create an account without an invitation: only where the operator turned it on
    (``SIGNUP_OPEN``); otherwise this page does not exist."""

    template_name = "registration/signup.html"
    form_class = SignUpForm

    def dispatch(self, request, *args, **kwargs):
        if not settings.SIGNUP_OPEN:
            raise Http404("Sign-up is by invitation only.")
        if request.user.is_authenticated:
            return redirect("orgs:list")
        return super().dispatch(request, *args, **kwargs)

    def perform(self, form):
        return services.account_create(
            username=form.cleaned_data["username"], password=form.cleaned_data["password1"]
        )

    def succeeded(self, result):
        login(self.request, result, backend=NEW_ACCOUNT_BACKEND)
        messages.success(self.request, f"Welcome, {result.username}! Your account is ready.")
        return redirect("orgs:list")
