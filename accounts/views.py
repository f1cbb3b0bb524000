"""A person's own account: profile, and signing out with a message. Password change and reset
are Django's views with the portal's templates (``templates/registration/``)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.mixins import LoginRequiredMixin

from accounts.forms import ProfileForm
from accounts.services import user_profile_update
from core.mixins import ServiceFormView


class ProfileView(LoginRequiredMixin, ServiceFormView):
    """``/settings/profile/``: my name and e-mail address."""

    template_name = "registration/profile.html"
    form_class = ProfileForm
    success_message = "Profile saved."

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "user": self.request.user}

    def perform(self, form):
        return user_profile_update(user=self.request.user, **form.cleaned_data)


class SignOutView(auth_views.LogoutView):
    """Django's sign-out (POST only), then the sign-in page says it worked."""

    def post(self, request, *args, **kwargs):
        was_signed_in = request.user.is_authenticated
        response = super().post(request, *args, **kwargs)
        if was_signed_in:
            messages.success(request, "You have been signed out.")
        return response


class PasswordResetSentView(auth_views.PasswordResetDoneView):
    """The "check your e-mail" page, saying how long the link works."""

    def get_context_data(self, **kwargs):
        hours = settings.PASSWORD_RESET_TIMEOUT // 3600
        return super().get_context_data(reset_timeout_hours=hours, **kwargs)
