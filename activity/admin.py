from django.contrib import admin

from activity.models import PullDecision


@admin.register(PullDecision)
class PullDecisionAdmin(admin.ModelAdmin):
    """The activity log, for staff: read-only (the token service writes it, ``prune_activity``
    deletes old rows; deleting stays possible, for the admin's bulk action)."""

    list_display = (
        "decided_at",
        "username",
        "repository",
        "outcome",
        "category",
        "deciding_organization",
    )
    list_filter = ("outcome", "category", "signed_in_with")
    search_fields = ("username", "repository")
    date_hierarchy = "decided_at"
    show_full_result_count = False  # a count over the whole log is slow

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
