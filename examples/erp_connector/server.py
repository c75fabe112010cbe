"""Serve the connector in a thread on a free port of 127.0.0.1, for tests of the platform's ERP sync."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable

from werkzeug.serving import make_server

try:
    from .app import create_app
except ImportError:  # run from this folder
    from app import create_app  # type: ignore[no-redef]


def serve_in_thread(settings_path: str | os.PathLike[str], db_path: str | os.PathLike[str]
                    ) -> tuple[str, Callable[[], None]]:
    """Start the connector; returns (its base URL, a function that stops it).

    The base URL is the ERP sync endpoint: operations are ``POST <base_url>/<Operation>``.
    """
    app = create_app(settings_path=settings_path, db_path=db_path)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True,
                              name="erp-connector")
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return f"http://127.0.0.1:{server.server_port}", stop
