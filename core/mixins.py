"""The one way a page hands a form to a service, and the one way a destructive action is
confirmed."""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.views.generic import FormView, TemplateView


def add_service_error(form, error: ValidationError) -> None:
    """Put a service's ``ValidationError`` into ``form``: errors keyed by one of the form's
    fields go to that field, everything else to the form as a whole."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, errors in error.error_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class ServiceFormView(FormView):
    """A page whose form's valid data goes to a service.

    GET shows the page with an empty form (and whatever :meth:`get_context_data` adds: a list
    page is one of these); POST binds the form and calls :meth:`perform`. Invalid input, and a
    ``ValidationError`` from the service, re-render the page with the errors and status 400.
    On success :meth:`succeeded` answers: by default a success message and a redirect.
    """

    success_message = ""

    def perform(self, form):
        """Call the service with ``form.cleaned_data``; return what it made."""
        raise NotImplementedError

    def get_success_message(self, result) -> str:
        return self.success_message.format(result=result)

    def get_success_url(self, result=None) -> str:
        return self.request.path

    def succeeded(self, result):
        messages.success(self.request, self.get_success_message(result))
        return redirect(self.get_success_url(result))

    def refused(self, form, error: ValidationError):
        """The service refused the form's data: by default, its errors in the form, 400."""
        add_service_error(form, error)
        return self.form_invalid(form)

    def form_valid(self, form):
        try:
            result = self.perform(form)
        except ValidationError as error:
            return self.refused(form, error)
        return self.succeeded(result)

    def form_invalid(self, form):
        return self.render_to_response(self.get_context_data(form=form), status=400)


@dataclass(frozen=True)
class Confirmation:
    """What a confirmation page says: the question, what will happen, the button, where
    Cancel goes, and ``refusal``: why it cannot be done (then there is no button)."""

    title: str
    consequences: tuple[str, ...]
    button: str
    cancel_url: str
    refusal: str | None = None


class ConfirmActionView(TemplateView):
    """A destructive action in two steps that work without JavaScript.

    GET shows :meth:`confirmation` (what will happen, and a button that POSTs to the same
    URL); POST calls :meth:`perform`, then a success message and a redirect. A
    ``ValidationError`` from the service shows the page again with the reason, status 400,
    and nothing changed.
    """

    template_name = "confirm.html"
    success_message = ""

    def confirmation(self) -> Confirmation:
        raise NotImplementedError

    def perform(self):
        """Call the service; return what it returns."""
        raise NotImplementedError

    def get_success_message(self, result) -> str:
        return self.success_message

    def get_success_url(self, result) -> str:
        raise NotImplementedError

    def get_context_data(self, **kwargs):
        return super().get_context_data(confirm=self.confirmation(), **kwargs)

    def post(self, request, *args, **kwargs):
        try:
            result = self.perform()
        except ValidationError as error:
            context = self.get_context_data(error=" ".join(error.messages))
            return self.render_to_response(context, status=400)
        messages.success(request, self.get_success_message(result))
        return redirect(self.get_success_url(result))
