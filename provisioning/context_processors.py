"""The header's "My company's apps" link, for signed-in users who belong to a tenant.

Whether they do is kept in the session from sign-in (see receivers), so pages cost no query;
sessions started before that was kept are filled in once here.
"""

from django.http import HttpRequest

from tenants.models import TenantMember

SESSION_KEY = "member_of_tenant"


def remember_tenant_membership(request: HttpRequest, user, *, member: bool | None = None) -> bool:
    """Store in the session whether the user belongs to any tenant (asking the database unless
    ``member`` says), and return it."""
    if member is None:
        member = TenantMember.objects.filter(user=user).exists()
    if request.session.get(SESSION_KEY) != member:
        request.session[SESSION_KEY] = member
    return member


def customer(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    session = getattr(request, "session", None)
    if user is None or session is None or not user.is_authenticated:
        return {}
    member = session.get(SESSION_KEY)
    if member is None:
        member = remember_tenant_membership(request, user)
    return {"member_of_tenant": member}
