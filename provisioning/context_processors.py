"""The header's "My company's apps" link, for signed-in users who belong to a tenant."""

from django.http import HttpRequest

from tenants.sessions import member_of_tenant


def customer(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    if user is None or session is None or not user.is_authenticated:
        return {}
    return {"member_of_tenant": member_of_tenant(request, user)}
