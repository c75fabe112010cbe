"""Reads of state-change notifications for the partner's delivery log, always scoped to the partner."""

from django.db.models import Prefetch, QuerySet

from appstore.models import Partner

from .models import DeliveryAttempt, StateChangeNotification


def notifications_of_app(partner: Partner, app_id: int, *, state: str = "",
                         change_type: int | None = None) -> QuerySet[StateChangeNotification]:
    """One of the partner's apps' notifications, newest first, with their tenants and attempts."""
    notifications = StateChangeNotification.objects.filter(app__partner=partner, app_id=app_id)
    if state:
        notifications = notifications.filter(state=state)
    if change_type is not None:
        notifications = notifications.filter(change_type=change_type)
    attempts = Prefetch("delivery_attempts", queryset=DeliveryAttempt.objects.order_by("number"))
    return (notifications.select_related("tenant", "environment").prefetch_related(attempts)
            .order_by("-created_at", "-id"))


def notification_of_app(partner: Partner, app_id: int, pk: int) -> StateChangeNotification:
    """A notification of one of the partner's apps, or StateChangeNotification.DoesNotExist."""
    return StateChangeNotification.objects.select_related("app__partner", "tenant").get(
        app__partner=partner, app_id=app_id, pk=pk)
