"""Thin Celery wrappers for the login service's e-mails."""

from celery import shared_task


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_uninstall_report(authorization_id: int) -> int:
    from .notifications import uninstall_report

    return uninstall_report(authorization_id=authorization_id)
