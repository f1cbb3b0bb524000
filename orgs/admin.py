from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from orgs import services
from orgs.models import OWNERS_TEAM, Organization, Team, TeamMembership


class TeamInline(admin.TabularInline):
    model = Team
    extra = 0
    fields = ("name", "description")
    show_change_link = True


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
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
        # New organisations get their owners team and policy; the staff member creating it
        # is its first owner until real owners are added.
        created = services.organization_create(name=obj.name, creator=request.user)
        obj.pk, obj.created_at = created.pk, created.created_at


class MembershipInline(admin.TabularInline):
    model = TeamMembership
    extra = 0
    autocomplete_fields = ("user",)


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ("name", "organization", "description")
    list_filter = ("organization",)
    search_fields = ("name", "organization__name")
    inlines = [MembershipInline]

    def get_readonly_fields(self, request, obj=None):
        return ("organization", "name") if obj is not None and obj.is_owners else ()

    def has_delete_permission(self, request, obj=None):
        return obj is None or not obj.is_owners

    def delete_queryset(self, request, queryset):
        owners = queryset.filter(name=OWNERS_TEAM)
        if owners.exists():
            messages.error(request, "The owners team of an organization cannot be deleted.")
        queryset.exclude(name=OWNERS_TEAM).delete()

    def save_formset(self, request, form, formset, change):
        """Removals go through the service, which never removes an organization's last owner."""
        instances = formset.save(commit=False)
        for membership in formset.deleted_objects:
            try:
                services.team_member_remove(team=membership.team, user=membership.user)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
        for membership in instances:
            membership.save()
        formset.save_m2m()


@admin.register(TeamMembership)
class TeamMembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "team", "created_at")
    list_filter = ("team__organization",)
    search_fields = ("user__username", "team__name", "team__organization__name")
    autocomplete_fields = ("user",)

    def delete_model(self, request, obj):
        try:
            services.team_member_remove(team=obj.team, user=obj.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))

    def delete_queryset(self, request, queryset):
        for membership in queryset.select_related("team", "user"):
            self.delete_model(request, membership)
