"""The one way a page hands a form to a service."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.views.generic import FormView


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
