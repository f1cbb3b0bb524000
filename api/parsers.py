"""The API's request body parser: JSON, refusing what Python's parser can't take as invalid
input."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """Django REST framework's JSON parser; JSON nested deeper than Python's parser goes
    (about 1,000 levels: it raises ``RecursionError``) is a 400 like any other bad JSON, not a
    server error."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the JSON is nested too deeply.") from None
