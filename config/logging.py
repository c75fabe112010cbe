"""Log filters: nothing secret reaches a log line."""

import logging
import re

# Invitation links carry their token in the path (/portal/invitations/<token>/), in the sign-up
# link (?invitation=<token>) and, URL-encoded, in a sign-in link's ?next=; so do custom-app
# confirmation links (/my/confirm-authorization/<token>/) and tenant invitations
# (/my/invitations/<token>/) and password-reset (set-password) links. Request logs (404s, the
# development server's access log) would otherwise write them out.
SECRET_PATHS = re.compile(
    r"((?:/portal/invitations/|%2Fportal%2Finvitations%2F|/accounts/password/reset/key/"
    r"|%2Faccounts%2Fpassword%2Freset%2Fkey%2F|/my/confirm-authorization/"
    r"|%2Fmy%2Fconfirm-authorization%2F|/my/invitations/|%2Fmy%2Finvitations%2F)|[?&]invitation=)"
    r"[^/\s\"?&%]+", re.IGNORECASE)

# Credentials a client may put in a query string (an id_token_hint at sign-out, a secret or token
# sent the wrong way), plain or URL-encoded inside a ?next=.
SECRET_PARAMS = re.compile(
    r"((?:[?&]|%3F|%26)(?:id_token_hint|client_secret|access_token|refresh_token|token|code|ticket"
    r"|password)(?:=|%3D))[^\s\"&%]+", re.IGNORECASE)


def redact(text: str) -> str:
    return SECRET_PARAMS.sub(r"\1[redacted]", SECRET_PATHS.sub(r"\1[token]", text))


class RedactSecretPaths(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        request = getattr(record, "request", None)
        if request is not None and SECRET_PATHS.search(getattr(request, "path", "")):
            record.request = None
        return True


class OneLineForbidden(logging.Filter):
    """A 403 is an expected refusal, not a fault: one line with its reason, no traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403 and record.levelno < logging.ERROR and record.exc_info:
            exc = record.exc_info[1]
            reason = " ".join(str(exc).split()) if exc is not None else ""
            message = record.getMessage()
            record.msg = f"{message} ({reason})" if reason else message
            record.args, record.exc_info, record.exc_text = (), None, None
        return True
