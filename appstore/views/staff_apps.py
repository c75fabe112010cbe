"""Staff pages for apps: find any app and change its staff-only settings."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods

from ..forms import apply_service_errors
from ..forms.staff import StaffAppFilterForm, StaffAppSettingsForm
from ..models import App
from ..selectors import portal as portal_selectors
from ..selectors import staff as selectors
from ..services import apps as app_services
from .common import app_manager_required

APPS_PAGE_SIZE = 50


@require_GET
@app_manager_required
def app_list(request: HttpRequest) -> HttpResponse:
    form = StaffAppFilterForm(request.GET or None)
    apps = selectors.apps_for_staff(**form.filters()) if form.is_bound else selectors.apps_for_staff()
    page = Paginator(apps, APPS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "appstore/review/apps.html", {"form": form, "page": page, "section": "apps"})


@require_http_methods(["GET", "POST"])
@app_manager_required
def app_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        app = selectors.app_for_staff(pk)
    except App.DoesNotExist as exc:
        raise Http404("No such app.") from exc
    form = StaffAppSettingsForm(request.POST or None, instance=App.objects.get(pk=app.pk))
    if request.method == "POST" and form.is_valid():
        try:
            app_services.update_app_settings(actor=request.user, app=app, **form.changes())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"Settings of {app.name} saved.")
            return redirect("review:app", pk=app.pk)
    return render(request, "appstore/review/app.html", {
        "app": app, "form": form, "section": "apps",
        "clients": portal_selectors.clients_with_live_configuration(app),
    })


review_urlpatterns = [
    path("apps/", app_list, name="apps"),
    path("apps/<int:pk>/", app_detail, name="app"),
]
