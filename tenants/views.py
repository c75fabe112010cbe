"""The public tenant state API (SPEC §6): no authentication, readable from any origin."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .state import tenant_state


def _public(response: JsonResponse, max_age: int) -> JsonResponse:
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = f"public, max-age={max_age}" if max_age else "no-cache"
    return response


# No cookies are read and nothing changes here, so CSRF does not apply: other methods get a JSON 405.
@csrf_exempt
def state(request: HttpRequest, env: str, ctx: str) -> JsonResponse:
    if request.method not in ("GET", "HEAD"):
        response = JsonResponse({"Error": "Only GET and HEAD are allowed."}, status=405)
        response["Allow"] = "GET, HEAD"
        return _public(response, 0)
    answer = tenant_state(env, ctx)
    if answer is None:
        return _public(JsonResponse({"Error": "No such environment."}, status=404), 0)
    return _public(JsonResponse(answer.body), answer.max_age())
