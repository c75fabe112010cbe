"""E-mails about listing review, rendered from templates/appstore/email/."""

from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string
from django.urls import reverse

from accounts.models import APP_MANAGER_GROUP, User

from .models import ListingVersion, PartnerProfileVersion, VersionState


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
