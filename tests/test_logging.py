"""Invitation tokens in request paths never reach a log line."""

import logging

from config.logging import RedactSecretPaths


def _handler_lines(caplog) -> list[str]:
    """The captured records as the console handler writes them: through its configured filters.

    The filters are built from settings.LOGGING rather than taken from the root logger, which a
    Celery worker started by another test may have replaced."""
    from django.conf import settings
    from django.utils.module_loading import import_string

    config = settings.LOGGING
    filters = [import_string(config["filters"][name]["()"])()
               for name in config["handlers"]["console"]["filters"]]
    formatter = logging.Formatter()
    return [formatter.format(r) for r in caplog.records if all(f.filter(r) for f in filters)]


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
    lines = _handler_lines(caplog)
    assert lines and not any("no-such-token-0123456789" in line for line in lines)


def test_tokens_in_sign_up_and_sign_in_links_are_redacted_and_ids_are_not():
    lines = {
        '"GET /accounts/signup/?invitation=nZVMO5rdSecret HTTP/1.1" 200': "nZVMO5rdSecret",
        '"GET /accounts/login/?next=%2Fportal%2Finvitations%2FtdvwtNJIySecret%2F HTTP/1.1" 200':
            "tdvwtNJIySecret",
    }
    for line, token in lines.items():
        record = logging.LogRecord("django.server", logging.INFO, __file__, 1, "%s", (line,), None)
        RedactSecretPaths().filter(record)
        assert token not in record.getMessage() and "[token]" in record.getMessage()
    kept = '"POST /portal/team/invitations/6/resend/ HTTP/1.1" 302'
    record = logging.LogRecord("django.server", logging.INFO, __file__, 1, "%s", (kept,), None)
    RedactSecretPaths().filter(record)
    assert record.getMessage() == kept


def test_credentials_in_query_strings_are_redacted_and_other_parameters_kept():
    lines = {
        '"GET /sod/logout?id_token_hint=eyJhbGciOi.eyJzdWIi.sig&state=s1 HTTP/1.1" 302': "eyJhbGciOi",
        '"POST /sod/oauth/token?client_secret=topsecret HTTP/1.1" 400': "topsecret",
        '"GET /accounts/login/?next=%2Fsod%2Flogout%3Fid_token_hint%3DeyJzZWNy HTTP/1.1" 200': "eyJzZWNy",
    }
    for line, secret in lines.items():
        record = logging.LogRecord("django.server", logging.INFO, __file__, 1, "%s", (line,), None)
        RedactSecretPaths().filter(record)
        assert secret not in record.getMessage() and "[redacted]" in record.getMessage()
    kept = '"GET /sod/oauth/authorize?response_type=code&client_id=abc&state=s1 HTTP/1.1" 302'
    record = logging.LogRecord("django.server", logging.INFO, __file__, 1, "%s", (kept,), None)
    RedactSecretPaths().filter(record)
    assert record.getMessage() == kept


def test_a_403_is_logged_as_one_line_with_its_reason_and_no_traceback(caplog, rf):
    from django.core.exceptions import PermissionDenied
    from django.core.handlers.exception import response_for_exception

    caplog.set_level(logging.WARNING, logger="django.request")
    try:
        raise PermissionDenied("Only the administrators of Acme can uninstall apps.")
    except PermissionDenied as exc:
        response = response_for_exception(rf.get("/my/prod/acme/apps/7/uninstall/"), exc)
    assert response.status_code == 403
    lines = _handler_lines(caplog)
    assert len(lines) == 1
    assert lines[0] == ("Forbidden (Permission denied): /my/prod/acme/apps/7/uninstall/ "
                        "(Only the administrators of Acme can uninstall apps.)")
    assert "Traceback" not in lines[0] and "\n" not in lines[0]


def test_errors_keep_their_traceback(caplog):
    from config.logging import OneLineForbidden

    try:
        raise ValueError("boom")
    except ValueError:
        import sys
        record = logging.LogRecord("django.request", logging.ERROR, __file__, 1, "Internal Server Error: %s",
                                   ("/x/",), sys.exc_info())
    record.status_code = 500
    assert OneLineForbidden().filter(record)
    assert record.exc_info is not None


def test_tenant_invitation_tokens_are_redacted():
    lines = {
        '"GET /my/invitations/tEnAnTsEcReT123/ HTTP/1.1" 200': "tEnAnTsEcReT123",
        '"POST /my/invitations/tEnAnTsEcReT123/ HTTP/1.1" 302': "tEnAnTsEcReT123",
        '"GET /accounts/login/?next=%2Fmy%2Finvitations%2FeNcOdEdSeCrEt%2F HTTP/1.1" 200': "eNcOdEdSeCrEt",
        '"GET /accounts/login/?next=%2fmy%2finvitations%2flowerSeCrEt%2f HTTP/1.1" 200': "lowerSeCrEt",
    }
    for line, token in lines.items():
        record = logging.LogRecord("django.server", logging.INFO, __file__, 1, "%s", (line,), None)
        RedactSecretPaths().filter(record)
        assert token not in record.getMessage() and "[token]" in record.getMessage()
    kept = '"POST /my/sod/Cust10001/members/invitations/6/revoke/ HTTP/1.1" 302'
    record = logging.LogRecord("django.server", logging.INFO, __file__, 1, "%s", (kept,), None)
    RedactSecretPaths().filter(record)
    assert record.getMessage() == kept


def test_password_reset_keys_are_redacted():
    encoded = "%2Faccounts%2Fpassword%2Freset%2Fkey%2F22-dj2qcz-18"
    for line in ('"GET /accounts/password/reset/key/22-dj2qcz-181222485549e7/ HTTP/1.1" 302',
                 f'"GET /accounts/login/?next={encoded} HTTP/1.1" 200'):
        record = logging.LogRecord("django.server", logging.INFO, __file__, 1, "%s", (line,), None)
        RedactSecretPaths().filter(record)
        assert "dj2qcz" not in record.getMessage() and "[token]" in record.getMessage()
