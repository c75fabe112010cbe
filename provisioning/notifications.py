"""E-mails of the login service, rendered from templates/provisioning/email/."""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from .models import Authorization, StateChangeNotification


def _lines(text: str) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


def uninstall_recipients(authorization: Authorization) -> list[str]:
    """The app's uninstall-report addresses, else the partner's, else its administrative contact."""
    app = authorization.app
    partner = app.partner
    recipients = _lines(app.uninstall_report_emails) or _lines(partner.uninstall_report_emails)
    if not recipients and partner.administrative_contact is not None:
        recipients = [partner.administrative_contact.email]
    return sorted(set(recipients))


def uninstall_report(*, authorization_id: int) -> int:
    authorization = Authorization.objects.select_related(
        "app__partner__administrative_contact", "tenant__environment", "revoked_by").get(pk=authorization_id)
    recipients = uninstall_recipients(authorization)
    if not recipients:
        return 0
    context = {"authorization": authorization, "app": authorization.app, "tenant": authorization.tenant,
               "site_url": settings.SITE_URL}
    subject = " ".join(render_to_string("provisioning/email/uninstall_subject.txt", context).split())
    body = render_to_string("provisioning/email/uninstall_body.txt", context)
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)


def technical_recipients(app) -> list[str]:
    """The app's technical contact, else its partner's."""
    contact = app.technical_contact or app.partner.technical_contact
    return [contact.email] if contact is not None and contact.email else []


def delivery_failure_report(*, notification_id: int) -> int:
    notification = StateChangeNotification.objects.select_related(
        "app__technical_contact", "app__partner__technical_contact", "tenant", "environment",
    ).get(pk=notification_id)
    recipients = technical_recipients(notification.app)
    if not recipients:
        return 0
    last = notification.delivery_attempts.order_by("-number").first()
    deliveries = reverse("portal-deliveries:list", args=[notification.app_id])
    context = {"notification": notification, "app": notification.app, "tenant": notification.tenant,
               "last": last, "deliveries_url": settings.SITE_URL + deliveries}
    subject = " ".join(render_to_string("provisioning/email/delivery_failed_subject.txt", context).split())
    body = render_to_string("provisioning/email/delivery_failed_body.txt", context)
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)
