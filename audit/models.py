from django.conf import settings
from django.db import models


class AuditEntry(models.Model):
    """One state-changing action.

    Partner, app and tenant are kept as plain ids plus a name snapshot, not foreign keys:
    the log must outlive the rows it describes (an "app deleted" entry keeps its app id),
    and every room may write to it without importing the rooms above it.
    """

    class Source(models.TextChoices):
        PORTAL = "portal", "Developer portal"
        REVIEW = "review", "Review"
        STORE = "store", "App Store"
        CONSENT = "consent", "Consent"
        INTEGRATIONS = "integrations", "Integrations"
        SYSTEM = "system", "System"

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    actor_email = models.CharField(max_length=254, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.PORTAL)
    event_type = models.CharField(max_length=64, db_index=True)
    partner_id = models.BigIntegerField(null=True, blank=True)
    app_id = models.BigIntegerField(null=True, blank=True)
    tenant_id = models.BigIntegerField(null=True, blank=True)
    # The versioned object the entry is about ("listing_version", 12), for per-version logs.
    target_type = models.CharField(max_length=32, blank=True)
    target_id = models.BigIntegerField(null=True, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    message = models.TextField(blank=True)
    changes = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["partner_id", "-at"], name="audit_partner_at"),
            models.Index(fields=["app_id", "-at"], name="audit_app_at"),
            models.Index(fields=["tenant_id", "-at"], name="audit_tenant_at"),
            models.Index(fields=["target_type", "target_id"], name="audit_target"),
        ]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.event_type}"
