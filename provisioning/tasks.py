"""Thin Celery wrappers for the login service's e-mails (uninstall reports, authorization requests,
failed notifications) and the delivery of state-change notifications."""

from celery import shared_task


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_uninstall_report(authorization_id: int) -> int:
    from .notifications import uninstall_report

    return uninstall_report(authorization_id=authorization_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_authorization_requested(request_id: int) -> int:
    from .request_notifications import authorization_requested

    return authorization_requested(request_id=request_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_authorization_confirmation(request_id: int, token: str) -> int:
    from .request_notifications import authorization_confirmation

    return authorization_confirmation(request_id=request_id, token=token)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_authorization_decided(request_id: int, event: str) -> int:
    from .request_notifications import authorization_decided

    return authorization_decided(request_id=request_id, event=event)


@shared_task
def clear_expired_credentials() -> dict[str, int]:
    from .services.cleanup import clear_expired_credentials as clear

    return clear()


@shared_task(bind=True)
def deliver_state_change(self, notification_id: int, attempt: int) -> str | None:
    """One attempt at a state-change notification; a failed one schedules the next after its delay."""
    from .services.notifications import deliver

    outcome = deliver(notification_id=notification_id, attempt=attempt)
    if outcome is None:
        return None
    # Run eagerly (no broker) the countdown would be ignored and every retry made at once.
    if outcome.retry_in is not None and not self.request.is_eager:
        deliver_state_change.apply_async((notification_id, attempt + 1), countdown=outcome.retry_in)
    return outcome.state


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_delivery_failure_report(notification_id: int) -> int:
    from .notifications import delivery_failure_report

    return delivery_failure_report(notification_id=notification_id)


@shared_task
def resume_stalled_notifications() -> int:
    from .services.notifications import resume_stalled

    return resume_stalled()
