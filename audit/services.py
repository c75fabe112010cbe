from typing import Any

from .models import AuditEntry


def diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[Any]]:
    """Fields whose value changed, as {field: [old, new]}."""
    return {key: [old.get(key), new.get(key)] for key in new if old.get(key) != new.get(key)}


def record(*, event_type: str, actor=None, source: str = AuditEntry.Source.PORTAL,
           partner=None, app=None, tenant=None, target=None, message: str = "",
           changes: dict[str, list[Any]] | None = None) -> AuditEntry:
    """Write one audit entry. Callers pass values that are safe to show: never a secret.

    ``target`` is the versioned object the entry is about (a listing, configuration or
    profile version); its per-version change log is read back by it.
    """
    subject = str(app or partner or tenant or "")[:200]
    return AuditEntry.objects.create(
        event_type=event_type,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_email=getattr(actor, "email", "") or "",
        source=source,
        partner_id=getattr(partner, "pk", None),
        app_id=getattr(app, "pk", None),
        tenant_id=getattr(tenant, "pk", None),
        target_type=target._meta.model_name if target is not None else "",
        target_id=getattr(target, "pk", None),
        subject=subject,
        message=message,
        changes=changes or {},
    )
