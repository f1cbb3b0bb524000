"""Template filters every page may use (a builtin of the template engine: no ``{% load %}``)."""

from django import template
from django.utils.html import conditional_escape
from django.utils.safestring import mark_safe

register = template.Library()


@register.filter(is_safe=True)
def path_breaks(value) -> str:
    """``value`` escaped, with a line-break opportunity (``<wbr>``) after each ``/``: a
    repository name such as ``someone/tools/app:1.2`` wraps between its parts, not inside a
    word."""
    return mark_safe(conditional_escape(str(value)).replace("/", "/<wbr>"))
