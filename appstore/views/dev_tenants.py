"""The portal's development tenants: the member's own ``sod`` tenants, and a button for a new one."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from tenants.models import TenantMember
from tenants.sessions import remember_tenant_membership

from ..forms import apply_service_errors
from ..services import dev_tenants as services
from .common import portal_view


class DevelopmentTenantForm(forms.Form):
    company_name = forms.CharField(label="Company name", max_length=200, required=False,
                                   help_text="Left empty, it is named after your company with “-SOD”.")


@never_cache
@require_http_methods(["GET", "POST"])
@portal_view("read")
def development_tenants(request, member):
    form = DevelopmentTenantForm(request.POST or None,
                                 initial={"company_name": services.default_company_name(member.partner)})
    if request.method == "POST" and form.is_valid():
        try:
            tenant = services.request_development_tenant(actor=request.user, partner=member.partner,
                                                         company_name=form.cleaned_data["company_name"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            remember_tenant_membership(request, request.user, member=True)  # the header links to it now
            name = f"{tenant.context_identifier} ({tenant.company_name})"
            messages.success(request, f"Development tenant {name} is being provisioned; "
                                      "you are its administrator.")
            return redirect("portal:development_tenants")
    tenants = (TenantMember.objects.filter(user=request.user, tenant__environment__code="sod")
               .select_related("tenant__environment").order_by("-tenant__created_at"))
    return render(request, "appstore/portal/development_tenants.html", {
        "member": member, "form": form, "memberships": list(tenants),
        "may_create": member.has("configuration"),
    })


portal_urlpatterns = [
    path("development-tenants/", development_tenants, name="development_tenants"),
]
