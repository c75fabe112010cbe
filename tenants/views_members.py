"""A tenant's members under /my/<env>/<ctx>/members/: administrators invite, remove and grant or
withdraw administrator rights; other members see the list. Another tenant's page is a 404.
An invitation's link lands on /my/invitations/<token>/, where the invited person accepts it."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts.services import get_or_create_invited_user, password_setup_url

from . import selectors
from .forms import AdminRightsForm, MemberInviteForm, service_errors
from .models import TenantMember
from .services import members as member_services
from .services.lifecycle import TenantError
from .sessions import remember_tenant_membership


def membership_or_404(request: HttpRequest, env: str, ctx: str) -> TenantMember:
    """The signed-in user's membership in the tenant of the URL; another tenant's pages are a 404."""
    member = selectors.membership(request.user, env, ctx)
    if member is None:
        raise Http404("No such company.")
    return member


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def members(request: HttpRequest, env: str, ctx: str) -> HttpResponse:
    me = membership_or_404(request, env, ctx)
    tenant = me.tenant
    form = MemberInviteForm(request.POST or None)
    if request.method == "POST":
        if not me.is_admin:
            raise PermissionDenied(f"Only the administrators of {tenant.company_name} can invite members.")
        if form.is_valid():
            try:
                invitation = member_services.invite_member(actor=request.user, tenant=tenant,
                                                           email=form.cleaned_data["email"],
                                                           is_admin=form.cleaned_data["is_admin"])
            except ValidationError as exc:
                service_errors(form, exc)
            except TenantError as refused:
                form.add_error("email", refused.message)
            else:
                # The same answer whether the address has an account or not.
                messages.success(request, f"Invitation sent to {invitation.email}. The link is valid until "
                                          f"{invitation.expires_at:%d %B %Y}; they join once they accept it.")
                return redirect("tenant-members:members", env=env, ctx=ctx)
    invitations = list(selectors.open_invitations(tenant)) if me.is_admin else []
    return render(request, "tenants/my/members.html", {
        "me": me, "tenant": tenant, "members": list(selectors.tenant_members(tenant)), "form": form,
        "invitations": invitations, "now": timezone.now(),
        "closed": tenant.state in member_services.CLOSED,
    })


def _target(request: HttpRequest, env: str, ctx: str, pk: int) -> tuple[TenantMember, TenantMember]:
    me = membership_or_404(request, env, ctx)
    target = selectors.member_of(me.tenant, pk)
    if target is None:
        raise Http404("No such member in this company.")
    if not me.is_admin:
        raise PermissionDenied(f"Only the administrators of {me.tenant.company_name} can manage its members.")
    return me, target


@require_POST
@login_required
def remove(request: HttpRequest, env: str, ctx: str, pk: int) -> HttpResponse:
    me, target = _target(request, env, ctx, pk)
    try:
        member_services.remove_member(actor=request.user, member=target)
    except TenantError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"{target.user.email} was removed from {me.tenant.company_name}.")
        if target.pk == me.pk:
            return redirect("my:home")
    return redirect("tenant-members:members", env=env, ctx=ctx)


@require_POST
@login_required
def set_admin(request: HttpRequest, env: str, ctx: str, pk: int) -> HttpResponse:
    me, target = _target(request, env, ctx, pk)
    form = AdminRightsForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose whether to grant or withdraw administrator rights. "
                                "Nothing was changed.")
        return redirect("tenant-members:members", env=env, ctx=ctx)
    grant = form.cleaned_data["admin"]
    if target.is_admin == grant:
        already = "is already" if grant else "is not"
        messages.info(request, f"{target.user.email} {already} an administrator of {me.tenant.company_name}; "
                               f"nothing was changed.")
        return redirect("tenant-members:members", env=env, ctx=ctx)
    try:
        member_services.set_administrator(actor=request.user, member=target, is_admin=grant)
    except TenantError as refused:
        messages.error(request, refused.message)
    else:
        now = "is now" if grant else "is no longer"
        messages.success(request, f"{target.user.email} {now} an administrator of {me.tenant.company_name}.")
    return redirect("tenant-members:members", env=env, ctx=ctx)


@require_POST
@login_required
def revoke_invitation(request: HttpRequest, env: str, ctx: str, pk: int) -> HttpResponse:
    me = membership_or_404(request, env, ctx)
    invitation = selectors.open_invitations(me.tenant).filter(pk=pk).first()
    if invitation is None:
        raise Http404("No such open invitation in this company.")
    if not me.is_admin:
        raise PermissionDenied(f"Only the administrators of {me.tenant.company_name} can manage its members.")
    try:
        member_services.revoke_invitation(actor=request.user, invitation=invitation)
    except TenantError as refused:
        messages.error(request, refused.message)
    else:
        messages.success(request, f"Invitation of {invitation.email} revoked; its link no longer works.")
    return redirect("tenant-members:members", env=env, ctx=ctx)


@never_cache
@require_http_methods(["GET", "POST"])
def invitation(request: HttpRequest, token: str) -> HttpResponse:
    """Where the e-mailed link lands: accept while signed in with the invited address, else sign in
    or create an account for it first."""
    found = selectors.invitation_by_token(token)
    if found is None:
        raise Http404("This invitation link is not valid.")
    problem = selectors.invitation_problem(found)
    user = request.user
    login_url = reverse("account_login") + "?" + urlencode({"next": request.path})
    if request.method == "POST" and not problem:
        if not user.is_authenticated:
            if request.POST.get("create_account"):
                return _create_account(request, found, login_url)
            return redirect(login_url)
        try:
            member = member_services.accept_invitation(user=user, token=token)
        except TenantError as refused:
            problem = refused.message
        else:
            remember_tenant_membership(request, user, member=True)
            tenant = member.tenant
            messages.success(request, f"Welcome to {tenant.company_name}: you are now a member"
                                      f"{' and an administrator' if member.is_admin else ''}.")
            return redirect("tenant-members:members", env=tenant.environment.code,
                            ctx=tenant.context_identifier)
    return render(request, "tenants/my/invitation.html", {
        "invitation": found, "tenant": found.tenant, "problem": problem,
        "signed_in": user.is_authenticated,
        "matches": user.is_authenticated and (user.email or "").lower() == found.email.lower(),
        "login_url": login_url,
    })


INVITATION_AFTER_PASSWORD = "invitation_after_password"


def _create_account(request: HttpRequest, found, login_url: str) -> HttpResponse:
    """The link proves its holder reads the invited mailbox: an account for that address is created
    without a password, and its owner chooses one, then opens the link again to accept."""
    user, created = get_or_create_invited_user(email=found.email)
    if not created and user.has_usable_password():
        messages.info(request, f"There is already an account for {found.email}: sign in to accept.")
        return redirect(login_url)
    # The page shown once the password is chosen offers to sign in and come back here.
    request.session[INVITATION_AFTER_PASSWORD] = request.path
    messages.info(request, f"Choose a password for {found.email}; then sign in to accept the invitation "
                           f"to {found.tenant.company_name}.")
    return redirect(password_setup_url(user))


app_name = "tenant-members"
urlpatterns = [
    path("<slug:env>/<str:ctx>/members/", members, name="members"),
    path("<slug:env>/<str:ctx>/members/<int:pk>/remove/", remove, name="remove"),
    path("<slug:env>/<str:ctx>/members/<int:pk>/admin/", set_admin, name="admin"),
    path("<slug:env>/<str:ctx>/members/invitations/<int:pk>/revoke/", revoke_invitation,
         name="revoke_invitation"),
    path("invitations/<str:token>/", invitation, name="invitation"),
]
