"""Site staff's view of user accounts (registered by orgs/admin.py, since the rule is the
organisations'): Django's user admin, keeping the organisations' rule that
each has an active owner. Deleting an account removes its memberships, and a deactivated owner
no longer counts, so neither may happen to an organisation's last active owner: the delete page
says why instead of deleting, and the change form refuses to untick *Active*."""

from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.core.exceptions import ValidationError

from orgs.selectors import last_owner_refusals


class PortalUserChangeForm(UserChangeForm):
    def clean_is_active(self):
        active = self.cleaned_data["is_active"]
        if not active and self.instance.pk is not None and self.instance.is_active:
            refusals = last_owner_refusals(users=[self.instance])
            if refusals:
                raise ValidationError(refusals)
        return active


class PortalUserAdmin(UserAdmin):
    form = PortalUserChangeForm

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, model_count, perms_needed, [*protected, *last_owner_refusals(users=objs)]
