"""The environment a login-service request is for.

django-oauth-toolkit looks clients up by client ID alone; client IDs are unique only within an
environment, so the login views set the environment here for the length of the request and
``LoginClient.objects`` reads only that environment's clients.
"""

import contextlib
from contextvars import ContextVar

current_environment: ContextVar[str | None] = ContextVar("current_environment", default=None)


@contextlib.contextmanager
def environment_scope(code: str):
    token = current_environment.set(code)
    try:
        yield
    finally:
        current_environment.reset(token)
