"""Settings > Org Permissions, a set of short pages under one sub-navigation: Policy (the
policy form with its impact preview, 'Check an image' and, for members, "Your access"),
Allowlist, Team grants, Requests (owners: the pending exception requests) and History. Owners
edit; members read every page but Requests. Each page has one form that saves, which posts to
the page itself: a success redirects to the top of the page with the message, a refusal
re-renders it with the errors at the top. A refusal on 'Check an image' offers to ask for an
exception (:mod:`policies.exceptions.views`)."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.module_loading import import_string
from django.views import View
from django.views.generic import TemplateView

from core.mixins import ConfirmActionView, Confirmation, ServiceFormView
from orgs.mixins import OrganizationMixin
from policies import selectors, services
from policies.engine import access_summary, pull_decide
from policies.exceptions.forms import ExceptionApproveForm, ExceptionRequestForm
from policies.exceptions.selectors import pending_exception_requests, pending_request_for
from policies.forms import (
    TRUE_VALUES,
    AccessPolicyForm,
    AllowlistEntryForm,
    ImageCheckForm,
    TeamGrantsForm,
)
from policies.models import (
    POLICY_FIELDS,
    AllowlistEntry,
    policy_field_label,
    policy_value_word,
)

ENTRIES_PER_PAGE = 50
CHANGES_PER_PAGE = 50
#: The Requests page lists at most this many (the oldest); each answer brings up the next.
PENDING_SHOWN = 50


def draft_impact(*, organization, draft: dict[str, bool]):
    """What the ``draft`` settings would have done to the pulls members made recently (an
    ``Impact``). The preview replays the decision log, which an app above this one keeps: the
    wiring names it (``settings.POLICY_IMPACT_PREVIEW``, a dotted path) instead of this app
    importing upward."""
    return import_string(settings.POLICY_IMPACT_PREVIEW)(organization=organization, draft=draft)


def permissions_url(organization, section: str = "permissions") -> str:
    """The URL of one page of Org Permissions (``section``: a URL name of this app that takes
    only the organisation)."""
    return reverse(f"policies:{section}", kwargs={"org": organization.name})


@dataclass(frozen=True)
class Control:
    """One policy setting as the owners' form shows it: whether its switch is on in the form
    (the saved value, or the owner's unsaved choice), the saved value, and the words for its
    two states ("Allowed"/"Restricted", "On"/"Off")."""

    name: str
    label: str
    checked: bool
    saved: bool
    on: str
    off: str
    errors: tuple[str, ...] = ()

    @property
    def state(self) -> str:
        return self.on if self.checked else self.off

    @property
    def saved_state(self) -> str:
        return self.on if self.saved else self.off

    @property
    def changed(self) -> bool:
        return self.checked != self.saved


def policy_controls(form: AccessPolicyForm, policy) -> dict[str, Control]:
    """The page's switches from the policy form (bound or not) and the saved policy."""
    valid = form.is_bound and form.is_valid()
    controls = {}
    for field in POLICY_FIELDS:
        saved = getattr(policy, field)
        if valid:
            checked = form.cleaned_data[field]
        elif form.is_bound:
            checked = str(form.data.get(field, "")).lower() in TRUE_VALUES
        else:
            checked = bool(form.initial.get(field, saved))
        controls[field] = Control(
            name=field,
            label=policy_field_label(field),
            checked=checked,
            saved=saved,
            on=policy_value_word(field, True),
            off=policy_value_word(field, False),
            errors=tuple(form[field].errors) if form.is_bound else (),
        )
    return controls


class PermissionsSection(OrganizationMixin):
    """One page of Org Permissions: the organisation's policy and ``section``, the page's entry
    in the sub-navigation (which also carries 'Check an image' and the link to this page's
    part of the History, ``history_kind``)."""

    tab = "settings"
    section = "permissions"
    history_kind: str | None = None

    @cached_property
    def policy(self):
        return selectors.policy_for_organization(organization=self.organization)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(policy=self.policy, section=self.section, history_kind=self.history_kind)
        return context


class PolicyPage(PermissionsSection, ServiceFormView):
    """The Policy page around the policy form: the status, the form (owners) or the settings
    read-only with "Your access" (members), and 'Check an image'. With ``impact`` in the
    context it shows what the settings in the policy form would have done to recent pulls (the
    preview, or the confirmation before a save)."""

    template_name = "policies/permissions.html"
    form_class = AccessPolicyForm
    history_kind = "policy"

    def policy_initial(self) -> dict:
        return {**self.policy.as_dict(), "version": self.policy.version}

    def get_initial(self):
        return self.policy_initial()

    def draft(self, form) -> dict[str, bool] | None:
        """The settings the policy form carries in this request (a preview, or a save that
        asks for confirmation), or None."""
        return form.settings_values() if form.is_bound and form.is_valid() else None

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = context["form"]
        if self.is_owner:
            controls = policy_controls(form, self.policy)
            context.update(
                policy_form=form,
                controls=controls,
                unsaved=any(control.changed for control in controls.values()),
                draft_signature=AccessPolicyForm.signature(
                    {name: control.checked for name, control in controls.items()}
                ),
            )
        else:
            snapshot = selectors.access_snapshot(
                user=self.request.user, organization=self.organization
            )
            context["access"] = access_summary(snapshot, self.organization.name)
        context.update(self.check_image(form))
        return context

    def check_image(self, form) -> dict:
        """Answer 'Check an image': from the query string (a GET, which members and links
        use), or, for owners, from the policy form (its "image" field), so that the check
        sees the unsaved settings.

        The decision for the user asking; when it is a refusal, their pending request for it
        or a form to ask for an exception; and, for owners (whom their own organisation does
        not restrict), the decision for a plain member of this organisation, with the saved
        settings and with the unsaved ones.
        """
        data = self.request.POST if self.request.method == "POST" else self.request.GET
        if not data.get("image"):
            return {"check_form": ImageCheckForm(initial={"image": data.get("image", "")})}
        check = ImageCheckForm({"image": data["image"]})
        if not check.is_valid():
            return {"check_form": check}
        reference = check.cleaned_data["image"]
        snapshot = selectors.pull_snapshot(user=self.request.user, references=[reference])
        decision = pull_decide(snapshot, reference)
        context = {"check_form": check, "decision": decision}
        if not decision.allowed and decision.organization:
            context["pending_request"] = pending_request_for(
                user=self.request.user,
                organization=decision.organization,
                repository=reference.path,
            )
            if context["pending_request"] is None:
                context["exception_form"] = ExceptionRequestForm(initial={"image": data["image"]})
        if self.is_owner:
            preview = selectors.member_preview_snapshot(
                organization=self.organization, snapshot=snapshot, references=[reference]
            )
            context["member_decision"] = pull_decide(preview, reference)
            draft = self.draft(form)
            if draft is not None and draft != self.policy.as_dict():
                preview = selectors.member_preview_snapshot(
                    organization=self.organization,
                    snapshot=snapshot,
                    references=[reference],
                    settings=draft,
                )
                context["draft_decision"] = pull_decide(preview, reference)
        return context


class PermissionsView(PolicyPage):
    """The Policy page, and the policy form (owners). A save that would block pulls members
    made recently (and that the saved settings let through) first shows what it would block
    and asks to confirm (200, nothing saved); the confirmation posts the same settings with
    ``confirm``."""

    def form_valid(self, form):
        values = form.settings_values()
        fresh = form.cleaned_data["version"] == self.policy.version
        if fresh and values != self.policy.as_dict() and not form.confirmed():
            impact = draft_impact(organization=self.organization, draft=values)
            if impact.needs_confirmation:
                messages.warning(
                    self.request,
                    "Nothing was saved yet: these settings would block pulls that members made "
                    "recently. Review them below and confirm.",
                )
                context = self.get_context_data(form=form, impact=impact, confirming=True)
                return self.render_to_response(context)
        return super().form_valid(form)

    def perform(self, form):
        return services.policy_update(
            organization=self.organization,
            actor=self.request.user,
            expected_version=form.cleaned_data["version"],
            values=form.settings_values(),
        )

    def succeeded(self, result):
        _, change = result
        if change is None:
            messages.info(self.request, "No changes to save.")
        else:
            messages.success(self.request, f"Saved. {'; '.join(change.described())}.")
        return redirect(permissions_url(self.organization))

    def refused(self, form, error):
        if isinstance(error, services.StalePolicyEdit):
            # Show the settings as they are now, which the owner must review before saving.
            messages.error(self.request, error.messages[0])
            return self.render_to_response(
                self.get_context_data(form=AccessPolicyForm(initial=self.policy_initial())),
                status=409,
            )
        return super().refused(form, error)

    def form_invalid(self, form):
        messages.error(self.request, "Nothing was changed: the submitted settings were not valid.")
        return super().form_invalid(form)


class PermissionsPreviewView(PolicyPage):
    """Owners: the Policy page with the unsaved settings of the policy form, what they would
    have done to the pulls members made recently, and 'Check an image' against them. Never
    saves; a GET goes to the page."""

    owner_only = True

    def get(self, request, *args, **kwargs):
        return redirect(permissions_url(self.organization))

    def form_valid(self, form):
        impact = draft_impact(organization=self.organization, draft=form.settings_values())
        return self.render_to_response(self.get_context_data(form=form, impact=impact))

    def form_invalid(self, form):
        messages.error(self.request, "Nothing to preview: the submitted settings were not valid.")
        return super().form_invalid(form)


class AllowlistView(PermissionsSection, ServiceFormView):
    """The Allowlist page: the entries, a page at a time, and (owners) the form that adds
    one, above them."""

    template_name = "policies/allowlist.html"
    form_class = AllowlistEntryForm
    section = "allowlist"
    history_kind = "allowlist"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "organization": self.organization}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        pages = Paginator(selectors.allowlist_of(organization=self.organization), ENTRIES_PER_PAGE)
        context["entries"] = pages.get_page(self.request.GET.get("entries"))
        return context

    def perform(self, form):
        return services.allowlist_entry_add(
            organization=self.organization, actor=self.request.user, **form.cleaned_data
        )

    def get_success_message(self, result):
        return (
            f"Added '{result.pattern}' to {self.organization.name}'s allowlist for "
            f"{result.scope_text} ({result.expiry_text})."
        )

    def get_success_url(self, result=None):
        return permissions_url(self.organization, "allowlist")


class AllowlistRemoveView(OrganizationMixin, ConfirmActionView):
    """Remove an allowlist entry (owners only): GET says what removing it does, POST removes
    it. Another organisation's entry, or one already gone, is a 404."""

    template_name = "orgs/confirm.html"
    owner_only = True
    tab = "settings"

    def resolve(self, **kwargs):
        try:
            self.entry = selectors.allowlist_entry_of(
                organization=self.organization, pk=kwargs["pk"]
            )
        except AllowlistEntry.DoesNotExist:
            raise Http404("No such allowlist entry.") from None

    def confirmation(self):
        entry = self.entry
        who = (
            f"Members of team {entry.team.name}"
            if entry.team_id
            else f"{self.organization.name}'s members"
        )
        effect = (
            f"It has expired already ({entry.expiry_text}): removing it changes no pull."
            if entry.is_expired
            else f"{who} can no longer pull what '{entry.pattern}' covers, unless another rule "
            "allows it."
        )
        return Confirmation(
            title=f"Remove '{entry.pattern}' for {entry.scope_text} from "
            f"{self.organization.name}'s allowlist?",
            consequences=(
                effect,
                f"Added by {entry.added_by_username} on {entry.created_at:%Y-%m-%d}: "
                f"{entry.reason}",
                "The removal is recorded in the settings history; to allow it again, add a new "
                "entry.",
            ),
            button="Remove entry",
            cancel_url=permissions_url(self.organization, "allowlist"),
        )

    def perform(self):
        return services.allowlist_entry_remove(
            organization=self.organization, entry_id=self.entry.pk, actor=self.request.user
        )

    def get_success_message(self, result):
        removed = result.changes["allowlist_removed"]
        return f"Removed '{removed['pattern']}' from {self.organization.name}'s allowlist."

    def get_success_url(self, result):
        return permissions_url(self.organization, "allowlist")


class TeamGrantsView(PermissionsSection, ServiceFormView):
    """The Team grants page: every team's grant in one table, and (owners) one form with one
    Save for all of them. An edit from an older policy version is refused (409) and shows the
    grants as they are now."""

    template_name = "policies/grants.html"
    form_class = TeamGrantsForm
    section = "grants"
    history_kind = "grants"

    def teams(self):
        return selectors.organization_grants(organization=self.organization)

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "teams": self.teams()}

    def get_initial(self):
        return {"version": self.policy.version}

    def perform(self, form):
        return services.team_grants_update(
            organization=self.organization,
            actor=self.request.user,
            expected_version=form.cleaned_data["version"],
            grants=form.grants(),
        )

    def succeeded(self, changes):
        if not changes:
            messages.info(self.request, "No changes to the team grants.")
        else:
            lines = [line for change in changes for line in change.described()]
            messages.success(self.request, f"Saved the team grants: {'; '.join(lines)}.")
        return redirect(permissions_url(self.organization, "grants"))

    def refused(self, form, error):
        if isinstance(error, services.StalePolicyEdit):
            messages.error(self.request, error.messages[0])
            fresh = TeamGrantsForm(teams=self.teams(), initial={"version": self.policy.version})
            return self.render_to_response(self.get_context_data(form=fresh), status=409)
        return super().refused(form, error)

    def form_invalid(self, form):
        messages.error(self.request, "Nothing was saved: the submitted grants were not valid.")
        return super().form_invalid(form)


class TeamGrantRedirectView(OrganizationMixin, View):
    """The former URL of one team's grant: the Team grants page."""

    def get(self, request, *args, **kwargs):
        return redirect(permissions_url(self.organization, "grants"))


class RequestsView(PermissionsSection, TemplateView):
    """Owners: the exception requests waiting for an answer, oldest first, each with the form
    that approves it (an allowlist entry, editable) or declines it (a note). The forms post to
    the request's own URLs (:mod:`policies.exceptions.views`), which come back here."""

    template_name = "policies/requests.html"
    owner_only = True
    section = "requests"
    history_kind = "requests"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["pending"] = [
            {
                "request": item,
                "form": ExceptionApproveForm(request=item, auto_id=f"id_{item.pk}_%s"),
            }
            for item in pending_exception_requests(organization=self.organization)[:PENDING_SHOWN]
        ]
        return context


class HistoryView(PermissionsSection, TemplateView):
    """The recorded changes of the organisation's settings, newest first, a page at a time,
    filtered by kind (``?kind=``, one of :data:`policies.selectors.HISTORY_KINDS`)."""

    template_name = "policies/history.html"
    section = "history"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        kind = self.request.GET.get("kind")
        kind = kind if kind in selectors.HISTORY_KINDS else None
        changes = selectors.policy_history(organization=self.organization, kind=kind, limit=None)
        context.update(
            kind=kind,
            kinds={key: label for key, (label, _) in selectors.HISTORY_KINDS.items()},
            changes=Paginator(changes, CHANGES_PER_PAGE).get_page(self.request.GET.get("page")),
        )
        return context
