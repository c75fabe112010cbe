"""Celery tasks of the ERP sync: thin wrappers that take ids and call the engine."""

from celery import shared_task

from ..models import RunKind, RunState


@shared_task(name="integrations.erp.tasks.run_sync", acks_late=True)
def run_sync(run_id: int) -> str | None:
    from .engine import execute
    from .notifications import report_failure

    run = execute(run_id)
    if run is None:
        return None
    if run.state == RunState.FAILED:
        report_failure(run)
    return run.state


@shared_task(name="integrations.erp.tasks.sync_tenant", acks_late=True)
def sync_tenant(tenant_id: int) -> list[str]:
    """The tenant's due active connections, one after another in rank order."""
    from .engine import execute
    from .notifications import report_failure
    from .services.runs import due_connections, queue_run_now

    states = []
    for connection in due_connections(tenant_id):
        run = execute(queue_run_now(connection=connection, kind=RunKind.SCHEDULED).pk)
        if run is not None:
            if run.state == RunState.FAILED:
                report_failure(run)
            states.append(run.state)
    return states
