"""A tenant's members under /my/<env>/<ctx>/members/: administrators invite, remove and grant or
withdraw administrator rights; other members see the list. Another tenant's page is a 404."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from . import selectors
from .forms import AdminRightsForm, MemberInviteForm, service_errors
from .models import TenantMember
from .services import members as member_services
from .services.lifecycle import TenantError


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
                member_services.invite_member(actor=request.user, tenant=tenant,
                                              email=form.cleaned_data["email"],
                                              is_admin=form.cleaned_data["is_admin"])
            except ValidationError as exc:
                service_errors(form, exc)
            except TenantError as refused:
                form.add_error("email", refused.message)
            else:
                messages.success(request, f"{form.cleaned_data['email']} was added to {tenant.company_name} "
                                          f"and told by e-mail.")
                return redirect("tenant-members:members", env=env, ctx=ctx)
    return render(request, "tenants/my/members.html", {
        "me": me, "tenant": tenant, "members": list(selectors.tenant_members(tenant)), "form": form,
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


app_name = "tenant-members"
urlpatterns = [
    path("<slug:env>/<str:ctx>/members/", members, name="members"),
    path("<slug:env>/<str:ctx>/members/<int:pk>/remove/", remove, name="remove"),
    path("<slug:env>/<str:ctx>/members/<int:pk>/admin/", set_admin, name="admin"),
]
