"""python -m examples.partner_service: serve the reference partner service on 127.0.0.1:$PARTNER_PORT."""

from .app import main
from .logs import redact_access_log

redact_access_log()
main()
