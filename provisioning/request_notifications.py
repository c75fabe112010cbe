"""E-mails about custom-app authorization requests, rendered from templates/provisioning/email/.

Each one reloads the request and sends nothing when it moved on meanwhile, so a retried task
never mails about a state the request has left.
"""

import secrets

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import APP_MANAGER_GROUP, User
from accounts.tokens import token_checksum

from .models import AuthorizationRequest, AuthorizationRequestState

# What the partner is told about, and the state the request must still be in.
DECISION_STATES = {
    "activated": AuthorizationRequestState.ACTIVATED,
    "rejected": AuthorizationRequestState.REJECTED,
    "confirmed": AuthorizationRequestState.CONFIRMED,
    "refused": AuthorizationRequestState.REJECTED,
}


def _send(template: str, context: dict, recipients: list[str]) -> int:
    if not recipients:
        return 0
    # Plain-text templates (autoescape off); the subject is one line whatever a name holds.
    subject = " ".join(render_to_string(f"provisioning/email/{template}_subject.txt", context).split())
    body = render_to_string(f"provisioning/email/{template}_body.txt", context)
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)


def _request(request_id: int) -> AuthorizationRequest | None:
    """The request, or None when the partner withdrew (deleted) it meanwhile."""
    return AuthorizationRequest.objects.select_related(
        "app__partner__technical_contact", "app__technical_contact", "environment", "requested_by",
        "authorization__tenant__environment").filter(pk=request_id).first()


def app_manager_emails() -> list[str]:
    return sorted(set(User.objects.filter(is_active=True, is_staff=True, groups__name=APP_MANAGER_GROUP)
                      .values_list("email", flat=True)))


def authorization_requested(*, request_id: int) -> int:
    """Tell the App managers that a partner asks for a custom app to be activated."""
    req = _request(request_id)
    if req is None or req.state != AuthorizationRequestState.REQUESTED:
        return 0
    context = {"req": req, "app": req.app, "partner": req.app.partner,
               "url": settings.SITE_URL + reverse("review-authz:detail", args=[req.pk])}
    return _send("authorization_requested", context, app_manager_emails())


def authorization_confirmation(*, request_id: int, token: str) -> int:
    """Send the customer's contact the one-time link to confirm (or refuse) the activation."""
    req = _request(request_id)
    if (req is None or req.state != AuthorizationRequestState.ACTIVATED or req.authorization is None
            or not secrets.compare_digest(req.confirmation_checksum, token_checksum(token))):
        return 0
    context = {"req": req, "app": req.app, "partner": req.app.partner, "tenant": req.authorization.tenant,
               "url": settings.SITE_URL + reverse("my-authz:confirm", args=[token])}
    return _send("authorization_confirm", context, [req.contact_email])


def authorization_decided(*, request_id: int, event: str) -> int:
    """Tell the app's technical contact (else the partner's) what became of a request."""
    req = _request(request_id)
    if req is None or DECISION_STATES.get(event) != req.state:
        return 0
    app = req.app
    contact = app.technical_contact or app.partner.technical_contact
    if contact is None:
        return 0
    context = {"req": req, "app": app, "event": event,
               "url": settings.SITE_URL + reverse("portal-authz:authorization", args=[app.pk])}
    return _send("authorization_decided", context, [contact.email])
