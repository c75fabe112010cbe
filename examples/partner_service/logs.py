"""The access log shows request lines without the single-use codes and tokens in their query."""

import logging
import re

SECRET_QUERY = re.compile(r"([?&](?:code|id_token_hint|token)=)[^&\s\"]+")


class RedactCodes(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = SECRET_QUERY.sub(r"\1[redacted]", message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True


def redact_access_log() -> None:
    logging.getLogger("werkzeug").addFilter(RedactCodes())
