"""Reading tenants for the staff pages and a tenant's member list."""

import re

from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.tokens import token_checksum
from audit.models import AuditEntry

from .models import Tenant, TenantInvitation, TenantMember, TenantState

CONTEXT_IDENTIFIER = re.compile(r"^cust[0-9]+$", re.IGNORECASE | re.ASCII)


def tenants_for_staff(*, q: str = "", environment: str = "", state: int | None = None) -> QuerySet[Tenant]:
    """Every tenant, filtered; ``q`` matches the context identifier or the company name."""
    members = (TenantMember.objects.filter(tenant=OuterRef("pk")).order_by().values("tenant")
               .annotate(n=Count("pk")).values("n"))
    # A subquery, not a join: the page's count query stays a plain count of tenants.
    qs = Tenant.objects.select_related("environment").annotate(member_count=Coalesce(Subquery(members), 0))
    if CONTEXT_IDENTIFIER.match(q):
        # An identifier or its start ("cust123") is looked up through the identifier's index.
        qs = qs.filter(context_identifier__startswith="Cust" + q[4:])
    elif q:
        qs = qs.filter(Q(context_identifier__icontains=q) | Q(company_name__icontains=q))
    if environment:
        qs = qs.filter(environment__code=environment)
    if state is not None:
        qs = qs.filter(state=state)
    return qs.order_by("environment__rank", "company_name", "context_identifier")


def tenant_for_staff(*, env: str, ctx: str) -> Tenant | None:
    return Tenant.objects.select_related("environment").filter(
        environment__code=env, context_identifier=ctx).first()


def tenant_members(tenant: Tenant) -> QuerySet[TenantMember]:
    return TenantMember.objects.filter(tenant=tenant).select_related("user").order_by(
        "-is_general_administrator", "-is_user_administrator", "user__email")


def tenant_audit(tenant: Tenant) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(tenant_id=tenant.pk).select_related("actor")


def membership(user, env: str, ctx: str) -> TenantMember | None:
    """The user's membership in one tenant; None when they are not in it (or it does not exist)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (TenantMember.objects
            .filter(user=user, tenant__environment__code=env, tenant__context_identifier=ctx)
            .select_related("tenant__environment").first())


def member_of(tenant: Tenant, pk: int) -> TenantMember | None:
    return TenantMember.objects.filter(tenant=tenant, pk=pk).select_related("user", "tenant").first()


def open_invitations(tenant: Tenant) -> QuerySet[TenantInvitation]:
    """Invitations neither accepted nor revoked, newest first (the expired ones too, to be revoked)."""
    return (TenantInvitation.objects.filter(tenant=tenant, accepted_at__isnull=True, revoked_at__isnull=True)
            .order_by("-created_at", "-pk"))


def invitation_by_token(token: str) -> TenantInvitation | None:
    """The invitation a link's token belongs to, whatever its state; None for an unknown token."""
    if not token:
        return None
    return (TenantInvitation.objects.select_related("tenant__environment", "invited_by")
            .filter(token_hash=token_checksum(token)).first())


def invitation_problem(invitation: TenantInvitation | None) -> str:
    """Why an invitation cannot be accepted (any more), or "" while it can."""
    if invitation is None:
        return "This invitation link is not valid. Check that you copied the whole link."
    company = invitation.tenant.company_name
    if invitation.accepted_at is not None:
        return "This invitation has already been used."
    if invitation.revoked_at is not None:
        return f"This invitation was withdrawn by the administrators of {company}."
    if invitation.tenant.state in (TenantState.DELETING, TenantState.DELETED):
        return f"{company} is being deleted or was deleted; it takes no new members."
    if invitation.expires_at <= timezone.now():
        return f"This invitation has expired. Ask an administrator of {company} to send you a new one."
    return ""
