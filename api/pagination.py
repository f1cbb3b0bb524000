"""Pages of a list, Docker Hub's way: ``?page=1&page_size=25`` in,
``{"count", "next", "previous", "results"}`` out (``next``/``previous``: absolute URLs or
null). A page past the last is invalid input (400), except the first page of an empty list."""

import functools

from django.core.paginator import Page, Paginator
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

from api.serializers import StrictSerializer

MAX_PAGE_SIZE = 100


class PageQuery(StrictSerializer):
    """Which page: ``page`` (from 1) of ``page_size`` items."""

    page = serializers.IntegerField(min_value=1, max_value=1_000_000, default=1)
    page_size = serializers.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, default=25)

    def to_internal_value(self, data):
        # A query string may carry other parameters: only the known ones are read here.
        known = {name: data[name] for name in self.fields if name in data}
        return super().to_internal_value(known)


class HubPageQuery(PageQuery):
    """Which page: ``page`` (from 1) of ``page_size`` items (10 by default, as on Docker
    Hub)."""

    page_size = serializers.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, default=10)


@functools.cache
def paginated(item_serializer):
    """The serializer of a page of ``item_serializer`` items (a named component in the
    schema)."""
    name = item_serializer.__name__.removesuffix("Serializer")
    return type(
        f"Paginated{name}List",
        (serializers.Serializer,),
        {
            "__module__": __name__,
            "__doc__": f"A page of {name} items.",
            "count": serializers.IntegerField(help_text="How many items there are in all."),
            "next": serializers.URLField(allow_null=True, help_text="The next page, or null."),
            "previous": serializers.URLField(
                allow_null=True, help_text="The previous page, or null."
            ),
            "results": item_serializer(many=True),
        },
    )


def _link(request, number: int | None) -> str | None:
    if number is None:
        return None
    url = request.build_absolute_uri()
    if number == 1:
        return remove_query_param(url, "page")
    return replace_query_param(url, "page", number)


def _check_exists(number: int, paginator: Paginator) -> None:
    last = paginator.num_pages
    if number > last:
        pages = "is 1 page" if last == 1 else f"are {last} pages"
        raise ValidationError(
            {"page": [f"Page {number} does not exist: there {pages} of {paginator.per_page}."]}
        )


def page_of(request, items, *, page: int, page_size: int) -> tuple[list, dict]:
    """One page of ``items`` (a queryset or a list): ``(its items, the envelope without
    results)``. A page past the last is refused (400)."""
    paginator = Paginator(items, page_size)
    _check_exists(page, paginator)
    one = paginator.page(page)
    return list(one.object_list), envelope_of(request, one)


def page_response(request, items, item_serializer, query: dict, **extra) -> Response:
    """The answer with page ``query["page"]`` of ``items`` (``query["page_size"]`` each), each
    item serialized by ``item_serializer``; ``extra`` adds fields to the envelope."""
    page, envelope = page_of(request, items, page=query["page"], page_size=query["page_size"])
    return Response({**envelope, **extra, "results": item_serializer(page, many=True).data})


def envelope_of(request, page: Page, requested: int | None = None) -> dict:
    """The envelope of ``page`` (``django.core.paginator.Page``, e.g. from a selector that
    paginates); with ``requested``, refuses (400) a page number past the last."""
    if requested is not None:
        _check_exists(requested, page.paginator)
    return {
        "count": page.paginator.count,
        "next": _link(request, page.next_page_number() if page.has_next() else None),
        "previous": _link(request, page.previous_page_number() if page.has_previous() else None),
    }
