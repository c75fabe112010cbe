"""python -m examples.partner_service: serve the reference partner service on 127.0.0.1:$PARTNER_PORT."""

from .app import main

main()
