"""Staff decisions on configuration publish requests: approve (publish) or reject with a reason.

A custom app approved for stage is also published to online at the Explicit level, and the
partner is asked for the one customer it is for (SPEC §4).
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from audit import services as audit
from audit.models import AuditEntry
from tenants.models import Environment

from ..models import App, AuthorizationLevel, ClientCertificate, ConfigurationVersion, VersionState
from ..permissions import require_app_manager
from ..tasks import notify_configuration_reviewed
from .configuration import _lock, _publish
from .configuration_fields import (
    CONTENT_FIELDS,
    STALE_FORM_CODE,
    STALE_REVIEW_MESSAGE,
    configuration_fingerprint,
)

# The longest reason a reviewer may give; it is e-mailed and shown in the portal.
MAX_REASON_LENGTH = 5000
REASON_TOO_LONG = "A reason may have at most {limit:,} characters; this one has {length:,}. Shorten it."


def _approve_certificates(app: App, environment: Environment, now) -> int:
    """Keys added for stage / online become active with the next approved configuration."""
    return ClientCertificate.objects.filter(client__app=app, client__environment=environment,
                                            approved_at__isnull=True).update(approved_at=now)


def _copy_to_online(version: ConfigurationVersion, *, actor, now) -> ConfigurationVersion:
    online = Environment.objects.get(code="online")
    copy = ConfigurationVersion(app=version.app, environment=online, created_by=actor,
                                submitted_by=version.submitted_by, submitted_at=version.submitted_at)
    for field in CONTENT_FIELDS:
        setattr(copy, field, getattr(version, field))
    copy.save()
    audit.record(event_type="configuration_version_created", actor=actor, source=AuditEntry.Source.REVIEW,
                 partner=version.app.partner, app=version.app, target=copy,
                 message=f"Configuration {copy.label} copied from stage to online (custom app)",
                 changes={"label": [None, copy.label], "environment": [None, "online"]})
    _publish(copy, actor=actor, now=now, source=AuditEntry.Source.REVIEW, reviewed=True)
    _approve_certificates(version.app, online, now)
    return copy


def _lock_pending(version: ConfigurationVersion, *, verb: str, seen_fingerprint: str | None
                  ) -> ConfigurationVersion:
    version = _lock(version)
    if version.state != VersionState.PENDING:
        raise ValidationError(f"Only a pending version can be {verb}; this one is "
                              f"{version.get_state_display().lower()}.", code="not_pending")
    if seen_fingerprint is not None and seen_fingerprint != configuration_fingerprint(version):
        raise ValidationError(STALE_REVIEW_MESSAGE, code=STALE_FORM_CODE)
    return version


@transaction.atomic
def approve_configuration(*, actor, version: ConfigurationVersion,
                          seen_fingerprint: str | None = None) -> ConfigurationVersion:
    """Publish a pending version in its environment, superseding the live one there.

    A custom app approved for stage is also published to online at the Explicit level, and
    the partner is asked for the one customer it is for.
    """
    require_app_manager(user=actor)
    version = _lock_pending(version, verb="approved", seen_fingerprint=seen_fingerprint)
    app, env, now = version.app, version.environment, timezone.now()
    custom_stage = app.is_custom and env.code == "stage"
    if custom_stage and version.authorization_level != AuthorizationLevel.EXPLICIT:
        audit.record(event_type="configuration_version_updated", actor=actor,
                     source=AuditEntry.Source.REVIEW, partner=app.partner, app=app, target=version,
                     message="Authorization level set to Explicit (custom app reaching production)",
                     changes={"authorization_level": [version.authorization_level,
                                                      AuthorizationLevel.EXPLICIT]})
        version.authorization_level = AuthorizationLevel.EXPLICIT
    _publish(version, actor=actor, now=now, source=AuditEntry.Source.REVIEW, reviewed=True)
    _approve_certificates(app, env, now)
    if custom_stage:
        _copy_to_online(version, actor=actor, now=now)
        if app.customer_requested_at is None:
            app.customer_requested_at = now
            app.save(update_fields=["customer_requested_at", "updated_at"])
            audit.record(event_type="app_customer_requested", actor=actor, source=AuditEntry.Source.REVIEW,
                         partner=app.partner, app=app,
                         message=f"{app.name} asked for its customer's name and context identifier",
                         changes={"customer_requested_at": [None, now.isoformat()]})
    transaction.on_commit(lambda: notify_configuration_reviewed.delay(version.pk))
    return version


@transaction.atomic
def reject_configuration(*, actor, version: ConfigurationVersion, reason: str,
                         seen_fingerprint: str | None = None) -> ConfigurationVersion:
    """Send a pending version back to the partner with a reason; it is editable again."""
    require_app_manager(user=actor)
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the version is rejected; the partner sees it."})
    if len(reason.strip()) > MAX_REASON_LENGTH:
        raise ValidationError({"reason": REASON_TOO_LONG.format(limit=MAX_REASON_LENGTH,
                                                                length=len(reason.strip()))})
    version = _lock_pending(version, verb="rejected", seen_fingerprint=seen_fingerprint)
    version.state = VersionState.REJECTED
    version.reviewed_by = actor
    version.reviewed_at = timezone.now()
    version.review_reason = reason.strip()
    version.save(update_fields=["state", "reviewed_by", "reviewed_at", "review_reason", "updated_at"])
    audit.record(event_type="configuration_version_rejected", actor=actor, source=AuditEntry.Source.REVIEW,
                 partner=version.app.partner, app=version.app, target=version,
                 message=f"Configuration {version.label} ({version.environment.code}) rejected: "
                         f"{version.review_reason}",
                 changes={"state": [VersionState.PENDING, VersionState.REJECTED]})
    transaction.on_commit(lambda: notify_configuration_reviewed.delay(version.pk))
    return version
