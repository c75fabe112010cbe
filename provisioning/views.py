"""Customer administration: the tenants a user belongs to and each tenant's installed apps, where
the tenant's administrators uninstall them.

A tenant the user is not a member of is a 404 like one that does not exist, so company names and
context identifiers never leak; the uninstall service checks the administrator's rights again.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import InvalidPage, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from appstore.models import EndpointKind
from appstore.selectors.configuration import apps_with_endpoint_on
from tenants.sessions import remember_tenant_membership
from tenants.views_members import membership_or_404

from . import selectors
from .models import AuthorizationStatus, tenant_gone
from .services.authorizations import ConsentRefused, uninstall

PAGE_SIZE = 20


@never_cache
@require_safe
@login_required
def my_companies(request: HttpRequest) -> HttpResponse:
    memberships = list(selectors.customer_memberships(request.user))
    # Keeps the header's link right for someone added to a tenant since they signed in.
    remember_tenant_membership(request, request.user, member=bool(memberships))
    gone = {member.tenant_id for member in memberships if tenant_gone(member.tenant)}
    return render(request, "provisioning/my/home.html", {"memberships": memberships, "gone": gone})


@never_cache
@require_safe
@login_required
def installed_apps(request: HttpRequest, env: str, ctx: str) -> HttpResponse:
    member = membership_or_404(request, env, ctx)
    paginator = Paginator(selectors.tenant_authorizations(member.tenant), PAGE_SIZE)
    try:
        page = paginator.page(request.GET.get("page") or 1)
    except InvalidPage as exc:
        raise Http404("No such page.") from exc
    # One query for the page's rows: which apps offer ERP sync here (linked to its connections page).
    erp_apps = apps_with_endpoint_on({a.app_id for a in page}, member.tenant.environment,
                                     EndpointKind.ERP_SYNC)
    return render(request, "provisioning/my/apps.html", {
        "member": member, "tenant": member.tenant, "page": page, "tenant_gone": tenant_gone(member.tenant),
        "erp_apps": erp_apps,
    })


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def uninstall_app(request: HttpRequest, env: str, ctx: str, pk: int) -> HttpResponse:
    member = membership_or_404(request, env, ctx)
    tenant = member.tenant
    authorization = selectors.tenant_authorization(tenant, pk)
    if authorization is None:
        raise Http404("No such app in this company.")
    if not member.is_admin:
        raise PermissionDenied(f"Only the administrators of {tenant.company_name} can uninstall apps.")
    app = authorization.app
    back = reverse("my:apps", args=[tenant.environment.code, tenant.context_identifier])
    if tenant_gone(tenant):
        # Nothing to uninstall: the CRM and its apps' access went with the tenant.
        messages.info(request, f"{tenant.company_name}'s CRM was deleted; its apps cannot be uninstalled.")
        return redirect(back)
    already = authorization.status == AuthorizationStatus.REVOKED
    if request.method == "GET":
        if already:
            messages.info(request, f"{app.name} is already uninstalled from {tenant.company_name}.")
            return redirect(back)
        return render(request, "provisioning/my/uninstall.html", {
            "tenant": tenant, "authorization": authorization, "app": app, "partner": app.partner,
            "back_url": back,
        })
    try:
        uninstall(authorization=authorization, user=request.user)
    except ConsentRefused as refused:
        raise PermissionDenied(refused.message) from refused
    if already:
        messages.info(request, f"{app.name} is already uninstalled from {tenant.company_name}.")
    else:
        messages.success(request, f"{app.name} was uninstalled from {tenant.company_name}: its users can "
                                  f"no longer sign in to it, and {app.partner.name} is told by e-mail.")
    return redirect(back)
