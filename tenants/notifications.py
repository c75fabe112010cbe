"""E-mails to a tenant's members, rendered from templates/tenants/email/."""

import secrets

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import User
from accounts.services import password_setup_url
from accounts.tokens import token_checksum

from .models import TenantInvitation, TenantMember


def member_invited(*, member_id: int, new_account: bool, inviter_id: int | None = None) -> int:
    """Tell a new member they belong to the tenant: a link to choose a password for a new account
    (while it has none), else where to sign in."""
    member = TenantMember.objects.select_related("tenant__environment", "user").filter(pk=member_id).first()
    if member is None or not member.user.is_active:
        return 0
    user, tenant = member.user, member.tenant
    set_password = new_account and not user.has_usable_password()
    context = {
        "member": member, "tenant": tenant, "user": user,
        "inviter": User.objects.filter(pk=inviter_id).first() if inviter_id else None,
        "set_password_url": password_setup_url(user) if set_password else "",
        "sign_in_url": settings.SITE_URL + reverse("account_login"),
        "company_url": settings.SITE_URL + reverse("tenant-members:members", args=[tenant.environment.code,
                                                                    tenant.context_identifier]),
    }
    subject = " ".join(render_to_string("tenants/email/member_invited_subject.txt", context).split())
    body = render_to_string("tenants/email/member_invited_body.txt", context)
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])


def member_invitation(*, invitation_id: int, token: str) -> int:
    """Send an invitation's link; nothing when it was revoked, used or replaced meanwhile."""
    invitation = (TenantInvitation.objects.select_related("tenant__environment", "invited_by")
                  .filter(pk=invitation_id).first())
    if (invitation is None or invitation.accepted_at or invitation.revoked_at
            or not secrets.compare_digest(invitation.token_hash, token_checksum(token))):
        return 0
    context = {"invitation": invitation, "tenant": invitation.tenant, "inviter": invitation.invited_by,
               "url": settings.SITE_URL + reverse("tenant-members:invitation", args=[token])}
    subject = " ".join(render_to_string("tenants/email/member_invitation_subject.txt", context).split())
    body = render_to_string("tenants/email/member_invitation_body.txt", context)
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])
