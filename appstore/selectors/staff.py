"""Reads for staff pages that are not the review queue."""

from django.db.models import QuerySet

from ..models import App


def apps_for_staff(*, q: str = "", kind: str = "", certification_status: str = "") -> QuerySet[App]:
    apps = App.objects.select_related("partner", "technical_contact").order_by("name")
    if q:
        apps = apps.filter(name__icontains=q)
    if kind:
        apps = apps.filter(is_custom=kind == "custom")
    if certification_status:
        apps = apps.filter(certification_status=certification_status)
    return apps


def app_for_staff(pk: int) -> App:
    return App.objects.select_related("partner", "developed_by", "technical_contact").get(pk=pk)
