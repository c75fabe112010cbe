"""Request-body parsing of the partner API."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, where a body nested too deeply is a 400 like any other bad JSON.

    DRF already turns the json module's ValueError (bad syntax, bad encoding, NaN) into a
    ParseError; but on deep nesting (a few thousand levels of ``[[[…]]]`` or
    ``{"a": {"a": …}}``) the json module gives up with RecursionError, which DRF lets through
    as a 500.
    """

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - the document is nested too deeply.") from exc
