"""Custom-app authorization requests (SPEC §7): an Explicit-level app is never self-approved; the
partner asks staff to activate it for one customer's tenant, staff activate (or reject), and the
customer's contact confirms (or refuses) through a one-time link.

Who may sign in, and when: staff activation alone makes the authorization active, and that is
what the login service checks, so the tenant's users can sign in to the app as soon as staff
activated it. The customer's confirmation is their acknowledgement, kept on the request and in the
audit log; it does not gate sign-in. A customer who does not want the app refuses from the same
page, which uninstalls it at once (the uninstall of consent: revoked, credentials dead, report
sent). Staff are the gate because the partner, not the customer, starts the request; the
confirmation link then tells the customer it happened and gives them the way out.

Every function checks the actor's rights itself: partner membership with the configuration
permission to request or withdraw, App manager to activate or reject, tenant admin to confirm or
refuse.
"""

import secrets
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.tokens import token_checksum
from appstore.models import App
from appstore.permissions import require_app_manager, require_app_permission
from appstore.selectors.configuration import live_configuration
from audit.models import AuditEntry
from audit.services import record
from tenants.models import Tenant, context_identifier_validator
from tenants.signals import ChangeType

from ..models import (
    Authorization,
    AuthorizationRequest,
    AuthorizationRequestState,
    AuthorizationStatus,
)
from ..request_selectors import (
    active_activation,
    request_environments,
    tenant_of,
)
from .authorizations import consent_grants, count_install, system_user_token_for, tenant_admin, uninstall
from .notifications import notify_app_event

CUSTOMER_NAME_MAX = AuthorizationRequest._meta.get_field("customer_name").max_length
CONTEXT_IDENTIFIER_MAX = AuthorizationRequest._meta.get_field("context_identifier").max_length
NOTE_MAX = 2000
REASON_MAX = 2000
NOT_WAITING = "This request is no longer waiting for a decision; it is {state}."


@dataclass
class Activation:
    """An activated request and its confirmation token, which is stored only as a checksum."""

    request: AuthorizationRequest
    token: str


def _state_label(authorization_request: AuthorizationRequest) -> str:
    return authorization_request.get_state_display().lower()


def _locked(authorization_request: AuthorizationRequest) -> AuthorizationRequest:
    return (AuthorizationRequest.objects.select_for_update(of=("self",))
            .select_related("app__partner", "environment").get(pk=authorization_request.pk))


# ---------------------------------------------------------------- the partner

def _clean_request_fields(app: App, *, environment: str, customer_name: str, context_identifier: str,
                          contact_email: str, note: str) -> dict:
    errors: dict[str, list[str]] = {}
    environments = {env.code: env for env in request_environments(app)}
    if not environments:
        raise ValidationError(f"{app.name} is not at the Explicit level in stage or online yet, so there is "
                              "nothing to activate. Staff set it when they approve its stage configuration.")
    if environment not in environments:
        errors["environment"] = ["Choose " + " or ".join(environments) + "."]
    name = (customer_name or "").strip()
    if not name:
        errors["customer_name"] = ["Enter the customer's company name."]
    elif len(name) > CUSTOMER_NAME_MAX:
        errors["customer_name"] = [f"At most {CUSTOMER_NAME_MAX} characters."]
    ctx = (context_identifier or "").strip()
    try:
        context_identifier_validator(ctx)
        if len(ctx) > CONTEXT_IDENTIFIER_MAX:
            raise ValidationError(f"At most {CONTEXT_IDENTIFIER_MAX} characters.")
    except ValidationError as exc:
        errors["context_identifier"] = exc.messages
    email = (contact_email or "").strip()
    try:
        validate_email(email)
    except ValidationError:
        errors["contact_email"] = ["Enter the e-mail address of the customer's contact."]
    note = (note or "").strip()
    if len(note) > NOTE_MAX:
        errors["note"] = [f"At most {NOTE_MAX} characters (this note has {len(note)})."]
    if errors:
        raise ValidationError(errors)
    return {"environment": environments[environment], "customer_name": name, "context_identifier": ctx,
            "contact_email": email, "note": note}


@transaction.atomic
def request_authorization(*, actor: User, app: App, environment: str, customer_name: str,
                          context_identifier: str, contact_email: str,
                          note: str = "") -> AuthorizationRequest:
    """The partner asks staff to activate its custom app for one customer's tenant."""
    require_app_permission(user=actor, app=app, permission="configuration")
    # Locking the app makes the duplicate check below hold against a concurrent request.
    app = App.objects.select_for_update(of=("self",)).select_related("partner").get(pk=app.pk)
    if not app.is_custom:
        raise ValidationError("Only a custom app is activated for one customer; a standard app is "
                              "installed by the customers' administrators.")
    fields = _clean_request_fields(app, environment=environment, customer_name=customer_name,
                                   context_identifier=context_identifier, contact_email=contact_email,
                                   note=note)
    env, ctx = fields["environment"], fields["context_identifier"]
    if AuthorizationRequest.objects.filter(app=app, environment=env, context_identifier=ctx,
                                           state=AuthorizationRequestState.REQUESTED).exists():
        raise ValidationError({"context_identifier": [
            f"A request for {ctx} in {env.code} is already waiting for staff; "
            "withdraw it to send a new one."]})
    probe = AuthorizationRequest(app=app, environment=env, context_identifier=ctx)
    tenant = tenant_of(probe)
    if tenant is not None and active_activation(app, tenant) is not None:
        raise ValidationError({"context_identifier": [
            f"{app.name} is already activated for {ctx} in {env.code}."]})
    authorization_request = AuthorizationRequest.objects.create(app=app, requested_by=actor, **fields)
    record(event_type="authorization.requested", actor=actor, source=AuditEntry.Source.PORTAL,
           partner=app.partner, app=app, tenant=tenant, target=authorization_request,
           message=(f"Authorization of {app.name} requested for {fields['customer_name']} ({ctx}) "
                    f"in {env.code}"),
           changes={"state": [None, AuthorizationRequestState.REQUESTED]})
    from ..tasks import notify_authorization_requested

    transaction.on_commit(lambda: notify_authorization_requested.delay(authorization_request.pk))
    return authorization_request


@transaction.atomic
def withdraw_request(*, actor: User, authorization_request: AuthorizationRequest) -> None:
    """The partner takes back a request still waiting for staff; it is deleted, the audit log keeps it."""
    require_app_permission(user=actor, app=authorization_request.app, permission="configuration")
    locked = _locked(authorization_request)
    if locked.state != AuthorizationRequestState.REQUESTED:
        raise ValidationError(NOT_WAITING.format(state=_state_label(locked)))
    app = locked.app
    record(event_type="authorization.withdrawn", actor=actor, source=AuditEntry.Source.PORTAL,
           partner=app.partner, app=app, target=locked,
           message=(f"Authorization request of {app.name} for {locked.customer_name} "
                    f"({locked.context_identifier}) in {locked.environment.code} withdrawn"),
           changes={"state": [AuthorizationRequestState.REQUESTED, None]})
    locked.delete()


# ---------------------------------------------------------------- staff

@transaction.atomic
def activate_request(*, actor: User, authorization_request: AuthorizationRequest) -> Activation:
    """Staff activate the app for the request's tenant and send the customer a confirmation link."""
    require_app_manager(user=actor)
    locked = _locked(authorization_request)
    if locked.state != AuthorizationRequestState.REQUESTED:
        raise ValidationError(NOT_WAITING.format(state=_state_label(locked)))
    app, env, ctx = locked.app, locked.environment, locked.context_identifier
    tenant = tenant_of(locked)
    if tenant is None:
        raise ValidationError(f"There is no tenant {ctx} in {env.code}: check the context identifier "
                              "with the partner, or wait until the customer's CRM exists there. "
                              "Nothing was activated.")
    live = live_configuration(app, env)
    if live is None:
        raise ValidationError(f"{app.name} has no configuration live in {env.code}, so it cannot be "
                              "activated there.")
    now = timezone.now()
    grants = consent_grants(app, env)
    authorization = Authorization.objects.select_for_update().filter(app=app, tenant=tenant).first()
    before = authorization.current_status if authorization is not None else None
    if authorization is None:
        authorization = Authorization.objects.create(
            app=app, tenant=tenant, activated_by=actor, approved_by=None, approved_at=now, valid_from=now,
            consent_text=live.consent_text, consent_grants=grants,
            system_user_token=system_user_token_for(app))
    else:
        authorization.status = AuthorizationStatus.ACTIVE
        authorization.activated_by = actor
        authorization.approved_by = None
        authorization.approved_at = now
        authorization.needs_reapproval = False
        authorization.reapproval_reason = ""
        authorization.valid_to = None if before == AuthorizationStatus.EXPIRED else authorization.valid_to
        authorization.revoked_at = None
        authorization.revoked_by = None
        authorization.consent_text = live.consent_text
        authorization.consent_grants = grants
        authorization.save()
    token = secrets.token_urlsafe(32)
    locked.state = AuthorizationRequestState.ACTIVATED
    locked.decided_by = actor
    locked.decided_at = now
    locked.decision_reason = ""
    locked.authorization = authorization
    locked.confirmation_checksum = token_checksum(token)
    locked.save(update_fields=["state", "decided_by", "decided_at", "decision_reason", "authorization",
                               "confirmation_checksum"])
    record(event_type="authorization.activated", actor=actor, source=AuditEntry.Source.REVIEW,
           partner=app.partner, app=app, tenant=tenant, target=locked,
           message=(f"{app.name} activated for {tenant.company_name} ({ctx}) in {env.code}; "
                    f"the confirmation link was sent to {locked.contact_email}"),
           changes={"state": [AuthorizationRequestState.REQUESTED, AuthorizationRequestState.ACTIVATED],
                    "authorization": [before, AuthorizationStatus.ACTIVE]})
    # An activation installs the app as an administrator's approval would.
    if before == AuthorizationStatus.ACTIVE:
        notify_app_event(authorization=authorization, change_type=ChangeType.REAPPROVED)
    else:
        count_install(app, tenant, +1)
        notify_app_event(authorization=authorization, change_type=ChangeType.INSTALLED)
    from ..tasks import notify_authorization_decided, send_authorization_confirmation

    request_id = locked.pk
    transaction.on_commit(lambda: send_authorization_confirmation.delay(request_id, token))
    transaction.on_commit(lambda: notify_authorization_decided.delay(request_id, "activated"))
    return Activation(request=locked, token=token)


@transaction.atomic
def reject_request(*, actor: User, authorization_request: AuthorizationRequest,
                   reason: str) -> AuthorizationRequest:
    """Staff turn a request down with a reason the partner reads."""
    require_app_manager(user=actor)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the request is rejected; the partner reads it."]})
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": [
            f"At most {REASON_MAX} characters (this reason has {len(reason)})."]})
    locked = _locked(authorization_request)
    if locked.state != AuthorizationRequestState.REQUESTED:
        raise ValidationError(NOT_WAITING.format(state=_state_label(locked)))
    locked.state = AuthorizationRequestState.REJECTED
    locked.decided_by = actor
    locked.decided_at = timezone.now()
    locked.decision_reason = reason
    locked.save(update_fields=["state", "decided_by", "decided_at", "decision_reason"])
    app = locked.app
    record(event_type="authorization.rejected", actor=actor, source=AuditEntry.Source.REVIEW,
           partner=app.partner, app=app, tenant=tenant_of(locked), target=locked,
           message=(f"Authorization of {app.name} for {locked.context_identifier} in "
                    f"{locked.environment.code} rejected: {reason}"),
           changes={"state": [AuthorizationRequestState.REQUESTED, AuthorizationRequestState.REJECTED]})
    from ..tasks import notify_authorization_decided

    transaction.on_commit(lambda: notify_authorization_decided.delay(locked.pk, "rejected"))
    return locked


# ---------------------------------------------------------------- the customer

class InvalidConfirmationLink(Exception):
    """The link is unknown, or was already used."""


def require_tenant_admin(*, actor: User, tenant: Tenant) -> None:
    if tenant_admin(actor, tenant) is None:
        raise PermissionDenied(
            f"Only an administrator of {tenant.company_name} ({tenant.context_identifier}) can answer this. "
            f"You are signed in as {actor.email}, who is not one.")


def _activation_for_admin(*, actor: User, token: str) -> AuthorizationRequest:
    checksum = token_checksum(token or "")
    locked = (AuthorizationRequest.objects.select_for_update(of=("self",))
              .select_related("app__partner", "environment", "authorization__tenant")
              .filter(state=AuthorizationRequestState.ACTIVATED, confirmation_checksum=checksum).first())
    if locked is None or locked.authorization is None:
        raise InvalidConfirmationLink(
            "This confirmation link is not valid: it was already used or never existed.")
    require_tenant_admin(actor=actor, tenant=locked.authorization.tenant)
    return locked


@transaction.atomic
def confirm_activation(*, actor: User, token: str) -> AuthorizationRequest:
    """A tenant admin acknowledges the staff activation; the link cannot be used again."""
    locked = _activation_for_admin(actor=actor, token=token)
    authorization = locked.authorization
    if authorization.current_status != AuthorizationStatus.ACTIVE:
        status = AuthorizationStatus(authorization.current_status).label.lower()
        raise ValidationError(f"{locked.app.name} is no longer installed for "
                              f"{authorization.tenant.company_name} ({status}); there is nothing to "
                              "confirm. Ask the partner to request it again.")
    locked.state = AuthorizationRequestState.CONFIRMED
    locked.confirmed_at = timezone.now()
    locked.confirmation_checksum = ""
    locked.save(update_fields=["state", "confirmed_at", "confirmation_checksum"])
    app, tenant = locked.app, authorization.tenant
    record(event_type="authorization.confirmed", actor=actor, source=AuditEntry.Source.CONSENT,
           partner=app.partner, app=app, tenant=tenant, target=locked,
           message=f"{app.name} in {tenant.context_identifier} confirmed by {actor.email}",
           changes={"state": [AuthorizationRequestState.ACTIVATED, AuthorizationRequestState.CONFIRMED]})
    from ..tasks import notify_authorization_decided

    transaction.on_commit(lambda: notify_authorization_decided.delay(locked.pk, "confirmed"))
    return locked


@transaction.atomic
def refuse_activation(*, actor: User, token: str) -> AuthorizationRequest:
    """A tenant admin does not want the app: it is uninstalled at once and the request is closed."""
    locked = _activation_for_admin(actor=actor, token=token)
    authorization = uninstall(authorization=locked.authorization, user=actor)
    now = timezone.now()
    locked.state = AuthorizationRequestState.REJECTED
    locked.decided_by = actor
    locked.decided_at = now
    locked.decision_reason = (f"Refused by the customer's administrator on {now:%Y-%m-%d}: the app was "
                              "uninstalled from the tenant.")
    locked.confirmation_checksum = ""
    locked.save(update_fields=["state", "decided_by", "decided_at", "decision_reason",
                               "confirmation_checksum"])
    app, tenant = locked.app, authorization.tenant
    record(event_type="authorization.refused", actor=actor, source=AuditEntry.Source.CONSENT,
           partner=app.partner, app=app, tenant=tenant, target=locked,
           message=f"{app.name} in {tenant.context_identifier} refused by {actor.email} and uninstalled",
           changes={"state": [AuthorizationRequestState.ACTIVATED, AuthorizationRequestState.REJECTED]})
    from ..tasks import notify_authorization_decided

    transaction.on_commit(lambda: notify_authorization_decided.delay(locked.pk, "refused"))
    return locked
