"""Plumbing every portal and review view shares: who may see the page, and the objects it
may reach (always through the current partner)."""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

from ..models import App, PartnerMember
from ..permissions import require_app_manager
from ..selectors.partners import SESSION_KEY, app_of, current_membership, membership_owning


def portal_view(permission: str = "read"):
    """Sign-in required; resolve the current partner and check the member's permission flag.

    A page of an app (``app_id`` in the URL) or of a profile version that belongs to another
    partner the user works in switches the current partner to that one and is shown there,
    with a message; for anyone else it stays a 404. The owner is looked up only when the page
    was refused, so ordinary requests cost no extra query.
    """

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            member = current_membership(request)
            if member is None:
                return redirect("portal:home")
            try:
                require(member, permission)
                return view(request, member, *args, **kwargs)
            except (Http404, PermissionDenied):
                owner = _other_partner_owning(request, member, kwargs)
                if owner is None:
                    raise
            member = switch_partner_to(request, owner)
            require(member, permission)
            return view(request, member, *args, **kwargs)

        return wrapper

    return decorator


# Portal pages of a partner's own objects addressed by pk alone (no app_id): the partner's
# related set each pk belongs to. E-mails link to these too (profile reviews).
OWNED_BY_PK = {
    "portal:profile": "profile_versions", "portal:profile_logo": "profile_versions",
    "portal:profile_request": "profile_versions", "portal:profile_withdraw": "profile_versions",
    "portal:profile_changes": "profile_versions",
}


def _other_partner_owning(request: HttpRequest, member: PartnerMember, kwargs: dict) -> PartnerMember | None:
    """The user's membership in the partner owning the page's object, when that is not the current one."""
    if "app_id" in kwargs:
        related, pk = "apps", kwargs["app_id"]
    else:
        match = request.resolver_match
        related, pk = OWNED_BY_PK.get(match.view_name if match else ""), kwargs.get("pk")
        if related is None or pk is None:
            return None
    owner = membership_owning(request.user, related=related, pk=pk)
    return owner if owner is not None and owner.partner_id != member.partner_id else None


def switch_partner_to(request: HttpRequest, member: PartnerMember) -> PartnerMember:
    """Make ``member``'s partner the current one for this request and the session."""
    request.session[SESSION_KEY] = member.partner_id
    for cached in ("_current_membership", "_memberships"):
        request.__dict__.pop(cached, None)
    member = current_membership(request)  # also refreshes the memberships the services check
    messages.info(request, f"Switched to {member.partner.name}, the company this page belongs to.")
    return member


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
