from django.http import HttpRequest, HttpResponse


def healthz(request: HttpRequest) -> HttpResponse:
    """Liveness probe for load balancers and compose; also the benchmark's ceiling."""
    return HttpResponse("ok", content_type="text/plain")
