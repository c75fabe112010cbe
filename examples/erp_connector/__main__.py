"""python -m examples.erp_connector: serve the reference ERP connector on 127.0.0.1:$ERP_PORT."""

from .app import main

main()
