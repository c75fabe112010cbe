"""Plumbing every portal and review view shares: who may see the page, and the objects it
may reach (always through the current partner)."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from ..models import App, PartnerMember
from ..permissions import require_app_manager
from ..selectors.partners import app_of, current_membership


def portal_view(permission: str = "read"):
    """Sign-in required; resolve the current partner and check the member's permission flag."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            member = current_membership(request)
            if member is None:
                return redirect("portal:home")
            require(member, permission)
            return view(request, member, *args, **kwargs)

        return wrapper

    return decorator


def require(member: PartnerMember, permission: str) -> None:
    if not member.has(permission):
        raise PermissionDenied(
            f"You need the “{permission.replace('_', ' ')}” permission in {member.partner.name}. "
            "Ask an administrator of your company.")


def get_app(member: PartnerMember, app_id: int) -> App:
    try:
        return app_of(member.partner, app_id)
    except App.DoesNotExist as exc:
        raise Http404("No such app in your company.") from exc



def app_manager_required(view: Callable) -> Callable:
    """Anonymous visitors go to the login page; anyone else but an App manager gets 403."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        require_app_manager(user=request.user)
        return view(request, *args, **kwargs)

    return wrapper




def change_log_download(*, owner: dict, version_key: str, version: dict, entries, filename: str
                        ) -> JsonResponse:
    """A version's change log as a JSON file: who, when, source, event, message, old -> new."""
    response = JsonResponse({
        **owner,
        version_key: version,
        "entries": [{"at": e.at.isoformat(), "actor": e.actor_email, "source": e.source,
                     "event": e.event_type, "message": e.message, "changes": e.changes}
                    for e in entries],
    }, json_dumps_params={"indent": 2, "ensure_ascii": False})
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
