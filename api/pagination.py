"""Pages of a list, Docker Hub's way, through Django REST framework's page-number pagination
(:class:`PageNumbers`): ``?page=1&page_size=25`` in, ``{"count", "next", "previous",
"results"}`` out (``next``/``previous``: absolute URLs or null). A page past the last is
invalid input (400), except the first page of an empty list."""

import functools

from django.core.paginator import Page
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from api.serializers import StrictSerializer, valid_data

MAX_PAGE_SIZE = 100
PAGE_SIZE = 25
HUB_PAGE_SIZE = 10  # Docker Hub's default


class PageQuery(StrictSerializer):
    """Which page: ``page`` (from 1) of ``page_size`` items."""

    page = serializers.IntegerField(min_value=1, max_value=1_000_000, default=1)
    page_size = serializers.IntegerField(min_value=1, max_value=MAX_PAGE_SIZE, default=PAGE_SIZE)

    def to_internal_value(self, data):
        # A query string may carry other parameters: only the known ones are read here.
        known = {name: data[name] for name in self.fields if name in data}
        return super().to_internal_value(known)


class HubPageQuery(PageQuery):
    """Which page: ``page`` (from 1) of ``page_size`` items (10 by default, as on Docker
    Hub)."""

    page_size = serializers.IntegerField(
        min_value=1, max_value=MAX_PAGE_SIZE, default=HUB_PAGE_SIZE
    )


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


class PageNumbers(PageNumberPagination):
    """Django REST framework's page-number pagination, the way Docker Hub pages a list:
    ``?page=1&page_size=25`` in, ``{"count", "next", "previous", "results"}`` out (``next`` and
    ``previous`` are absolute URLs or null; page 1's link has no ``page``).

    Stricter than DRF's defaults: a malformed or out-of-range ``page`` or ``page_size`` (which
    DRF would replace by its default) is invalid input, a 400 naming the parameter, and so is a
    page past the last (DRF: 404), except the first page of an empty list.
    """

    page_size = PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = MAX_PAGE_SIZE
    last_page_strings = ()
    #: Validates ``page`` and ``page_size`` (other parameters are the view's).
    query = PageQuery

    def paginate_queryset(self, queryset, request, view=None):
        query = valid_data(self.query, request.query_params)
        paginator = self.django_paginator_class(queryset, query["page_size"])
        return self.paginate_page(
            paginator.get_page(query["page"]), request, requested=query["page"]
        )

    def paginate_page(self, page: Page, request, *, requested: int) -> list:
        """The items of ``page``, a page that a selector made with a paginator of its own
        (the members', the capped count of the activity log), answered like any other:
        ``requested`` past the last page is refused (400)."""
        last = page.paginator.num_pages
        if requested > last:
            pages = "is 1 page" if last == 1 else f"are {last} pages"
            raise ValidationError(
                {
                    self.page_query_param: [
                        f"Page {requested} does not exist: there {pages} of "
                        f"{page.paginator.per_page}."
                    ]
                }
            )
        self.request, self.page = request, page
        return list(page.object_list)

    def get_paginated_response(self, data, **extra) -> Response:
        """The page's envelope, ``extra`` fields, then ``results``: ``data``."""
        return Response(
            {
                "count": self.page.paginator.count,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                **extra,
                "results": data,
            }
        )


class HubPageNumbers(PageNumbers):
    """:class:`PageNumbers` with Docker Hub's default of 10 items a page."""

    page_size = HUB_PAGE_SIZE
    query = HubPageQuery


def page_response(request, items, item_serializer, *, pagination=PageNumbers, **extra) -> Response:
    """The answer with the page of ``items`` (a queryset or a list) that the query string
    asks for, each item serialized by ``item_serializer``; ``extra`` adds fields to the
    envelope."""
    pages = pagination()
    page = pages.paginate_queryset(items, request)
    return pages.get_paginated_response(item_serializer(page, many=True).data, **extra)
