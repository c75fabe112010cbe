from datetime import date

from django.db.models import QuerySet

from .models import AuditEntry


def entries_for_partner(*, partner_id: int | None, source: str = "", actor_id: int | None = None,
                        app_id: int | None = None, date_from: date | None = None,
                        date_to: date | None = None) -> QuerySet[AuditEntry]:
    """A partner's entries (all entries when partner_id is None: staff only), filtered."""
    qs = AuditEntry.objects.all()
    if partner_id is not None:
        qs = qs.filter(partner_id=partner_id)
    if source:
        qs = qs.filter(source=source)
    if actor_id:
        qs = qs.filter(actor_id=actor_id)
    if app_id:
        qs = qs.filter(app_id=app_id)
    if date_from:
        qs = qs.filter(at__date__gte=date_from)
    if date_to:
        qs = qs.filter(at__date__lte=date_to)
    return qs


def entries_for_target(target) -> QuerySet[AuditEntry]:
    """The change log of one versioned object, oldest first."""
    return AuditEntry.objects.filter(target_type=target._meta.model_name, target_id=target.pk).order_by(
        "at", "id")
