"""Integration services (SPEC §10): connections between a tenant's CRM and a partner's service,
their field mappings, the links between ERP actors and CRM records, and the log of every run and call.

Every row names its tenant (and app) so selectors can scope by them; the partner only ever sees a
connection's GUID, never a database id.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from appstore.models import App
from provisioning.models import Authorization
from tenants.models import Tenant


class FieldType(models.IntegerChoices):
    CHECKBOX = 0, "Checkbox"
    TEXT = 1, "Text"
    PASSWORD = 2, "Password"
    INTEGER = 3, "Integer"
    DOUBLE = 4, "Double"
    LIST = 5, "List"
    DATE = 6, "Date"
    LABEL = 99, "Label"


class FieldAccess(models.IntegerChoices):
    NORMAL = 0, "Normal"
    MANDATORY = 1, "Mandatory"
    READ_ONLY = 2, "Read-only"


class Direction(models.TextChoices):
    TO_CRM = "to_crm", "To CRM"
    TO_ERP = "to_erp", "To ERP"
    OFF = "off", "Not synced"


class ErpConnection(models.Model):
    """One tenant's connection to one app's ERP connector."""

    connection_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="erp_connections")
    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="erp_connections")
    authorization = models.ForeignKey(Authorization, on_delete=models.CASCADE, related_name="erp_connections")
    name = models.CharField(max_length=120)
    # The connector's configuration fields (FieldMetadata as dicts) and the values given, encrypted
    # because Password fields are sent again whenever the connector forgets the connection.
    config_fields = models.JSONField(default=list, blank=True)
    config_encrypted = models.TextField(blank=True, editable=False)
    actor_types = models.JSONField(default=list, blank=True)
    rank = models.PositiveIntegerField(default=1)
    sync_interval = models.PositiveIntegerField(default=60, help_text="Seconds between scheduled runs.")
    is_active = models.BooleanField(default=False)
    # Per actor type, the largest LastModified seen (ISO text, as the connector sent it).
    erp_timestamps = models.JSONField(default=dict, blank=True)
    # Per actor type, the ErpKeys of records skipped by the last run: read again by key next time, so
    # a record skipped for a mapping the admin then fixes is not left behind by the timestamps.
    erp_retry = models.JSONField(default=dict, blank=True)
    # CRM changes up to this moment have been pushed to the ERP.
    crm_pushed_until = models.DateTimeField(null=True, blank=True)
    # The run lock: held by the run whose token is here until the lease ends; a crashed worker's
    # lease simply runs out.
    lock_token = models.UUIDField(null=True, blank=True, editable=False)
    lock_expires_at = models.DateTimeField(null=True, blank=True)
    last_run_started_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["rank", "id"]
        indexes = [
            models.Index(fields=["tenant", "rank"], name="erp_connection_tenant_idx"),
            models.Index(fields=["is_active", "tenant"], name="erp_connection_active_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.tenant.context_identifier})"


class ActorTypeMapping(models.Model):
    """Which ERP actor type is synced with which CRM entity on a connection."""

    connection = models.ForeignKey(ErpConnection, on_delete=models.CASCADE, related_name="actor_mappings")
    actor_type = models.CharField(max_length=40)
    crm_entity = models.CharField(max_length=20)  # Contact or Person
    enabled = models.BooleanField(default=True)
    # The connector's fields for this actor type as last fetched (FieldMetadata dicts).
    erp_fields = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["connection", "actor_type"], name="one_mapping_per_actor_type")
        ]

    def __str__(self) -> str:
        return f"{self.actor_type} ↔ {self.crm_entity}"


class FieldMapping(models.Model):
    """One ERP field of an actor type: the CRM field it pairs with and which way values flow."""

    actor_mapping = models.ForeignKey(ActorTypeMapping, on_delete=models.CASCADE, related_name="fields")
    erp_field = models.CharField(max_length=80)
    crm_field = models.CharField(max_length=80, blank=True)
    direction = models.CharField(max_length=8, choices=Direction.choices, default=Direction.OFF)
    # The connector no longer offers the field: kept so the admin sees it, never synced.
    missing = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["actor_mapping", "erp_field"], name="one_mapping_per_field")
        ]

    def __str__(self) -> str:
        return f"{self.erp_field} {self.direction} {self.crm_field}"


class ListItemMapping(models.Model):
    """An ERP list item (by key) paired with a CRM list item (by id)."""

    connection = models.ForeignKey(ErpConnection, on_delete=models.CASCADE, related_name="list_mappings")
    erp_list = models.CharField(max_length=80)
    erp_key = models.CharField(max_length=120)
    erp_value = models.CharField(max_length=200, blank=True)
    crm_list = models.CharField(max_length=40)
    crm_id = models.IntegerField(null=True, blank=True)
    crm_name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["erp_list", "erp_value"]
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "erp_list", "erp_key"], name="one_mapping_per_list_item"
            )
        ]

    def __str__(self) -> str:
        return f"{self.erp_list} {self.erp_key} → {self.crm_list} {self.crm_id}"


class ErpLink(models.Model):
    """An ERP actor linked to the CRM record it is synced with.

    ``crm_id`` is null while the CRM record is being created: a run that dies in between finds the
    pending link and looks the record up instead of creating it twice.
    ``erp_values`` and ``crm_values`` are the mapped values as last synced, so a run sends only what
    changed and logs old → new.
    """

    connection = models.ForeignKey(ErpConnection, on_delete=models.CASCADE, related_name="links")
    actor_type = models.CharField(max_length=40)
    erp_key = models.CharField(max_length=120)
    crm_entity = models.CharField(max_length=20)
    crm_id = models.IntegerField(null=True, blank=True)
    erp_values = models.JSONField(default=dict, blank=True)
    crm_values = models.JSONField(default=dict, blank=True)
    pending_since = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "actor_type", "erp_key"], name="one_link_per_erp_actor"
            ),
            models.UniqueConstraint(
                fields=["connection", "crm_entity", "crm_id"], name="one_link_per_crm_record"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.actor_type} {self.erp_key} ↔ {self.crm_entity} {self.crm_id}"


class RunKind(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    MANUAL = "manual", "Sync now"
    FORCE = "force", "Force sync"
    RESYNC = "resync", "Resync from CRM"
    RESYNC_NO_BLANKS = "resync_no_blanks", "Resync from CRM (no blank values)"


class RunState(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Skipped"
    INTERRUPTED = "interrupted", "Interrupted"


class SyncRun(models.Model):
    connection = models.ForeignKey(ErpConnection, on_delete=models.CASCADE, related_name="runs")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=RunKind.choices)
    state = models.CharField(max_length=12, choices=RunState.choices, default=RunState.QUEUED)
    phase = models.CharField(max_length=120, blank=True)
    queued_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    pushed = models.PositiveIntegerField(default=0)
    failed_records = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-queued_at", "-id"]
        indexes = [
            models.Index(fields=["connection", "-queued_at"], name="sync_run_connection_idx"),
            models.Index(fields=["state"], name="sync_run_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.connection} ({self.state})"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        return ((self.finished_at or timezone.now()) - self.started_at).total_seconds()

    @property
    def percent(self) -> int:
        return int(100 * self.processed / self.total) if self.total else 0


class LogKind(models.TextChoices):
    CHANGE = "change", "Field changed"
    CREATED = "created", "Record created"
    PROBLEM = "problem", "Record skipped"


class SyncLogEntry(models.Model):
    """One field change, record creation or per-record problem of a run."""

    run = models.ForeignKey(SyncRun, on_delete=models.CASCADE, related_name="entries")
    connection = models.ForeignKey(ErpConnection, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=LogKind.choices)
    direction = models.CharField(max_length=8, choices=Direction.choices, blank=True)
    actor_type = models.CharField(max_length=40, blank=True)
    erp_key = models.CharField(max_length=120, blank=True)
    crm_id = models.IntegerField(null=True, blank=True)
    field = models.CharField(max_length=80, blank=True)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    message = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["run", "kind"], name="sync_log_run_idx")]

    def __str__(self) -> str:
        return f"{self.kind} {self.actor_type} {self.erp_key} {self.field}"


class CallTarget(models.TextChoices):
    CONNECTOR = "connector", "Partner connector"
    CRM = "crm", "CRM API"


class IntegrationCall(models.Model):
    """Every call an integration service made, against the app and tenant it was for."""

    app = models.ForeignKey(App, on_delete=models.CASCADE, related_name="+")
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(
        ErpConnection, null=True, blank=True, on_delete=models.CASCADE, related_name="calls"
    )
    run = models.ForeignKey(SyncRun, null=True, blank=True, on_delete=models.CASCADE, related_name="calls")
    target = models.CharField(max_length=12, choices=CallTarget.choices)
    operation = models.CharField(max_length=120)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    ok = models.BooleanField(default=True)
    error = models.TextField(blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["app", "tenant", "-at"], name="integration_call_app_idx"),
            models.Index(fields=["run", "ok"], name="integration_call_run_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.target} {self.operation} ({'ok' if self.ok else 'failed'})"
