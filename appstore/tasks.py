"""E-mail notifications (review path, team); thin Celery wrappers around appstore.notifications."""

from celery import shared_task


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_listing_requested(listing_id: int) -> int:
    from .notifications import listing_requested

    return listing_requested(listing_id=listing_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_listing_reviewed(listing_id: int) -> int:
    from .notifications import listing_reviewed

    return listing_reviewed(listing_id=listing_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_profile_requested(version_id: int) -> int:
    from .notifications import profile_requested

    return profile_requested(version_id=version_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_profile_reviewed(version_id: int) -> int:
    from .notifications import profile_reviewed

    return profile_reviewed(version_id=version_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_invitation(invitation_id: int, token: str) -> int:
    from .notifications import invitation_sent

    return invitation_sent(invitation_id=invitation_id, token=token)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_configuration_requested(version_id: int) -> int:
    from .notifications import configuration_requested

    return configuration_requested(version_id=version_id)


@shared_task(autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def notify_configuration_reviewed(version_id: int) -> int:
    from .notifications import configuration_reviewed

    return configuration_reviewed(version_id=version_id)
