"""The partner's delivery log of an app's state-change notifications, with redelivery.

The log is reached only through the current partner's apps (another partner's app or event is a
404); redelivering goes through provisioning.services.notifications, which checks rights again.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from appstore.models import PartnerMember
from appstore.views.common import get_app, portal_view

from . import delivery_selectors as selectors
from .delivery_forms import DeliveryFilterForm
from .models import DeliveryState, StateChangeNotification
from .services import notifications as services

PAGE_SIZE = 25


@portal_view("read")
@require_GET
def deliveries(request: HttpRequest, member: PartnerMember, app_id: int) -> HttpResponse:
    app = get_app(member, app_id)
    form = DeliveryFilterForm(request.GET or None)
    filters = {}
    if form.is_bound:
        form.is_valid()
        filters = form.filters()
    page = Paginator(selectors.notifications_of_app(member.partner, app.pk, **filters), PAGE_SIZE).get_page(
        request.GET.get("page"))
    return render(request, "provisioning/deliveries.html", {
        "member": member, "app": app, "form": form, "page": page,
        "can_redeliver": member.has(services.REDELIVER_PERMISSION), "pending": DeliveryState.PENDING,
    })


@portal_view(services.REDELIVER_PERMISSION)
@require_POST
def redeliver(request: HttpRequest, member: PartnerMember, app_id: int, pk: int) -> HttpResponse:
    app = get_app(member, app_id)
    try:
        notification = selectors.notification_of_app(member.partner, app.pk, pk)
    except StateChangeNotification.DoesNotExist as exc:
        raise Http404("No such notification for this app.") from exc
    try:
        services.redeliver(actor=request.user, notification=notification)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Event {notification.event_id} queued again for "
                                  f"{notification.tenant.context_identifier}.")
    return redirect("portal-deliveries:list", app_id=app.pk)


portal_patterns = ([
    path("apps/<int:app_id>/deliveries/", deliveries, name="list"),
    path("apps/<int:app_id>/deliveries/<int:pk>/redeliver/", redeliver, name="redeliver"),
], "portal-deliveries")
