from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness probe for load balancers and compose; also the benchmark's ceiling."""
    return HttpResponse("ok", content_type="text/plain")


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form the CSRF check refused: the site's own page, with the visitor's header, and a way back.

    Rendered with the request (Django's own view renders 403_csrf.html without it), so a signed-in visitor
    sees their own navigation and the page hands out a fresh token for the next try.
    """
    back = request.headers.get("Referer", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        back = "/"
    return render(request, "403_csrf.html", {"back_url": back}, status=403)
