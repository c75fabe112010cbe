"""The ERP sync schedule: one django-celery-beat task per tenant with active connections, firing at
the shortest interval among them; the task runs the tenant's due connections in rank order."""

import json

from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from tenants.models import Tenant

from ...models import ErpConnection

TASK = "integrations.erp.tasks.sync_tenant"


def task_name(tenant: Tenant) -> str:
    return f"ERP sync {tenant.environment.code}/{tenant.context_identifier}"


@transaction.atomic
def reschedule(tenant: Tenant) -> PeriodicTask | None:
    """Make the tenant's periodic task match its active connections; None when none is active."""
    intervals = list(
        ErpConnection.objects.filter(tenant=tenant, is_active=True).values_list("sync_interval", flat=True)
    )
    name = task_name(tenant)
    if not intervals:
        PeriodicTask.objects.filter(name=name).delete()
        return None
    every, _ = IntervalSchedule.objects.get_or_create(every=min(intervals), period=IntervalSchedule.SECONDS)
    task, _ = PeriodicTask.objects.update_or_create(
        name=name,
        defaults={
            "task": TASK,
            "interval": every,
            "kwargs": json.dumps({"tenant_id": tenant.pk}),
            "enabled": True,
            "description": "Runs the tenant's due ERP connections in rank order.",
        },
    )
    return task
