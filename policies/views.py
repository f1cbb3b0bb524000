"""Settings > Org Permissions: owners edit the policy, the team grants and the allowlist, and
see the pending exception requests; members read it all; everyone checks images, and a refusal
offers to ask for an exception (:mod:`policies.exceptions.views`). Each form posts to its own URL
and, when refused, re-renders the page with its errors."""

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.module_loading import import_string

from core.mixins import ConfirmActionView, Confirmation, ServiceFormView
from orgs.mixins import OrganizationMixin
from orgs.models import OWNERS_TEAM, Team
from orgs.selectors import team_of_organization
from policies import selectors, services
from policies.engine import pull_decide
from policies.exceptions.forms import ExceptionRequestForm
from policies.exceptions.selectors import pending_exception_requests
from policies.forms import (
    TRUE_VALUES,
    AccessPolicyForm,
    AllowlistEntryForm,
    ImageCheckForm,
    TeamGrantForm,
)
from policies.models import (
    POLICY_FIELDS,
    AllowlistEntry,
    policy_field_label,
    policy_value_word,
)

ENTRIES_PER_PAGE = 50


def draft_impact(*, organization, draft: dict[str, bool]):
    """What the ``draft`` settings would have done to the pulls members made recently (an
    ``Impact``). The preview replays the decision log, which an app above this one keeps: the
    wiring names it (``settings.POLICY_IMPACT_PREVIEW``, a dotted path) instead of this app
    importing upward."""
    return import_string(settings.POLICY_IMPACT_PREVIEW)(organization=organization, draft=draft)


def permissions_url(organization, anchor: str = "") -> str:
    url = reverse("policies:permissions", kwargs={"org": organization.name})
    return f"{url}#{anchor}" if anchor else url


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


class PermissionsPage(OrganizationMixin, ServiceFormView):
    """The Org Permissions page around one of its forms (``form_slot`` names its place).

    The page shows the policy, the team grants, the allowlist, pending exception requests
    (owners), 'Check an image' and the history; owners get a form for each setting. With
    ``impact`` in the context it shows what the settings in the policy form would have done to
    recent pulls (the preview, or the confirmation before a save).
    """

    template_name = "policies/permissions.html"
    tab = "settings"
    form_slot = "policy_form"

    @cached_property
    def policy(self):
        return selectors.policy_for_organization(organization=self.organization)

    def policy_initial(self) -> dict:
        return {**self.policy.as_dict(), "version": self.policy.version}

    def grant_form(self, team) -> TeamGrantForm:
        grant = getattr(team, "grant", None)
        values = grant.as_dict() if grant else {}
        return TeamGrantForm(initial={**values, "version": self.policy.version})

    def own_form(self, slot: str):
        """This view's form if it belongs in ``slot``, else None."""
        return self.page_form if slot == self.form_slot else None

    def grant_row_form(self, team) -> TeamGrantForm:
        """The form in ``team``'s row of the grants table."""
        return self.grant_form(team)

    def draft(self) -> dict[str, bool] | None:
        """The settings the policy form carries in this request (a preview, or a save that
        asks for confirmation), or None."""
        form = self.own_form("policy_form")
        return (
            form.settings_values()
            if form is not None and form.is_bound and form.is_valid()
            else None
        )

    def check_data(self):
        """Where 'Check an image' reads its reference: the query string (a GET, which members
        and links use), or the owners' policy form (its "image" field)."""
        return self.request.POST if self.request.method == "POST" else self.request.GET

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["policy"] = self.policy
        context["history"] = selectors.policy_history(organization=self.organization)
        self.page_form = context["form"]  # this view's own form, bound on a POST
        context["grant_rows"] = [
            {"team": team, "grant": getattr(team, "grant", None), "form": self.grant_row_form(team)}
            for team in selectors.organization_grants(organization=self.organization)
        ]
        allowlist = selectors.allowlist_of(organization=self.organization)
        pages = Paginator(allowlist, ENTRIES_PER_PAGE)
        context["entries"] = pages.get_page(self.request.GET.get("entries"))
        if self.is_owner:
            policy_form = self.own_form("policy_form") or AccessPolicyForm(
                initial=self.policy_initial()
            )
            controls = policy_controls(policy_form, self.policy)
            context.update(
                policy_form=policy_form,
                controls=controls,
                unsaved=any(control.changed for control in controls.values()),
                draft_signature=AccessPolicyForm.signature(
                    {name: control.checked for name, control in controls.items()}
                ),
                allowlist_form=self.own_form("allowlist_form")
                or AllowlistEntryForm(organization=self.organization),
                pending=pending_exception_requests(organization=self.organization),
            )
        context.update(self.check_image())
        return context

    def check_image(self) -> dict:
        """Answer 'Check an image' (a GET, so members can use it and it can be bookmarked; the
        owners' preview carries it in its POST).

        The decision for the user asking, a form to request an exception when it is a refusal,
        and, for owners (whom their own organisation does not restrict), the decision for a
        plain member of this organisation, with the saved settings and with the unsaved ones.
        """
        data = self.check_data()
        if not data.get("image"):
            return {"check_form": ImageCheckForm(initial={"image": data.get("image", "")})}
        form = ImageCheckForm({"image": data["image"]})
        if not form.is_valid():
            return {"check_form": form}
        reference = form.cleaned_data["image"]
        snapshot = selectors.pull_snapshot(user=self.request.user, references=[reference])
        decision = pull_decide(snapshot, reference)
        context = {"check_form": form, "decision": decision}
        if not decision.allowed:
            context["exception_form"] = ExceptionRequestForm(initial={"image": data["image"]})
        if self.is_owner:
            preview = selectors.member_preview_snapshot(
                organization=self.organization, snapshot=snapshot, references=[reference]
            )
            context["member_decision"] = pull_decide(preview, reference)
            draft = self.draft()
            if draft is not None and draft != self.policy.as_dict():
                preview = selectors.member_preview_snapshot(
                    organization=self.organization,
                    snapshot=snapshot,
                    references=[reference],
                    settings=draft,
                )
                context["draft_decision"] = pull_decide(preview, reference)
        return context


class PermissionsView(PermissionsPage):
    """The page itself, and the policy form (owners). A save that would block pulls members
    made recently (and that the saved settings let through) first shows what it would block
    and asks to confirm (200, nothing saved); the confirmation posts the same settings with
    ``confirm``."""

    form_class = AccessPolicyForm

    def get_initial(self):
        return self.policy_initial()

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


class PermissionsPreviewView(PermissionsPage):
    """Owners: the page with the unsaved settings of the policy form, what they would have done
    to the pulls members made recently, and 'Check an image' against them. Never saves; a GET
    goes to the page."""

    owner_only = True
    form_class = AccessPolicyForm

    def get(self, request, *args, **kwargs):
        return redirect(permissions_url(self.organization))

    def form_valid(self, form):
        impact = draft_impact(organization=self.organization, draft=form.settings_values())
        return self.render_to_response(self.get_context_data(form=form, impact=impact))

    def form_invalid(self, form):
        messages.error(self.request, "Nothing to preview: the submitted settings were not valid.")
        return super().form_invalid(form)


class PageFormView(PermissionsPage):
    """A form of the Org Permissions page with its own URL (owners only); a GET of that URL
    goes to the page."""

    owner_only = True
    anchor = ""

    def get(self, request, *args, **kwargs):
        return redirect(permissions_url(self.organization, self.anchor))

    def get_success_url(self, result=None):
        return permissions_url(self.organization, self.anchor)


class AllowlistAddView(PageFormView):
    """Add an allowlist entry."""

    form_class = AllowlistEntryForm
    form_slot = "allowlist_form"
    anchor = "allowlist"

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "organization": self.organization}

    def perform(self, form):
        return services.allowlist_entry_add(
            organization=self.organization, actor=self.request.user, **form.cleaned_data
        )

    def get_success_message(self, result):
        return (
            f"Added `{result.pattern}` to {self.organization.name}'s allowlist for "
            f"{result.scope_text} ({result.expiry_text})."
        )


class TeamGrantView(PageFormView):
    """Save one team's grant."""

    form_class = TeamGrantForm
    form_slot = "grant_form"
    anchor = "grants"

    def resolve(self, **kwargs):
        try:
            self.team = team_of_organization(organization=self.organization, name=kwargs["team"])
        except Team.DoesNotExist:
            raise Http404("No such team.") from None
        if self.team.name == OWNERS_TEAM:
            raise Http404("The owners team has no grant.")

    def grant_row_form(self, team):
        if team.pk == self.team.pk:
            return self.page_form
        return super().grant_row_form(team)

    def perform(self, form):
        return services.team_grant_update(
            team=self.team,
            actor=self.request.user,
            expected_version=form.cleaned_data["version"],
            values=form.settings_values(),
        )

    def succeeded(self, result):
        _, change = result
        if change is None:
            messages.info(self.request, f"No changes to the grant of team {self.team.name}.")
        else:
            messages.success(self.request, f"Saved the grant of team {self.team.name}.")
        return redirect(self.get_success_url())

    def refused(self, form, error):
        if isinstance(error, services.StalePolicyEdit):
            messages.error(self.request, error.messages[0])
            fresh = self.grant_form(Team.objects.select_related("grant").get(pk=self.team.pk))
            return self.render_to_response(self.get_context_data(form=fresh), status=409)
        return super().refused(form, error)


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
        return f"Removed `{removed['pattern']}` from {self.organization.name}'s allowlist."

    def get_success_url(self, result):
        return permissions_url(self.organization, "allowlist")
