"""Invitation tokens in request paths never reach a log line."""

import logging

from config.logging import RedactSecretPaths


def test_invitation_token_is_redacted_from_request_log_lines():
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Not Found: %s",
                               ("/portal/invitations/abcDEF123-secret/",), None)
    assert RedactSecretPaths().filter(record)
    assert record.getMessage() == "Not Found: /portal/invitations/[token]/"
    assert "abcDEF123-secret" not in record.getMessage()


def test_other_lines_are_untouched():
    record = logging.LogRecord("django.request", logging.WARNING, __file__, 1, "Not Found: %s",
                               ("/portal/apps/7/",), None)
    assert RedactSecretPaths().filter(record)
    assert (record.msg, record.args) == ("Not Found: %s", ("/portal/apps/7/",))


def test_a_404_on_an_invitation_link_logs_no_token(client, caplog, db):
    caplog.set_level(logging.WARNING, logger="django.request")
    client.get("/portal/invitations/no-such-token-0123456789/")
    handler = logging.getLogger().handlers[0]
    lines = [handler.format(r) for r in caplog.records if all(f.filter(r) for f in handler.filters)]
    assert lines and not any("no-such-token-0123456789" in line for line in lines)
