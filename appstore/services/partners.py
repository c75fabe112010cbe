from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from audit import services as audit

from ..models import Partner, PartnerMember
from ..names import clean_name, name_key, validate_company_name

COMPANY_NAME_MAX = Partner._meta.get_field("name").max_length


def unique_partner_seo_name(name: str) -> str:
    base = slugify(name)[:56] or "partner"
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
