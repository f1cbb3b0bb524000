"""Site staff's view of organisations. The admin keeps the portal's rules: nobody is added to a
team here (members join by accepting an invitation; memberships are read-only, and can only
be removed), an organisation keeps its owners team and an active owner, and a team cannot
move to another organisation (its members would follow without having agreed). A rule broken
is a form error or a "cannot delete" page, never a 500."""

from collections import defaultdict

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.forms.models import BaseInlineFormSet

from orgs import services
from orgs.invitations.services import invitation_revoke
from orgs.models import OWNERS_TEAM, Invitation, Organization, Team, TeamMembership
from orgs.selectors import last_owner_refusal
from orgs.user_admin import PortalUserAdmin

OWNERS_TEAM_KEPT = "The owners team of an organization cannot be deleted or renamed."


class TeamInlineFormSet(BaseInlineFormSet):
    """The organisation's teams: the owners team is neither deleted nor renamed."""

    def clean(self):
        super().clean()
        for form in self.forms:
            if form.instance.pk is None or form.initial.get("name") != OWNERS_TEAM:
                continue
            renamed = form.cleaned_data.get("name", OWNERS_TEAM) != OWNERS_TEAM
            if self._should_delete_form(form) or renamed:
                raise ValidationError(OWNERS_TEAM_KEPT)


class TeamInline(admin.TabularInline):
    model = Team
    formset = TeamInlineFormSet
    extra = 0
    fields = ("name", "description")
    show_change_link = True


class OrganizationAdminForm(forms.ModelForm):
    """A new organisation's name passes the same checks as in the portal (a publisher's
    namespace or a reserved name is a form error here, not a failure on save)."""

    class Meta:
        model = Organization
        fields = ("name",)

    def clean_name(self):
        name = self.cleaned_data["name"]
        refusal = services.organization_name_refusal(name)
        if refusal is not None:
            raise ValidationError(refusal)
        return name

    def validate_unique(self):
        """A name taken is one of the refusals above (said once, not twice)."""


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    form = OrganizationAdminForm
    list_display = ("name", "created_at")
    search_fields = ("name",)
    inlines = [TeamInline]
    readonly_fields = ("created_at",)

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []  # the owners team comes with the org

    def get_readonly_fields(self, request, obj=None):
        # Renaming would move the organisation's namespace; images keep the old one.
        return ("name", "created_at") if obj else ("created_at",)

    def save_model(self, request, obj, form, change):
        if change:
            return super().save_model(request, obj, form, change)
        # New organisations get their owners and members teams and policy; the staff member
        # creating it is its first owner until they invite real owners.
        created = services.organization_create(name=obj.name, creator=request.user)
        obj.pk, obj.created_at = created.pk, created.created_at


def owners_left_refusals(memberships) -> list[str]:
    """For memberships about to be deleted: why, per organisation, that would leave it without
    an active owner (empty when it would not)."""
    leaving = defaultdict(list)
    for membership in memberships:
        if membership.team.name == OWNERS_TEAM:
            leaving[membership.team.organization].append(membership.user)
    refusals = (
        last_owner_refusal(organization=organization, users=users)
        for organization, users in leaving.items()
    )
    return [refusal for refusal in refusals if refusal]


class MembershipInlineFormSet(BaseInlineFormSet):
    """Removing members of the owners team never leaves the organisation without one."""

    def clean(self):
        super().clean()
        removed = [
            form.instance
            for form in self.forms
            if form.instance.pk is not None and self._should_delete_form(form)
        ]
        refusals = owners_left_refusals(removed)
        if refusals:
            raise ValidationError(refusals)


class MembershipInline(admin.TabularInline):
    """A team's members, read-only: they can be removed, not added (members join by accepting
    an invitation) or changed."""

    model = TeamMembership
    formset = MembershipInlineFormSet
    extra = 0
    fields = ("user", "created_at")
    readonly_fields = ("user", "created_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "description")
    list_filter = ("organization",)
    search_fields = ("name", "organization__name")
    inlines = [MembershipInline]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        # Moving a team would move its members into another organisation without consent.
        return ("organization", "name") if obj.is_owners else ("organization",)

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        owners = [str(team) for team in objs if team.is_owners]
        if owners:
            protected = [*protected, f"{', '.join(owners)}: {OWNERS_TEAM_KEPT}"]
        return deleted, model_count, perms_needed, protected

    def delete_queryset(self, request, queryset):
        queryset.exclude(name=OWNERS_TEAM).delete()  # the confirmation page refused the rest

    def save_formset(self, request, form, formset, change):
        """Removals go through the service, which locks the owners team while it checks."""
        formset.save(commit=False)
        for membership in formset.deleted_objects:
            try:
                services.team_member_remove(team=membership.team, user=membership.user)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))


@admin.register(TeamMembership)
class TeamMembershipAdmin(admin.ModelAdmin):
    """Memberships are read-only here. Adding one would put someone in an organisation without
    their consent (people join by accepting an owner's invitation), and changing one's user or
    team could do the same or take away an organisation's last owner. They can be deleted,
    never the last active owner's."""

    list_display = ("user", "team", "created_at")
    list_filter = ("team__organization",)
    search_fields = ("user__username", "team__name", "team__organization__name")
    list_select_related = ("user", "team__organization")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, model_count, perms_needed, [*protected, *owners_left_refusals(objs)]

    def delete_model(self, request, obj):
        try:
            services.team_member_remove(team=obj.team, user=obj.user)
        except ValidationError as error:  # lost a race with another removal
            messages.error(request, " ".join(error.messages))

    def delete_queryset(self, request, queryset):
        for membership in queryset.select_related("team", "user"):
            self.delete_model(request, membership)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    """Invitations, read-only (they are sent from the organisation's Invitations page); staff
    can revoke pending ones."""

    list_display = (
        "addressee",
        "team",
        "invited_by_username",
        "created_at",
        "expires_at",
        "current_status",
    )
    list_filter = ("status", "team__organization")
    search_fields = ("invitee__username", "email", "team__organization__name", "team__name")
    list_select_related = ("invitee", "team__organization")
    actions = ["revoke_invitations"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    @admin.action(description="Revoke selected pending invitations")
    def revoke_invitations(self, request, queryset):
        revoked = 0
        for invitation in queryset.select_related("team__organization"):
            try:
                invitation_revoke(invitation=invitation, actor=request.user)
            except ValidationError:
                continue  # no longer pending: nothing to revoke
            revoked += 1
        messages.info(request, f"Revoked {revoked} invitation(s).")


admin.site.unregister(get_user_model())
admin.site.register(get_user_model(), PortalUserAdmin)
