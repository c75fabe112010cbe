"""The reference partner service's access log never shows the code its callback receives."""

import logging

from examples.partner_service.logs import RedactCodes


def test_callback_codes_are_redacted_and_the_rest_of_the_line_kept():
    line = '"GET /callback?code=abc123&state=s1 HTTP/1.1" 302'
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, "%s - - [%s] %s",
                               ("127.0.0.1", "now", line), None)
    assert RedactCodes().filter(record)
    assert record.getMessage() == '127.0.0.1 - - [now] "GET /callback?code=[redacted]&state=s1 HTTP/1.1" 302'


def test_lines_without_codes_are_untouched():
    record = logging.LogRecord("werkzeug", logging.INFO, __file__, 1, "%s", ('"GET / HTTP/1.1" 200',), None)
    RedactCodes().filter(record)
    assert (record.msg, record.args) == ("%s", ('"GET / HTTP/1.1" 200',))
