"""The public tenant state API (SPEC §6): no authentication, readable from any origin."""

from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_safe

from .state import tenant_state


def _public(response: JsonResponse, max_age: int) -> JsonResponse:
    response["Access-Control-Allow-Origin"] = "*"
    response["Cache-Control"] = f"public, max-age={max_age}" if max_age else "no-cache"
    return response


@require_safe
def state(request: HttpRequest, env: str, ctx: str) -> JsonResponse:
    answer = tenant_state(env, ctx)
    if answer is None:
        return _public(JsonResponse({"Error": "No such environment."}, status=404), 0)
    return _public(JsonResponse(answer.body), answer.max_age())
