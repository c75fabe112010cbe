"""The tenant administrator's ERP connection pages (SPEC §10), under /my/<env>/<ctx>/apps/<pk>/erp/."""

from .connections import connection_page, connections, delete_connection, edit_configuration, new_connection
from .mapping import mapping_page
from .runs import run_page, run_progress

__all__ = ["connection_page", "connections", "delete_connection", "edit_configuration", "mapping_page",
           "new_connection", "run_page", "run_progress"]
