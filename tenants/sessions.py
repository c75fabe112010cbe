"""Whether the signed-in user belongs to any tenant, kept in the session for the header's link.

Kept at sign-in and whenever a page learns it (the customer pages, a new development tenant), so
pages cost no query; a "no" is asked again after a while, so someone added to a tenant by another
person sees the link without signing in again.
"""

import time

from django.http import HttpRequest

from .models import TenantMember

SESSION_KEY = "member_of_tenant"
CHECKED_KEY = "member_of_tenant_checked"
RECHECK_NO_AFTER = 600  # seconds


def remember_tenant_membership(request: HttpRequest, user, *, member: bool | None = None) -> bool:
    """Store whether the user belongs to any tenant (asking the database unless ``member`` says)."""
    if member is None:
        member = TenantMember.objects.filter(user=user).exists()
    if request.session.get(SESSION_KEY) != member:
        request.session[SESSION_KEY] = member
    if not member:
        request.session[CHECKED_KEY] = int(time.time())
    return member


def member_of_tenant(request: HttpRequest, user) -> bool:
    """The kept answer; asked again when missing or when a "no" is older than RECHECK_NO_AFTER."""
    member = request.session.get(SESSION_KEY)
    stale_no = member is False and time.time() - request.session.get(CHECKED_KEY, 0) > RECHECK_NO_AFTER
    if member is None or stale_no:
        member = remember_tenant_membership(request, user)
    return member
