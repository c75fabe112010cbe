"""The login service's error page: the authorization error code, what happened, a request id."""

import logging
import uuid

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from ..models import AuthorizationError

logger = logging.getLogger("provisioning.login")


def request_id(request: HttpRequest) -> str:
    if not hasattr(request, "login_request_id"):
        request.login_request_id = uuid.uuid4().hex[:16]
    return request.login_request_id


def error_page(
    request: HttpRequest,
    code: AuthorizationError,
    message: str,
    *,
    back_url: str = "",
    app_name: str = "",
    status: int = 400,
    sign_out: bool = False,
) -> HttpResponse:
    """Never redirects: ``back_url`` is a link the user may follow, built only from a registered URL."""
    rid = request_id(request)
    logger.info("Login refused: %s (%d) request %s: %s", code.label, code.value, rid, message)
    response = render(
        request,
        "provisioning/error.html",
        {
            "code": code,
            "message": message,
            "request_id": rid,
            "back_url": back_url,
            "app_name": app_name,
            "sign_out": sign_out,
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response
