from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction

from audit import services as audit

from ..models import Partner, PartnerMember
from ..names import clean_name, name_key, seo_slug, validate_company_name
from ..permissions import require_partner_permission
from .listings import refresh_search_text

COMPANY_NAME_MAX = Partner._meta.get_field("name").max_length
MAX_EMAILS = 20
# Partner members with the "users" permission change these; the rest are staff-only (SPEC §2).
PARTNER_SETTINGS = ("administrative_contact", "technical_contact", "support_emails",
                    "uninstall_report_emails")
STAFF_SETTINGS = ("name", "seo_name", "website")
CONTACT_LABELS = {"administrative_contact": "administrative contact",
                  "technical_contact": "technical contact"}


def unique_partner_seo_name(name: str) -> str:
    base = seo_slug(name, fallback="partner")
    candidate, n = base, 2
    while Partner.objects.filter(seo_name=candidate).exists():
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def partner_name_taken(name: str) -> bool:
    """Company names are unique among partners by name_key (case, width and spacing ignored).

    Compared in Python: the key is Unicode case folding, which SQLite cannot do.
    """
    key = name_key(name)
    return any(name_key(existing) == key
               for existing in Partner.objects.values_list("name", flat=True).iterator())


def clean_company_name(name: str) -> str:
    """The company name as stored: refused if it hides characters or uses < >, else normalised."""
    return clean_name(name, validate=validate_company_name, empty_message="Enter the company name.",
                      max_length=COMPANY_NAME_MAX)


@transaction.atomic
def create_partner(*, founder, name: str, website: str = "") -> Partner:
    """A new company signs up: the founder becomes its administrator with every permission."""
    name = clean_company_name(name)
    if partner_name_taken(name):
        raise ValidationError({"name": "A company with this name is already registered."})
    partner = Partner.objects.create(
        name=name, seo_name=unique_partner_seo_name(name), website=website,
        administrative_contact=founder, technical_contact=founder,
        support_emails=founder.email,
    )
    PartnerMember.objects.create(
        partner=partner, user=founder, can_login=True, can_read=True, can_app_store=True,
        can_configuration=True, can_users=True,
    )
    audit.record(event_type="partner_created", actor=founder, partner=partner,
                 message=f"Partner {partner.name} created by sign-up",
                 changes={"name": [None, partner.name], "seo_name": [None, partner.seo_name]})
    audit.record(event_type="member_added", actor=founder, partner=partner,
                 message=f"{founder.email} added as administrator")
    return partner


# ---------------------------------------------------------------- settings

def clean_email_list(text: str, *, label: str = "") -> str:
    """One valid address per line, at most MAX_EMAILS, as stored (trimmed, duplicates dropped).

    Every bad line is named in the message, so nothing has to be guessed; ``label`` starts
    the message when it is not shown beside the field.
    """
    lines = list(dict.fromkeys(line.strip() for line in (text or "").splitlines() if line.strip()))
    bad = []
    for line in lines:
        try:
            validate_email(line)
        except ValidationError:
            bad.append(line)
    errors = []
    prefix = f"{label}: " if label else ""
    if bad:
        shown = ", ".join(f"“{line[:80]}”" for line in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        errors.append(f"{prefix}Not an e-mail address: {shown}{more}. Put one address per line.")
    if len(lines) > MAX_EMAILS:
        errors.append(f"{prefix}{len(lines)} addresses; at most {MAX_EMAILS} are allowed.")
    if errors:
        raise ValidationError(errors)
    return "\n".join(lines)


def _settings_snapshot(partner: Partner) -> dict:
    return {
        "name": partner.name, "seo_name": partner.seo_name, "website": partner.website,
        "administrative_contact": getattr(partner.administrative_contact, "email", None),
        "technical_contact": getattr(partner.technical_contact, "email", None),
        "support_emails": partner.support_emails,
        "uninstall_report_emails": partner.uninstall_report_emails,
    }


@transaction.atomic
def update_partner_settings(*, actor, partner: Partner, **changes) -> Partner:
    """Change a partner's settings.

    Members with the "users" permission change the contacts (who must be members) and the
    e-mail lists; name, SEO name and website are for App-manager staff only.
    """
    is_staff = getattr(actor, "is_app_manager", False)
    if not is_staff:
        require_partner_permission(user=actor, partner=partner, permission="users")
    unknown = set(changes) - set(PARTNER_SETTINGS) - set(STAFF_SETTINGS)
    if unknown:
        raise ValueError(f"Unknown partner settings: {sorted(unknown)}")
    staff_fields = set(changes) & set(STAFF_SETTINGS)
    if staff_fields and not is_staff:
        raise PermissionDenied("Only platform staff may change the company's "
                               + ", ".join(f.replace("_", " ") for f in sorted(staff_fields)) + ".")
    partner = Partner.objects.select_for_update(of=("self",)).select_related(
        "administrative_contact", "technical_contact").get(pk=partner.pk)

    errors: dict[str, list[str]] = {}
    if "name" in changes:
        try:
            changes["name"] = clean_company_name(changes["name"])
        except ValidationError as exc:
            errors.update(exc.message_dict)
        else:
            if name_key(changes["name"]) != name_key(partner.name) and partner_name_taken(changes["name"]):
                errors["name"] = ["A company with this name is already registered."]
    if "seo_name" in changes and Partner.objects.filter(
            seo_name=changes["seo_name"]).exclude(pk=partner.pk).exists():
        errors["seo_name"] = ["Another partner uses this SEO name."]
    for field, label in CONTACT_LABELS.items():
        if field not in changes:
            continue
        contact = changes[field]
        if contact is None:
            errors[field] = [f"Choose the {label} among the members."]
        elif not PartnerMember.objects.filter(partner=partner, user=contact).exists():
            errors[field] = [f"The {label} must be a member of {partner.name}."]
    for field in ("support_emails", "uninstall_report_emails"):
        if field in changes:
            try:
                changes[field] = clean_email_list(changes[field])
            except ValidationError as exc:
                errors[field] = exc.messages
    if errors:
        raise ValidationError(errors)

    before = _settings_snapshot(partner)
    for field, value in changes.items():
        setattr(partner, field, value)
    partner.full_clean()
    partner.save()
    changed = audit.diff(before, _settings_snapshot(partner))
    if changed:
        audit.record(event_type="partner_settings_changed", actor=actor, partner=partner,
                     message=f"Settings of {partner.name} changed", changes=changed)
        if "name" in changed:
            refresh_search_text(apps=partner.apps.all())
    return partner
