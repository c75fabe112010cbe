"""A tenant's life: created in Provisioning, run, suspended, maintained, upgraded, moved, restored,
deleted. Every change goes through ``change_state`` and the table below; a refused change raises
``TransitionNotAllowed`` and changes nothing. Changes the apps are told about (SPEC §6) send
``tenant_state_changed`` once committed.
"""

import unicodedata
from contextlib import contextmanager
from contextvars import ContextVar

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from audit.models import AuditEntry
from audit.services import record

from ..addresses import address_problem, private_allowed
from ..models import Environment, Tenant, TenantMember, TenantState
from ..signals import ChangeType, tenant_state_changed

S = TenantState
SYSTEM = AuditEntry.Source.SYSTEM
# States in which the tenant's CRM exists and may be changed by staff.
LIVE = (S.RUNNING, S.ONLINE_MAINTENANCE, S.OFFLINE_MAINTENANCE, S.SUSPENDED)

# The one transition table: action → {state it is allowed from: state it leads to}.
# An action missing a state is refused in that state. Provisioning and deletion finish in a task.
TRANSITIONS: dict[str, dict[int, int]] = {
    "provisioned": {S.PROVISIONING: S.RUNNING},
    "provisioning_failed": {S.PROVISIONING: S.PROVISIONING_FAILED},
    "retry_provisioning": {S.PROVISIONING_FAILED: S.PROVISIONING},
    "suspend": {S.RUNNING: S.SUSPENDED, S.ONLINE_MAINTENANCE: S.SUSPENDED,
                S.OFFLINE_MAINTENANCE: S.SUSPENDED},
    "resume": {S.SUSPENDED: S.RUNNING},
    "start_online_maintenance": {S.RUNNING: S.ONLINE_MAINTENANCE},
    "start_offline_maintenance": {S.RUNNING: S.OFFLINE_MAINTENANCE,
                                  S.ONLINE_MAINTENANCE: S.OFFLINE_MAINTENANCE},
    "end_maintenance": {S.ONLINE_MAINTENANCE: S.RUNNING, S.OFFLINE_MAINTENANCE: S.RUNNING},
    # These keep the state; a tenant waiting for its migration runs once moved.
    "upgrade": {state: state for state in LIVE},
    "restore_backup": {state: state for state in LIVE},
    "move": {**{state: state for state in LIVE}, S.MIGRATION_PENDING: S.RUNNING},
    "delete": {state: S.DELETING for state in (*LIVE, S.PROVISIONING_FAILED, S.DELETE_FAILED,
                                               S.MIGRATION_PENDING)},
    "deleted": {S.DELETING: S.DELETED},
    "delete_failed": {S.DELETING: S.DELETE_FAILED},
}

# The changes apps are notified of (SPEC §6).
CHANGE_TYPES: dict[str, ChangeType] = {
    "upgrade": ChangeType.UPGRADE,
    "restore_backup": ChangeType.BACKUP_RESTORED,
    "suspend": ChangeType.SUSPEND,
    "resume": ChangeType.RESUME,
    "delete": ChangeType.DELETE,
    "move": ChangeType.MOVE,
}

# What staff and the command may ask for; the others are the tasks' own steps.
STAFF_ACTIONS = ("suspend", "resume", "start_online_maintenance", "start_offline_maintenance",
                 "end_maintenance", "upgrade", "move", "restore_backup", "delete", "retry_provisioning")
DESTRUCTIVE_ACTIONS = ("suspend", "restore_backup", "delete", "start_offline_maintenance")

ACTION_LABELS = {
    "suspend": "Suspend", "resume": "Resume", "start_online_maintenance": "Start online maintenance",
    "start_offline_maintenance": "Start offline maintenance", "end_maintenance": "End maintenance",
    "upgrade": "Upgrade", "move": "Move", "restore_backup": "Restore a backup", "delete": "Delete",
    "retry_provisioning": "Provision again", "provisioned": "Provisioned",
    "provisioning_failed": "Provisioning failed", "deleted": "Deleted", "delete_failed": "Deletion failed",
}

# The longest values staff may give, for the web form and the command line alike.
REASON_MAX = 500
VERSION_MAX = 64
URL_MAX = 200
BACKUP_MAX = 200

FIRST_SERIAL = 10000
DEFAULT_VERSION = "10.4"


# Who runs the command line (set by `manage.py tenant`), so its changes in the history name an operator.
_OPERATOR: ContextVar[str] = ContextVar("tenant_operator", default="")


@contextmanager
def operated_by(name: str):
    token = _OPERATOR.set(name)
    try:
        yield
    finally:
        _OPERATOR.reset(token)


def signed(message: str) -> str:
    """``message`` followed by the command-line operator, when there is one."""
    operator = _OPERATOR.get()
    if not operator:
        return message
    return f"{message.rstrip('.')} — by {operator}." if message else f"By {operator}."


class TenantError(Exception):
    """A refused tenant operation; ``message`` says why, for people."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class TransitionNotAllowed(TenantError):
    pass


def allowed_actions(tenant: Tenant, actions=STAFF_ACTIONS) -> list[str]:
    return [action for action in actions if tenant.state in TRANSITIONS[action]]


def _require_staff(actor) -> None:
    # None is the system: the tasks and the management command.
    if actor is not None and not (getattr(actor, "is_active", False) and getattr(actor, "is_staff", False)):
        raise PermissionDenied("Only platform staff may operate tenants.")


def _locked(tenant: Tenant) -> Tenant:
    # Only the tenant's row: locking its environment too would queue every change in that environment.
    return Tenant.objects.select_for_update(of=("self",)).select_related("environment").get(pk=tenant.pk)


def _notify(tenant: Tenant, change_type: ChangeType, actor) -> None:
    transaction.on_commit(lambda: tenant_state_changed.send(
        sender=Tenant, tenant=tenant, change_type=change_type, actor=actor))


@transaction.atomic
def change_state(*, actor, tenant: Tenant, action: str, source: str = SYSTEM,
                 fields: dict | None = None, reason: str = "", message: str = "") -> Tenant:
    """Apply ``action`` to the tenant if the table allows it in its current state, with the other
    ``fields`` it changes; audited, and notified once committed when apps are told of it."""
    if action not in TRANSITIONS:
        raise TenantError(f"Unknown action '{action}'.")
    locked = _locked(tenant)
    old_state = TenantState(locked.state)
    new_state = TRANSITIONS[action].get(locked.state)
    if new_state is None:
        allowed = ", ".join(ACTION_LABELS[a].lower() for a in allowed_actions(locked)) or "nothing"
        raise TransitionNotAllowed(
            f"{locked.context_identifier} is {old_state.label}: it cannot be {_past(action)} "
            f"(allowed now: {allowed}).")
    fields = dict(fields or {})
    before = {name: getattr(locked, name) for name in fields}
    for name, value in fields.items():
        setattr(locked, name, value)
    update = list(fields)
    if new_state != old_state or reason:
        locked.state_reason = reason
        update.append("state_reason")
    if new_state != old_state:
        locked.state = new_state
        locked.state_changed_at = timezone.now()
        update += ["state", "state_changed_at"]
    if update:
        locked.save(update_fields=update)
    changes = {name: [before[name], getattr(locked, name)] for name in fields
               if before[name] != getattr(locked, name)}
    if new_state != old_state:
        changes["state"] = [old_state.label, TenantState(new_state).label]
    record(event_type=f"tenant.{action}", actor=actor, source=source, tenant=locked,
           message=signed(message or reason), changes=changes)
    if action in CHANGE_TYPES:
        _notify(locked, CHANGE_TYPES[action], actor)
    tenant.__dict__.update({name: getattr(locked, name) for name in
                            ("state", "state_reason", "state_changed_at", *fields)})
    return locked


PAST = {
    "suspend": "suspended", "resume": "resumed", "start_online_maintenance": "put in online maintenance",
    "start_offline_maintenance": "put in offline maintenance", "end_maintenance": "taken out of maintenance",
    "upgrade": "upgraded", "move": "moved", "restore_backup": "restored from a backup", "delete": "deleted",
    "retry_provisioning": "provisioned again", "provisioned": "marked provisioned",
    "provisioning_failed": "marked as failed to provision", "deleted": "marked deleted",
    "delete_failed": "marked as failed to delete",
}


def _past(action: str) -> str:
    return PAST[action]


# --- Creating -------------------------------------------------------------------------------------------

def _allocate(environment: Environment) -> tuple[int, str]:
    """The next serial in the environment and its context identifier ``Cust<serial>``."""
    Environment.objects.select_for_update().filter(pk=environment.pk).first()  # one allocation at a time
    top = Tenant.objects.filter(environment=environment).aggregate(top=Max("serial"))["top"] or 0
    serial = max(top + 1, FIRST_SERIAL)
    taken = set(Tenant.objects.filter(environment=environment, context_identifier__startswith="Cust")
                .values_list("context_identifier", flat=True))
    while f"Cust{serial}" in taken:
        serial += 1
    return serial, f"Cust{serial}"


def invisible_characters_message(value: str, label: str) -> str:
    """Why ``value`` is refused when it holds control or format (e.g. bidi override) characters, else ""."""
    bad = sorted({char for char in value or "" if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co")})
    if not bad:
        return ""
    codes = ", ".join(f"U+{ord(char):04X}" for char in bad)
    return f"The {label} may not contain control or invisible formatting characters ({codes})."


def _refuse_invisible(value: str, field: str, label: str) -> None:
    message = invisible_characters_message(value, label)
    if message:
        raise ValidationError({field: message})


def _clean_company(company_name: str) -> str:
    company_name = " ".join((company_name or "").split())
    if not company_name:
        raise ValidationError({"company_name": "Enter the company's name."})
    _refuse_invisible(company_name, "company_name", "company name")
    if len(company_name) > 200:
        raise ValidationError({"company_name": "A company name has at most 200 characters."})
    return company_name


def _environment(environment_code: str) -> Environment:
    try:
        return Environment.objects.get(code=environment_code)
    except Environment.DoesNotExist as exc:
        codes = ", ".join(Environment.objects.values_list("code", flat=True))
        message = f"Unknown environment '{environment_code}' (one of {codes})."
        raise ValidationError({"environment": message}) from exc


def _create(*, actor, environment: Environment, company_name: str, source: str) -> Tenant:
    serial, ctx = _allocate(environment)
    tenant = Tenant.objects.create(environment=environment, context_identifier=ctx, company_name=company_name,
                                   serial=serial, state=TenantState.PROVISIONING,
                                   state_changed_at=timezone.now())
    record(event_type="tenant.created", actor=actor, source=source, tenant=tenant,
           message=signed(f"{ctx} created for {company_name} in {environment.code}."),
           changes={"state": [None, TenantState.PROVISIONING.label]})
    from ..tasks import provision_tenant

    transaction.on_commit(lambda: provision_tenant.delay(tenant.pk))
    return tenant


@transaction.atomic
def create_tenant(*, actor, environment_code: str, company_name: str, admin_email: str,
                  source: str = SYSTEM) -> Tenant:
    """A new tenant in Provisioning (a task makes it run) with its first administrator, who is
    invited by e-mail (an account without a password is created for a new address). Staff only."""
    from .members import add_first_administrator, validate_email

    _require_staff(actor)
    company_name = _clean_company(company_name)
    validate_email(admin_email)
    environment = _environment(environment_code)
    tenant = _create(actor=actor, environment=environment, company_name=company_name, source=source)
    add_first_administrator(actor=actor, tenant=tenant, email=admin_email, source=source)
    return tenant


@transaction.atomic
def create_development_tenant(*, actor, company_name: str, source: str = AuditEntry.Source.PORTAL) -> Tenant:
    """A new ``sod`` tenant with ``actor`` as its administrator, for a partner developing its apps.

    The caller checks the partner's rights (the portal requires the ``configuration`` permission).
    """
    if actor is None or not getattr(actor, "is_authenticated", False):
        raise PermissionDenied("Sign in to ask for a development tenant.")
    tenant = _create(actor=actor, environment=_environment("sod"), company_name=_clean_company(company_name),
                     source=source)
    TenantMember.objects.create(tenant=tenant, user=actor, is_general_administrator=True)
    record(event_type="tenant.member_added", actor=actor, source=source, tenant=tenant,
           message=f"{actor.email} joined as administrator.", changes={"member": [None, actor.email]})
    return tenant


# --- Operating --------------------------------------------------------------------------------------------

def _staff_change(*, actor, tenant, action, source, **kwargs) -> Tenant:
    _require_staff(actor)
    return change_state(actor=actor, tenant=tenant, action=action, source=source, **kwargs)


def _clean_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX:
        raise ValidationError({"reason": f"A reason has at most {REASON_MAX} characters "
                                         f"(this one has {len(reason)})."})
    return reason


def suspend_tenant(*, actor, tenant: Tenant, reason: str = "", source: str = SYSTEM) -> Tenant:
    return _staff_change(actor=actor, tenant=tenant, action="suspend", source=source,
                         reason=_clean_reason(reason))


def resume_tenant(*, actor, tenant: Tenant, source: str = SYSTEM) -> Tenant:
    return _staff_change(actor=actor, tenant=tenant, action="resume", source=source)


def start_maintenance(*, actor, tenant: Tenant, online: bool, reason: str = "",
                      source: str = SYSTEM) -> Tenant:
    action = "start_online_maintenance" if online else "start_offline_maintenance"
    return _staff_change(actor=actor, tenant=tenant, action=action, source=source,
                         reason=_clean_reason(reason))


def end_maintenance(*, actor, tenant: Tenant, source: str = SYSTEM) -> Tenant:
    return _staff_change(actor=actor, tenant=tenant, action="end_maintenance", source=source)


def upgrade_tenant(*, actor, tenant: Tenant, version_label: str, source: str = SYSTEM) -> Tenant:
    version_label = (version_label or "").strip()
    if not version_label:
        raise ValidationError({"version_label": "Enter the version the tenant is upgraded to."})
    _refuse_invisible(version_label, "version_label", "version label")
    if len(version_label) > VERSION_MAX:
        raise ValidationError({"version_label": f"A version label has at most {VERSION_MAX} characters."})
    return _staff_change(actor=actor, tenant=tenant, action="upgrade", source=source,
                         fields={"version_label": version_label}, message=f"Upgraded to {version_label}.")


def _clean_url(value: str, field: str, label: str, *, allow_private: bool) -> str:
    value = (value or "").strip()
    if len(value) > URL_MAX:
        raise ValidationError({field: f"The {label} has at most {URL_MAX} characters."})
    problem = address_problem(value, label=label, allow_private=allow_private)
    if not problem:
        try:
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError:
            problem = f"Enter the {label} as an http(s) URL."
    if problem:
        raise ValidationError({field: problem})
    return value


def move_tenant(*, actor, tenant: Tenant, public_endpoint: str, webapi_url: str,
                source: str = SYSTEM) -> Tenant:
    """Move the tenant's CRM to new https addresses at public hosts (sod may use local ones when allowed)."""
    _require_staff(actor)
    allow_private = private_allowed(tenant.environment.code)
    public_endpoint = _clean_url(public_endpoint, "public_endpoint", "public endpoint",
                                 allow_private=allow_private)
    webapi_url = _clean_url(webapi_url, "webapi_url", "web API URL", allow_private=allow_private)
    current = Tenant.objects.filter(pk=tenant.pk).values_list("public_endpoint", "webapi_url").first()
    if current == (public_endpoint, webapi_url):
        raise TenantError(f"{tenant.context_identifier} is already there ({public_endpoint}); "
                          f"nothing was moved.")
    return _staff_change(actor=actor, tenant=tenant, action="move", source=source,
                         fields={"public_endpoint": public_endpoint, "webapi_url": webapi_url},
                         message=f"Moved to {public_endpoint}.")


def restore_backup(*, actor, tenant: Tenant, backup: str = "", source: str = SYSTEM) -> Tenant:
    backup = " ".join((backup or "").split())
    if len(backup) > BACKUP_MAX:
        raise ValidationError({"backup": f"A backup's date or name has at most {BACKUP_MAX} characters."})
    message = f"Restored from backup {backup}." if backup else "Restored from the latest backup."
    return _staff_change(actor=actor, tenant=tenant, action="restore_backup", source=source, message=message)


def retry_provisioning(*, actor, tenant: Tenant, source: str = SYSTEM) -> Tenant:
    tenant = _staff_change(actor=actor, tenant=tenant, action="retry_provisioning", source=source)
    from ..tasks import provision_tenant

    transaction.on_commit(lambda: provision_tenant.delay(tenant.pk))
    return tenant


def delete_tenant(*, actor, tenant: Tenant, reason: str = "", source: str = SYSTEM) -> Tenant:
    """Start deleting: Deleting now, Deleted once the task has run."""
    tenant = _staff_change(actor=actor, tenant=tenant, action="delete", source=source,
                           reason=_clean_reason(reason))
    from ..tasks import delete_tenant as delete_task

    transaction.on_commit(lambda: delete_task.delay(tenant.pk))
    return tenant


# --- The tasks' steps ---------------------------------------------------------------------------------------

def provisioned(*, tenant: Tenant, defaults: dict) -> Tenant:
    """Provisioning finished: Running, with the addresses and version it was given."""
    fields = {name: value for name, value in defaults.items() if not getattr(tenant, name)}
    return change_state(actor=None, tenant=tenant, action="provisioned", fields=fields,
                        message="Provisioning finished.")


def provisioning_failed(*, tenant: Tenant, reason: str) -> Tenant:
    return change_state(actor=None, tenant=tenant, action="provisioning_failed",
                        reason=reason[:2000] or "Provisioning failed.")


def deleted(*, tenant: Tenant) -> Tenant:
    return change_state(actor=None, tenant=tenant, action="deleted", message="Deletion finished.")


def delete_failed(*, tenant: Tenant, reason: str) -> Tenant:
    return change_state(actor=None, tenant=tenant, action="delete_failed",
                        reason=reason[:2000] or "Deletion failed.")


# What the staff form and the command call, by action, with the arguments they take.
OPERATIONS = {
    "suspend": (suspend_tenant, ("reason",)),
    "resume": (resume_tenant, ()),
    "start_online_maintenance": (lambda **kw: start_maintenance(online=True, **kw), ("reason",)),
    "start_offline_maintenance": (lambda **kw: start_maintenance(online=False, **kw), ("reason",)),
    "end_maintenance": (end_maintenance, ()),
    "upgrade": (upgrade_tenant, ("version_label",)),
    "move": (move_tenant, ("public_endpoint", "webapi_url")),
    "restore_backup": (restore_backup, ("backup",)),
    "delete": (delete_tenant, ("reason",)),
    "retry_provisioning": (retry_provisioning, ()),
}
