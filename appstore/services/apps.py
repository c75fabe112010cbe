from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from audit import services as audit
from tenants.models import Environment

from ..models import App, AppTemplate, ListingVersion, Partner, PartnerMember, validate_app_name
from ..names import clean_name, name_key, seo_slug
from ..permissions import require_app_permission, require_partner_permission
from .configuration import create_initial_configuration
from .credentials import create_clients
from .listings import refresh_search_text

NATIVE_REDIRECT_PATTERN = r"^http://127.0.0.1\:\d{4,10}$"

# Defaults each wizard template sets (SPEC §3).
TEMPLATE_DEFAULTS: dict[str, dict] = {
    AppTemplate.WEB: {"api_endpoints": ["WebAPI"], "agents": ["Webhook"], "claims": []},
    AppTemplate.NATIVE: {"api_endpoints": ["WebAPI"], "agents": ["Webhook"], "claims": [],
                         "is_native": True, "redirect_urls": NATIVE_REDIRECT_PATTERN},
    AppTemplate.SERVER_TO_SERVER: {"api_endpoints": ["WebAPI", "Services88"],
                                   "agents": ["Webhook"], "claims": ["SystemToken"]},
    AppTemplate.ERP_QUOTE: {"api_endpoints": ["WebAPI", "Services88"],
                            "agents": ["ErpSync", "Webhook"], "claims": ["SystemToken"]},
    AppTemplate.EMPTY: {"api_endpoints": ["WebAPI", "Services88"], "agents": ["Webhook"],
                        "claims": []},
}
STANDARD_ONLY_TEMPLATES = {AppTemplate.ERP_QUOTE}

# Fields a partner may change; the rest of App's settings are staff-only.
PARTNER_SETTINGS = ("name", "seo_name", "technical_contact", "error_report_emails",
                    "uninstall_report_emails")
STAFF_SETTINGS = ("hidden_from_our_apps", "is_custom", "is_beta", "is_featured", "partner",
                  "developed_by", "certification_status", "security_audit_status")


def unique_app_seo_name(partner: Partner, name: str, exclude_pk: int | None = None) -> str:
    base = seo_slug(name, fallback="app")
    taken = set(App.objects.filter(partner=partner, seo_name__startswith=base)
                .exclude(pk=exclude_pk).values_list("seo_name", flat=True))
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    return candidate


NAME_TAKEN = "An app with this name already exists in the store."
SEO_NAME_LOCKED = "Published apps keep their address; ask staff to change it."


def name_taken(name: str, exclude_pk: int | None = None) -> bool:
    """Names compare by name_key: case, width, accents' encoding and spacing do not make a new name."""
    return App.objects.filter(name_key=name_key(name)).exclude(pk=exclude_pk).exists()


def clean_app_name(name: str) -> str:
    """The name as stored: refused if it hides characters or uses forbidden ones, else normalised."""
    return clean_name(name, validate=validate_app_name, empty_message="Enter the app's name.")


def seo_name_locked(app: App) -> bool:
    """Once a listing has been published, the SEO name is in public links and stays as it is."""
    return app.listing_versions.filter(published_at__isnull=False).exists()


def _save_unique_name(app: App) -> None:
    """Save, turning a lost race for the name into the same error as the check before it."""
    try:
        with transaction.atomic():
            app.save()
    except IntegrityError:
        if name_taken(app.name, exclude_pk=app.pk):
            raise ValidationError({"name": NAME_TAKEN}) from None
        raise


def _settings_snapshot(app: App) -> dict:
    return {
        "name": app.name, "seo_name": app.seo_name,
        "technical_contact": app.technical_contact.email if app.technical_contact else None,
        "error_report_emails": app.error_report_emails,
        "uninstall_report_emails": app.uninstall_report_emails,
        "hidden_from_our_apps": app.hidden_from_our_apps, "is_custom": app.is_custom,
        "is_beta": app.is_beta, "is_featured": app.is_featured, "partner": app.partner.seo_name,
        "developed_by": app.developed_by.seo_name if app.developed_by else None,
        "certification_status": app.certification_status,
        "security_audit_status": app.security_audit_status,
    }


@transaction.atomic
def create_app(*, actor, partner: Partner, name: str, template: str, is_custom: bool = False,
               technical_contact=None, redirect_urls: str = "", erp_endpoint_url: str = "",
               quote_endpoint_url: str = "") -> App:
    """The create wizard: apply the template's defaults and open the first listing draft."""
    require_partner_permission(user=actor, partner=partner, permission="app_store")
    if template not in AppTemplate.values:
        raise ValidationError({"template": "Choose one of the templates."})
    if is_custom and template in STANDARD_ONLY_TEMPLATES:
        raise ValidationError({"is_custom": "The ERP sync & quote template is for standard apps only."})
    name = clean_app_name(name)
    if name_taken(name):
        raise ValidationError({"name": NAME_TAKEN})
    contact = technical_contact or actor
    if not PartnerMember.objects.filter(partner=partner, user=contact).exists():
        raise ValidationError({"technical_contact": "The technical contact must be a member of the partner."})

    defaults = TEMPLATE_DEFAULTS[template]
    app = App(
        partner=partner, name=name,
        seo_name=unique_app_seo_name(partner, name),
        template=template, is_custom=is_custom, technical_contact=contact,
        error_report_emails=contact.email,
        is_native=defaults.get("is_native", False),
        is_beta=not is_custom,
    )
    app.full_clean()
    _save_unique_name(app)
    ListingVersion.objects.create(
        app=app, environment=Environment.objects.get(code=settings.STORE_ENVIRONMENT),
        label="1.0", created_by=actor,
    )
    audit.record(event_type="app_created", actor=actor, partner=partner, app=app,
                 message=f"App {app.name} created from the {app.get_template_display()} template",
                 changes={"name": [None, app.name], "template": [None, app.template],
                          "is_custom": [None, app.is_custom]})
    create_clients(app=app)
    redirects = [defaults["redirect_urls"]] if "redirect_urls" in defaults else [
        line.strip() for line in redirect_urls.splitlines() if line.strip()]
    create_initial_configuration(actor=actor, app=app, defaults=defaults, redirect_urls=redirects,
                                 erp_endpoint_url=erp_endpoint_url, quote_endpoint_url=quote_endpoint_url)
    return app


def _contacts_for_new_owner(app: App, owner: Partner) -> dict:
    """An app moving to another partner keeps no contact outside it: its technical contact and
    error-report address become the new owner's technical (else administrative) contact."""
    members = set(PartnerMember.objects.filter(partner=owner, can_login=True)
                  .values_list("user_id", flat=True))
    if app.technical_contact_id in members:
        return {}
    heir = next((user for user in (owner.technical_contact, owner.administrative_contact)
                 if user is not None and user.pk in members), None)
    if heir is None:
        raise ValidationError({"partner": f"{owner.name} has no technical or administrative contact to "
                                          "take over the app; set one for that partner first."})
    return {"technical_contact": heir, "error_report_emails": heir.email}


@transaction.atomic
def update_app_settings(*, actor, app: App, **changes) -> App:
    """Change an app's settings; staff-only fields need an App manager."""
    if not getattr(actor, "is_app_manager", False):
        require_app_permission(user=actor, app=app, permission="app_store")
    staff_fields = set(changes) & set(STAFF_SETTINGS)
    if staff_fields and not getattr(actor, "is_app_manager", False):
        raise PermissionDenied("Only platform staff may change " + ", ".join(sorted(staff_fields)) + ".")
    unknown = set(changes) - set(PARTNER_SETTINGS) - set(STAFF_SETTINGS)
    if unknown:
        raise ValueError(f"Unknown app settings: {sorted(unknown)}")
    if "name" in changes:
        changes["name"] = clean_app_name(changes["name"])
        if name_taken(changes["name"], exclude_pk=app.pk):
            raise ValidationError({"name": NAME_TAKEN})
    if ("seo_name" in changes and changes["seo_name"] != app.seo_name
            and not getattr(actor, "is_app_manager", False) and seo_name_locked(app)):
        raise ValidationError({"seo_name": SEO_NAME_LOCKED})
    if "seo_name" in changes and App.objects.filter(
            partner=app.partner, seo_name=changes["seo_name"]).exclude(pk=app.pk).exists():
        raise ValidationError({"seo_name": "Another app of this partner uses this SEO name."})
    contact = changes.get("technical_contact")
    if contact is not None and not PartnerMember.objects.filter(
            partner=changes.get("partner", app.partner), user=contact).exists():
        raise ValidationError({"technical_contact": "The technical contact must be a member of the partner."})
    new_owner = changes.get("partner")
    if new_owner is not None and new_owner != app.partner and contact is None:
        changes.update(_contacts_for_new_owner(app, new_owner))

    before = _settings_snapshot(app)
    for field, value in changes.items():
        setattr(app, field, value)
    app.full_clean()
    _save_unique_name(app)
    after = _settings_snapshot(app)
    changed = audit.diff(before, after)
    if changed:
        if "technical_contact" in changed:
            audit.record(event_type="app_technical_contact_changed", actor=actor,
                         partner=app.partner, app=app,
                         changes={"technical_contact": changed["technical_contact"]})
        if "partner" in changed:
            audit.record(event_type="app_ownership_changed", actor=actor, partner=app.partner,
                         app=app, changes={"partner": changed["partner"]})
        audit.record(event_type="app_settings_changed", actor=actor, partner=app.partner, app=app,
                     message=f"Settings of {app.name} changed", changes=changed)
        if {"name", "partner"} & set(changed):
            refresh_search_text(apps=[app])
    return app
