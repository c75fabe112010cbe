"""Custom-app authorization requests: the partner's page in the portal, staff's queue and decision
page under review, and the customer's one-time confirmation link.

Partner pages reach requests only through the current partner's apps (another partner's app is a
404); every write goes through provisioning.services.requests, which checks rights again.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from appstore.forms import apply_service_errors
from appstore.models import App, PartnerMember
from appstore.selectors.configuration import live_configuration
from appstore.views.common import app_manager_required, get_app, portal_view

from . import request_selectors as selectors
from .models import AuthorizationRequest, AuthorizationRequestState
from .request_forms import AuthorizationRequestForm, RejectRequestForm
from .selectors import authorization_for
from .services import requests as services
from .services.authorizations import consent_grants

# ---------------------------------------------------------------- the partner


def get_custom_app(member: PartnerMember, app_id: int) -> App:
    app = get_app(member, app_id)
    if not app.is_custom:
        raise Http404("Only custom apps are activated for one customer.")
    return app


def _initial(app: App, environments) -> dict:
    codes = [env.code for env in environments]
    return {"customer_name": app.customer_name, "context_identifier": app.customer_context_identifier,
            "environment": "online" if "online" in codes else (codes[0] if codes else None)}


def render_requests(request: HttpRequest, member: PartnerMember, app: App, *, form=None, status=200):
    environments = selectors.request_environments(app)
    form = form or AuthorizationRequestForm(environments=environments, initial=_initial(app, environments))
    return render(request, "provisioning/requests/portal.html", {
        "member": member, "app": app, "form": form, "environments": environments,
        "requests": selectors.requests_of_app(member.partner, app.pk),
        "waiting_state": AuthorizationRequestState.REQUESTED,
    }, status=status)


@portal_view("configuration")
@require_http_methods(["GET", "POST"])
def authorization_requests(request: HttpRequest, member: PartnerMember, app_id: int) -> HttpResponse:
    app = get_custom_app(member, app_id)
    if request.method != "POST":
        return render_requests(request, member, app)
    environments = selectors.request_environments(app)
    form = AuthorizationRequestForm(request.POST, environments=environments)
    if form.is_valid():
        try:
            created = services.request_authorization(actor=request.user, app=app, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Request sent: staff will check {created.context_identifier} and "
                                      f"activate {app.name} there, or tell you why not.")
            return redirect("portal-authz:authorization", app_id=app.pk)
    return render_requests(request, member, app, form=form, status=400)


@portal_view("configuration")
@require_POST
def withdraw_authorization_request(request: HttpRequest, member: PartnerMember, app_id: int,
                                   pk: int) -> HttpResponse:
    app = get_custom_app(member, app_id)
    try:
        req = selectors.request_of_app(member.partner, app.pk, pk)
    except AuthorizationRequest.DoesNotExist as exc:
        raise Http404("No such request for this app.") from exc
    try:
        services.withdraw_request(actor=request.user, authorization_request=req)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Request for {req.context_identifier} withdrawn.")
    return redirect("portal-authz:authorization", app_id=app.pk)


# ---------------------------------------------------------------- staff

def get_review_request(pk: int) -> AuthorizationRequest:
    try:
        return selectors.request_for_review(pk)
    except AuthorizationRequest.DoesNotExist as exc:
        raise Http404("No such authorization request.") from exc


@require_GET
@app_manager_required
def review_queue(request: HttpRequest) -> HttpResponse:
    return render(request, "provisioning/requests/review_queue.html", {
        "waiting": selectors.waiting_requests(), "decided": selectors.recently_decided(),
    })


def render_review(request: HttpRequest, req: AuthorizationRequest, *, reject_form=None,
                  status=200) -> HttpResponse:
    app, env = req.app, req.environment
    tenant = selectors.tenant_of(req)
    admins = selectors.tenant_admins(tenant) if tenant is not None else []
    return render(request, "provisioning/requests/review_detail.html", {
        "req": req, "app": app, "partner": app.partner, "tenant": tenant,
        "admins": admins, "admin_emails": {member.user.email.lower() for member in admins},
        "authorization": authorization_for(app, tenant) if tenant is not None else None,
        "live": live_configuration(app, env),
        "is_waiting": req.state == AuthorizationRequestState.REQUESTED,
        "others": selectors.requests_of_app(app.partner, app.pk).exclude(pk=req.pk),
        "reject_form": reject_form or RejectRequestForm(),
    }, status=status)


@require_GET
@app_manager_required
def review_request(request: HttpRequest, pk: int) -> HttpResponse:
    return render_review(request, get_review_request(pk))


@require_POST
@app_manager_required
def activate_request(request: HttpRequest, pk: int) -> HttpResponse:
    req = get_review_request(pk)
    try:
        activation = services.activate_request(actor=request.user, authorization_request=req)
    except ValidationError as exc:
        messages.error(request, "Not activated: " + " ".join(exc.messages))
        return redirect("review-authz:detail", pk=req.pk)
    done = activation.request
    messages.success(request, f"{done.app.name} is active for {done.context_identifier} in "
                              f"{done.environment.code}; {done.contact_email} was sent the link to confirm.")
    return redirect("review-authz:queue")


@require_POST
@app_manager_required
def reject_request(request: HttpRequest, pk: int) -> HttpResponse:
    req = get_review_request(pk)
    form = RejectRequestForm(request.POST)
    if not form.is_valid():
        return render_review(request, req, reject_form=form, status=400)
    try:
        services.reject_request(actor=request.user, authorization_request=req,
                                reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            apply_service_errors(form, exc)
            return render_review(request, req, reject_form=form, status=400)
        messages.error(request, " ".join(exc.messages))
        return redirect("review-authz:detail", pk=req.pk)
    messages.success(request, f"Request for {req.context_identifier} rejected; the partner's "
                              "technical contact was sent the reason.")
    return redirect("review-authz:queue")


# ---------------------------------------------------------------- the customer

def invalid_link(request: HttpRequest) -> HttpResponse:
    return render(request, "provisioning/requests/invalid_link.html", status=404)


def _confirmation_page(request: HttpRequest, req: AuthorizationRequest, *, error: str = "",
                       status: int = 200) -> HttpResponse:
    app, authorization = req.app, req.authorization
    tenant = authorization.tenant
    return render(request, "provisioning/requests/confirm.html", {
        "req": req, "app": app, "partner": app.partner, "tenant": tenant,
        "authorization": authorization, "grants": consent_grants(app, tenant.environment),
        "is_active": authorization.current_status == "active", "error": error,
    }, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@login_required
def confirm_authorization(request: HttpRequest, token: str) -> HttpResponse:
    req = selectors.activation_for_token(token)
    if req is None or req.authorization is None:
        return invalid_link(request)
    if request.method == "GET":
        # The services' refusal, before anything about the tenant is shown.
        services.require_tenant_admin(actor=request.user, tenant=req.authorization.tenant)
        return _confirmation_page(request, req)
    action = request.POST.get("action")
    if action not in ("confirm", "refuse"):
        return HttpResponseBadRequest("Unknown action.")
    answer = services.confirm_activation if action == "confirm" else services.refuse_activation
    try:
        done = answer(actor=request.user, token=token)
    except services.InvalidConfirmationLink:
        return invalid_link(request)
    except ValidationError as exc:
        return _confirmation_page(request, req, error=" ".join(exc.messages), status=409)
    return render(request, "provisioning/requests/confirm_done.html", {
        "req": done, "app": done.app, "partner": done.app.partner, "tenant": done.authorization.tenant,
        "refused": action == "refuse",
    })
