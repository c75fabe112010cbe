"""What the tenants room tells the rooms above it.

``tenant_state_changed`` is sent after the change is committed, once per change, with:

- ``sender``: the ``Tenant`` class;
- ``tenant``: the ``Tenant`` row as it is now;
- ``change_type``: a ``ChangeType`` value saying what happened;
- ``actor``: the user who did it, or None for the system.

The login service (``provisioning``) receives it and notifies every app authorized on the tenant.
"""

from django.db import models
from django.dispatch import Signal

tenant_state_changed = Signal()


class ChangeType(models.IntegerChoices):
    """The ``ChangeType`` of a state-change notification; the integers are part of the API."""

    UPGRADE = 0, "Upgrade"
    BACKUP_RESTORED = 1, "BackupRestored"
    SUSPEND = 2, "Suspend"
    RESUME = 3, "Resume"
    DELETE = 4, "Delete"
    MOVE = 5, "Move"
    # App lifecycle events for the tenant, sent by the login service itself.
    INSTALLED = 100, "Installed"
    REAPPROVED = 101, "Reapproved"
    UNINSTALLED = 102, "Uninstalled"
