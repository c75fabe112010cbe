"""E-mails about listing review and the team, rendered from templates/appstore/email/."""

import secrets

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import APP_MANAGER_GROUP, User
from accounts.tokens import token_checksum

from .models import (
    ConfigurationVersion,
    Invitation,
    ListingVersion,
    PartnerProfileVersion,
    VersionState,
)


def _send(template: str, context: dict, recipients: list[str]) -> int:
    if not recipients:
        return 0
    # Templates are plain text (autoescape off); a subject is one line whatever a name holds.
    subject = " ".join(render_to_string(f"appstore/email/{template}_subject.txt", context).split())
    body = render_to_string(f"appstore/email/{template}_body.txt", context)
    return send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, recipients)


def listing_requested(*, listing_id: int) -> int:
    """Tell the App managers that a listing waits for review."""
    listing = ListingVersion.objects.select_related("app__partner").get(pk=listing_id)
    if listing.state != VersionState.PENDING:
        return 0
    staff = User.objects.filter(is_active=True, is_staff=True).filter(
        groups__name=APP_MANAGER_GROUP).values_list("email", flat=True)
    context = {"listing": listing, "app": listing.app, "site_url": settings.SITE_URL,
               "url": settings.SITE_URL + reverse("review:listing", args=[listing.pk])}
    return _send("listing_requested", context, sorted(set(staff)))


def listing_reviewed(*, listing_id: int) -> int:
    """Tell the app's technical contact that the listing was approved or rejected."""
    listing = ListingVersion.objects.select_related("app__partner", "app__technical_contact").get(
        pk=listing_id)
    contact = listing.app.technical_contact or listing.app.partner.technical_contact
    if contact is None or listing.state not in (VersionState.PUBLISHED, VersionState.REJECTED):
        return 0
    context = {"listing": listing, "app": listing.app, "site_url": settings.SITE_URL,
               "approved": listing.state == VersionState.PUBLISHED,
               "url": settings.SITE_URL + reverse("portal:listing", args=[listing.app_id, listing.pk])}
    return _send("listing_reviewed", context, [contact.email])


def _app_manager_emails() -> list[str]:
    return sorted(set(User.objects.filter(is_active=True, is_staff=True).filter(
        groups__name=APP_MANAGER_GROUP).values_list("email", flat=True)))


def profile_requested(*, version_id: int) -> int:
    """Tell the App managers that a partner's company profile waits for review."""
    version = PartnerProfileVersion.objects.select_related("partner").get(pk=version_id)
    if version.state != VersionState.PENDING:
        return 0
    context = {"version": version, "partner": version.partner,
               "url": settings.SITE_URL + reverse("review:profile", args=[version.pk])}
    return _send("profile_requested", context, _app_manager_emails())


def profile_reviewed(*, version_id: int) -> int:
    """Tell the partner's technical contact that its profile was approved or rejected."""
    version = PartnerProfileVersion.objects.select_related("partner__technical_contact").get(
        pk=version_id)
    contact = version.partner.technical_contact
    if contact is None or version.state not in (VersionState.PUBLISHED, VersionState.REJECTED):
        return 0
    context = {"version": version, "partner": version.partner,
               "approved": version.state == VersionState.PUBLISHED,
               "url": settings.SITE_URL + reverse("portal:profile", args=[version.pk])}
    return _send("profile_reviewed", context, [contact.email])


def invitation_sent(*, invitation_id: int, token: str) -> int:
    """Send the sign-up link of an invitation; nothing if it was revoked, used or re-sent meanwhile."""
    invitation = Invitation.objects.select_related("partner", "invited_by").get(pk=invitation_id)
    if (invitation.accepted_at or invitation.revoked_at
            or not secrets.compare_digest(invitation.token_hash, token_checksum(token))):
        return 0
    context = {"invitation": invitation, "partner": invitation.partner, "inviter": invitation.invited_by,
               "site_url": settings.SITE_URL,
               "url": settings.SITE_URL + reverse("portal:invitation", args=[token])}
    return _send("invitation", context, [invitation.email])


def configuration_requested(*, version_id: int) -> int:
    """Tell the App managers that a configuration version waits for review."""
    version = ConfigurationVersion.objects.select_related("app__partner", "environment").get(pk=version_id)
    if version.state != VersionState.PENDING:
        return 0
    context = {"version": version, "app": version.app, "environment": version.environment.code,
               "url": settings.SITE_URL + reverse("review:configuration", args=[version.pk])}
    return _send("configuration_requested", context, _app_manager_emails())


def configuration_reviewed(*, version_id: int) -> int:
    """Tell the app's technical contact that a configuration version was approved or rejected."""
    version = ConfigurationVersion.objects.select_related(
        "app__partner__technical_contact", "app__technical_contact", "environment").get(pk=version_id)
    app = version.app
    contact = app.technical_contact or app.partner.technical_contact
    if contact is None or version.state not in (VersionState.PUBLISHED, VersionState.REJECTED):
        return 0
    approved = version.state == VersionState.PUBLISHED
    environment = version.environment.code
    context = {"version": version, "app": app, "environment": environment, "approved": approved,
               "custom_online": approved and app.is_custom and environment == "stage",
               "ask_customer": approved and app.is_custom and not app.customer_context_identifier,
               "url": settings.SITE_URL + reverse("portal:configuration", args=[app.pk, version.pk]),
               "configurations_url": settings.SITE_URL + reverse("portal:configurations", args=[app.pk])}
    return _send("configuration_reviewed", context, [contact.email])
