from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.text import slugify

from audit import services as audit

from ..models import Partner, PartnerMember


def unique_partner_seo_name(name: str) -> str:
    base = slugify(name)[:56] or "partner"
    candidate, n = base, 2
    while Partner.objects.filter(seo_name=candidate).exists():
        candidate, n = f"{base}-{n}", n + 1
    return candidate


def partner_name_taken(name: str) -> bool:
    """Company names are unique among partners, ignoring case."""
    return Partner.objects.filter(name__iexact=name.strip()).exists()


@transaction.atomic
def create_partner(*, founder, name: str, website: str = "") -> Partner:
    """A new company signs up: the founder becomes its administrator with every permission."""
    if not name.strip():
        raise ValidationError({"name": "Enter the company name."})
    if partner_name_taken(name):
        raise ValidationError({"name": "A company with this name is already registered."})
    partner = Partner.objects.create(
        name=name.strip(), seo_name=unique_partner_seo_name(name), website=website,
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
