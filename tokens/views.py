"""Personal access tokens: list, create (secret shown once), revoke."""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.shortcuts import get_object_or_404, redirect
from django.utils.cache import add_never_cache_headers
from django.views.generic import TemplateView, View

from orgs.views import apply_service
from tokens.forms import AccessTokenCreateForm
from tokens.models import AccessToken
from tokens.services import access_token_create, access_token_revoke


class AccessTokenListView(LoginRequiredMixin, TemplateView):
    """My access tokens, and the form to create one."""

    template_name = "tokens/token_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tokens"] = AccessToken.objects.filter(user=self.request.user)
        context.setdefault("form", AccessTokenCreateForm())
        return context

    def post(self, request, *args, **kwargs):
        form = AccessTokenCreateForm(request.POST)
        created = {}
        if form.is_valid():

            def create():
                created["token"], created["secret"] = access_token_create(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    expires_days=form.cleaned_data["expires_days"],
                )

            if apply_service(form, create):
                # Rendered, not redirected: the secret must not travel through the session.
                response = self.render_to_response(
                    self.get_context_data(form=AccessTokenCreateForm(), **created)
                )
                add_never_cache_headers(response)
                response["Cache-Control"] += ", no-store"
                return response
        return self.render_to_response(self.get_context_data(form=form), status=400)


class AccessTokenRevokeView(LoginRequiredMixin, View):
    """Revoke one of my tokens (someone else's is a 404)."""

    def post(self, request, pk):
        token = get_object_or_404(AccessToken, pk=pk, user=request.user)
        access_token_revoke(token=token)
        messages.success(request, f"Token '{token.name}' revoked. It no longer works.")
        return redirect("tokens:list")
