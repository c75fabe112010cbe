"""Staff pages for tenants: find them, see one with its members and history, operate it, create one."""

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from audit.models import AuditEntry

from . import selectors
from .forms import TenantActionForm, TenantCreateForm, TenantFilterForm, service_errors
from .models import TenantState
from .services import lifecycle

PAGE_SIZE = 50
AUDIT_SIZE = 50
STAFF = AuditEntry.Source.REVIEW


def staff_required(view: Callable) -> Callable:
    """Anonymous visitors go to the login page; anyone else but platform staff gets 403."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not (request.user.is_active and request.user.is_staff):
            raise PermissionDenied("Only platform staff may see tenants.")
        return view(request, *args, **kwargs)

    return wrapper


@require_safe
@staff_required
def tenant_list(request: HttpRequest) -> HttpResponse:
    form = TenantFilterForm(request.GET or None)
    tenants = selectors.tenants_for_staff(**(form.filters() if form.is_bound else {}))
    page = Paginator(tenants, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "tenants/staff/list.html", {"form": form, "page": page, "section": "tenants"})


def _tenant(env: str, ctx: str):
    tenant = selectors.tenant_for_staff(env=env, ctx=ctx)
    if tenant is None:
        raise Http404("No such tenant.")
    return tenant


def _action_forms(tenant) -> list[dict]:
    """The actions allowed in the tenant's state, with the fields each one takes."""
    forms = []
    for action in lifecycle.allowed_actions(tenant):
        _, fields = lifecycle.OPERATIONS[action]
        forms.append({"action": action, "label": lifecycle.ACTION_LABELS[action], "fields": fields,
                      "destructive": action in lifecycle.DESTRUCTIVE_ACTIONS})
    return forms


@require_safe
@staff_required
def tenant_detail(request: HttpRequest, env: str, ctx: str) -> HttpResponse:
    tenant = _tenant(env, ctx)
    return render(request, "tenants/staff/detail.html", {
        "tenant": tenant, "section": "tenants", "state": TenantState(tenant.state),
        "members": list(selectors.tenant_members(tenant)),
        "entries": list(selectors.tenant_audit(tenant)[:AUDIT_SIZE]),
        "actions": _action_forms(tenant),
    })


@require_POST
@staff_required
def tenant_action(request: HttpRequest, env: str, ctx: str) -> HttpResponse:
    tenant = _tenant(env, ctx)
    form = TenantActionForm(request.POST)
    back = redirect("staff-tenants:detail", env=env, ctx=ctx)
    action = request.POST.get("action", "")
    if action not in lifecycle.OPERATIONS:
        messages.error(request, "Unknown action.")
        return back
    label = lifecycle.ACTION_LABELS[action]
    operation, fields = lifecycle.OPERATIONS[action]
    form.is_valid()
    # Only the fields this action takes count; the others are ignored.
    invalid = [f"{form.fields[name].label}: {' '.join(form.errors[name])}"
               for name in fields if name in form.errors]
    if invalid:
        messages.error(request, f"{label}: " + " ".join(invalid) + " Nothing was changed.")
        return back
    if action in lifecycle.DESTRUCTIVE_ACTIONS and not form.cleaned_data.get("confirm"):
        messages.error(request, f"{label}: tick “I understand” to confirm. Nothing was changed.")
        return back
    try:
        operation(actor=request.user, tenant=tenant, source=STAFF,
                  **{name: form.cleaned_data[name] for name in fields})
    except lifecycle.TenantError as refused:
        messages.error(request, refused.message)
    except ValidationError as invalid:
        messages.error(request, f"{label}: " + " ".join(invalid.messages) + " Nothing was changed.")
    else:
        messages.success(request, f"{label}: done. {tenant.context_identifier} is now "
                                  f"{TenantState(tenant.state).label}.")
    return back


@require_http_methods(["GET", "POST"])
@staff_required
def tenant_create(request: HttpRequest) -> HttpResponse:
    form = TenantCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            tenant = lifecycle.create_tenant(actor=request.user, source=STAFF,
                                             environment_code=form.cleaned_data["environment"],
                                             company_name=form.cleaned_data["company_name"],
                                             admin_email=form.cleaned_data["admin_email"])
        except ValidationError as exc:
            service_errors(form, exc)
        else:
            email = form.cleaned_data["admin_email"]
            messages.success(request, f"{tenant.context_identifier} created for {tenant.company_name}; it is "
                                      f"being provisioned and {email} was invited.")
            return redirect("staff-tenants:detail", env=tenant.environment.code,
                            ctx=tenant.context_identifier)
    return render(request, "tenants/staff/create.html", {"form": form, "section": "tenants"})


app_name = "staff-tenants"
urlpatterns = [
    path("", tenant_list, name="list"),
    path("new/", tenant_create, name="create"),
    path("<slug:env>/<str:ctx>/", tenant_detail, name="detail"),
    path("<slug:env>/<str:ctx>/action/", tenant_action, name="action"),
]
