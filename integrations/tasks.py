"""Celery finds each app's tasks in its tasks module; the ERP sync's live in erp/tasks.py."""

from .erp.tasks import run_sync, sync_tenant

__all__ = ["run_sync", "sync_tenant"]
