"""Configuration versions: the partner's editor and versions list, and the staff review page.

Partner views reach versions only through the current partner's selectors (another
partner's version is a 404); every write goes through appstore.services.configuration.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from tenants.models import Environment

from .. import urlrules
from ..forms import apply_service_errors
from ..forms.configuration import SEEN_FIELD, ConfigurationForm, CustomerForm, StaffSettingsForm, seen_value
from ..models import App, ConfigurationVersion, PartnerMember, VersionState
from ..selectors import configuration as selectors
from ..services import configuration as services
from ..services import configuration_fields as fields
from ..services import configuration_review as review_services
from .common import app_manager_required, change_log_download, get_app, portal_view, require
from .review import FINGERPRINT_FIELD, RejectForm

# ---------------------------------------------------------------- plumbing


def get_version(member: PartnerMember, app_id: int, pk: int) -> ConfigurationVersion:
    try:
        return selectors.configuration_of(member.partner, app_id, pk)
    except ConfigurationVersion.DoesNotExist as exc:
        raise Http404("No such configuration version in your company.") from exc


def editor_url(version: ConfigurationVersion) -> str:
    return reverse("portal:configuration", args=[version.app_id, version.pk])


def asks_for_customer(app: App) -> bool:
    return bool(app.is_custom and app.customer_requested_at and not app.customer_context_identifier)


def is_stale(exc: ValidationError) -> bool:
    return getattr(exc, "code", None) == services.STALE_FORM_CODE


def is_locked(exc: ValidationError) -> bool:
    return getattr(exc, "code", None) == services.LOCKED_CODE


# What the editor says when a save is refused although no field is wrong.
LOCKED_PENDING_NOTICE = ("Not saved — this version was sent for review since you opened it, so it is "
                         "locked. What you typed is shown below: copy your changes, then withdraw the "
                         "request to change this version, or copy them into a new version after the "
                         "decision.")
LOCKED_PUBLISHED_NOTICE = ("Not saved — this version was published since you opened it, so it is locked. "
                           "What you typed is shown below: copy your changes into a new version.")
STALE_NOTICE = ("Not saved — someone saved this version since you opened it. Your values are shown "
                "below; saving again replaces theirs.")
STAFF_STALE_NOTICE = ("Not saved — someone changed this version since you opened it. Your values are "
                      "shown; saving again replaces the current ones.")


def with_current_seen(data, version: ConfigurationVersion):
    """The posted data, marked as seen against the version as it is now."""
    data = data.copy()
    data[SEEN_FIELD] = seen_value(version)
    return data


# ---------------------------------------------------------------- versions list

def render_versions(request, member, app, *, customer_form=None, status=200):
    return render(request, "appstore/portal/configurations.html", {
        "member": member, "app": app,
        "groups": selectors.versions_by_environment(member.partner, app.pk),
        "can_edit": member.has("configuration"),
        "customer_form": customer_form or (CustomerForm() if asks_for_customer(app) else None),
    }, status=status)


@portal_view("read")
def configurations(request, member, app_id: int):
    return render_versions(request, member, get_app(member, app_id))


@portal_view("configuration")
@require_POST
def configuration_new(request, member, app_id: int, env: str):
    app = get_app(member, app_id)
    environment = Environment.objects.filter(code=env).first()
    if environment is None:
        raise Http404("No such environment.")
    try:
        version = services.create_configuration_version(actor=request.user, app=app, environment=environment)
    except ValidationError as exc:
        messages.error(request, f"New version for {env}: " + " ".join(exc.messages))
        return redirect("portal:configurations", app_id=app.pk)
    messages.success(request, f"Version {version.label} for {env} is open, copied from the latest version.")
    return redirect(editor_url(version))


@portal_view("configuration")
@require_POST
def configuration_customer(request, member, app_id: int):
    app = get_app(member, app_id)
    form = CustomerForm(request.POST)
    if form.is_valid():
        try:
            services.set_custom_customer(actor=request.user, app=app,
                                         customer_name=form.cleaned_data["customer_name"],
                                         context_identifier=form.cleaned_data["context_identifier"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "Thank you: staff can now activate the app for that customer.")
            return redirect("portal:configurations", app_id=app.pk)
    return render_versions(request, member, app, customer_form=form, status=400)


# ---------------------------------------------------------------- editor

def render_editor(request, member, version, *, form=None, notice="", status=200):
    may_edit = member.has("configuration")
    can_edit = may_edit and version.is_editable
    return render(request, "appstore/portal/configuration.html", {
        "member": member, "app": version.app, "version": version, "notice": notice,
        "form": form or ConfigurationForm(version=version, readonly=not can_edit),
        "can_edit": can_edit, "may_edit": may_edit,
        "direct": version.environment.code not in services.REVIEWED_ENVIRONMENTS,
        "missing": services.missing_for_publish(version) if version.is_editable else [],
        "staff_settings": [
            ("API endpoints", version.api_endpoints), ("Agents", version.agents),
            ("Claims", version.claims),
            ("Custom claims", [f"{k} = {v}" for k, v in (version.custom_claims or {}).items()]),
            ("Authorization level", [version.get_authorization_level_display()]),
        ],
        "seen_field": SEEN_FIELD,
    }, status=status)


@portal_view("read")
def configuration_editor(request, member, app_id: int, pk: int):
    version = get_version(member, app_id, pk)
    if request.method != "POST":
        return render_editor(request, member, version)
    require(member, "configuration")
    if not version.is_editable:
        return render_locked(request, member, version)
    form = ConfigurationForm(request.POST, version=version)
    if not form.is_valid():
        return render_editor(request, member, version, form=form, status=400)
    try:
        services.update_configuration_version(
            actor=request.user, version=version,
            seen_updated_at=form.cleaned_data[SEEN_FIELD] or None, **form.service_fields())
    except ValidationError as exc:
        if is_locked(exc):
            return render_locked(request, member, get_version(member, app_id, pk))
        if is_stale(exc):
            # The typed values stay; the hidden marker now names the current version, so
            # saving again is a deliberate choice to replace what the other person saved.
            current = get_version(member, app_id, pk)
            form = ConfigurationForm(with_current_seen(request.POST, current), version=current)
            return render_editor(request, member, current, form=form, notice=STALE_NOTICE, status=409)
        apply_service_errors(form, exc)
        return render_editor(request, member, version, form=form, status=400)
    version.refresh_from_db()
    missing = services.missing_for_publish(version)
    messages.success(request, f"Version {version.label} saved."
                     + (f" {len(missing)} item(s) still needed before publishing." if missing
                        else " It is ready to publish."))
    return redirect(editor_url(version))


def render_locked(request, member, version):
    """The version was locked after the page was opened: keep what was typed, read-only, to copy."""
    form = ConfigurationForm(request.POST, version=version, locked=True)
    form.suppress_errors()
    notice = LOCKED_PENDING_NOTICE if version.state == VersionState.PENDING else LOCKED_PUBLISHED_NOTICE
    return render_editor(request, member, version, form=form, notice=notice, status=409)


@portal_view("configuration")
@require_POST
def configuration_publish(request, member, app_id: int, pk: int):
    version = get_version(member, app_id, pk)
    try:
        version = services.publish_configuration(actor=request.user, version=version)
    except ValidationError as exc:
        messages.error(request, "Not published yet: " + " ".join(exc.messages))
    else:
        if version.state == VersionState.PUBLISHED:
            messages.success(request, f"Version {version.label} is live in {version.environment.code}.")
        else:
            messages.success(request, f"Publishing of version {version.label} to {version.environment.code} "
                                      "requested. The version is locked while staff review it.")
    return redirect(editor_url(version))


@portal_view("configuration")
@require_POST
def configuration_withdraw(request, member, app_id: int, pk: int):
    version = get_version(member, app_id, pk)
    try:
        services.withdraw_configuration_request(actor=request.user, version=version)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Request withdrawn; version {version.label} is a draft again.")
    return redirect(editor_url(version))


@portal_view("read")
def configuration_changes(request, member, app_id: int, pk: int):
    """The change log of one configuration version, as a JSON download."""
    version = get_version(member, app_id, pk)
    return change_log_download(
        owner={"app": {"id": version.app_id, "name": version.app.name}},
        version_key="configuration_version",
        version={"id": version.pk, "label": version.label, "state": version.state,
                 "environment": version.environment.code},
        entries=selectors.configuration_change_log(version),
        filename=f"{version.app.seo_name}-configuration-{version.pk}-changes.json")


@portal_view("read")
@require_GET
def configuration_url_test(request, member, app_id: int):
    """Does a URL match a redirect entry? Pure: reads nothing but the app, stores nothing."""
    app = get_app(member, app_id)
    entry = request.GET.get("pattern", "").strip()
    url = request.GET.get("url", "").strip()
    if not entry:
        return JsonResponse({"error": "Enter a redirect URL or a pattern starting with ^."}, status=400)
    if not url:
        return JsonResponse({"error": "Enter the URL to test."}, status=400)
    # The most permissive list (sod) decides; an entry no list accepts is refused with the rule's reason.
    problem = urlrules.check_entry(entry, kind=urlrules.REDIRECT, scope="sod", native=app.is_native)
    if problem:
        return JsonResponse({"error": problem}, status=400)
    result = urlrules.explain_match(entry, url)
    return JsonResponse({"matches": result.matches, **({"reason": result.reason} if result.reason else {})})


# ---------------------------------------------------------------- staff review

def render_review(request, version, *, reject_form=None, staff_form=None, status=200):
    baseline = selectors.baseline_for(version)
    rows = selectors.configuration_comparison(version, baseline)
    is_pending = version.state == VersionState.PENDING
    # Published: what it widened when it went live; otherwise what approving it would widen.
    widened = (version.widened if version.state == VersionState.PUBLISHED
               else services.widened_between(version, baseline))
    return render(request, "appstore/review/configuration.html", {
        "version": version, "app": version.app, "partner": version.app.partner, "baseline": baseline,
        "rows": rows, "changed_rows": [r for r in rows if r.changed], "is_pending": is_pending,
        "widened": widened, "reject_form": reject_form or RejectForm(),
        "fingerprint_field": FINGERPRINT_FIELD,
        "fingerprint": fields.configuration_fingerprint(version) if is_pending else "",
        "staff_form": (staff_form or StaffSettingsForm(version=version)) if version.is_editable else None,
        "missing": services.missing_for_publish(version) if version.is_editable else [],
        "others": selectors.other_versions(version),
        "custom_stage": version.app.is_custom and version.environment.code == "stage",
    }, status=status)


def get_review_version(pk: int) -> ConfigurationVersion:
    try:
        return selectors.configuration_for_review(pk)
    except ConfigurationVersion.DoesNotExist as exc:
        raise Http404("No such configuration version.") from exc


@require_http_methods(["GET", "POST"])
@app_manager_required
def review_configuration(request: HttpRequest, pk: int) -> HttpResponse:
    version = get_review_version(pk)
    if request.method != "POST":
        return render_review(request, version)
    action = request.POST.get("action")
    seen = request.POST.get(FINGERPRINT_FIELD, "")
    if action == "approve":
        try:
            review_services.approve_configuration(actor=request.user, version=version, seen_fingerprint=seen)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("review:configuration", pk=version.pk)
        where = version.environment.code
        if version.app.is_custom and where == "stage":
            where = "stage and online (custom app, Explicit level); the partner is asked for the customer"
        messages.success(request, f"{version.app.name} configuration {version.label} is approved and live in "
                                  f"{where}; the technical contact has been told.")
        return redirect("review:queue")
    if action != "reject":
        return HttpResponseBadRequest("Unknown action.")
    form = RejectForm(request.POST)
    if not form.is_valid():
        return render_review(request, version, reject_form=form, status=400)
    try:
        review_services.reject_configuration(actor=request.user, version=version,
                                             reason=form.cleaned_data["reason"], seen_fingerprint=seen)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            apply_service_errors(form, exc)
            return render_review(request, version, reject_form=form, status=400)
        if is_stale(exc):
            # Keep the typed reason; show the current content beside it.
            form.add_error(None, exc)
            return render_review(request, get_review_version(pk), reject_form=form, status=409)
        messages.error(request, " ".join(exc.messages))
        return redirect("review:configuration", pk=version.pk)
    messages.success(request, f"{version.app.name} configuration {version.label} is rejected; "
                              "the technical contact has been sent the reason.")
    return redirect("review:queue")


@require_POST
@app_manager_required
def review_staff_settings(request: HttpRequest, pk: int) -> HttpResponse:
    """Staff change the staff-only settings of a draft or rejected version."""
    version = get_review_version(pk)
    form = StaffSettingsForm(request.POST, version=version)
    if not version.is_editable:
        messages.error(request, services.LOCKED_PENDING if version.state == VersionState.PENDING
                       else services.LOCKED_PUBLISHED)
        return redirect("review:configuration", pk=version.pk)
    if not form.is_valid():
        return render_review(request, version, staff_form=form, status=400)
    try:
        services.update_configuration_version(actor=request.user, version=version,
                                              seen_updated_at=form.cleaned_data[SEEN_FIELD] or None,
                                              **form.service_fields())
    except ValidationError as exc:
        if is_stale(exc):
            current = get_review_version(pk)
            form = StaffSettingsForm(with_current_seen(request.POST, current), version=current)
            form.is_valid()
            form.add_error(None, STAFF_STALE_NOTICE)
            return render_review(request, current, staff_form=form, status=409)
        apply_service_errors(form, exc)
        return render_review(request, version, staff_form=form, status=400)
    messages.success(request, f"Staff settings of version {version.label} saved.")
    return redirect("review:configuration", pk=version.pk)


portal_urlpatterns = [
    path("apps/<int:app_id>/configuration/", configurations, name="configurations"),
    path("apps/<int:app_id>/configuration/new/<slug:env>/", configuration_new, name="configuration_new"),
    path("apps/<int:app_id>/configuration/customer/", configuration_customer, name="configuration_customer"),
    path("apps/<int:app_id>/configuration/url-test/", configuration_url_test, name="configuration_url_test"),
    path("apps/<int:app_id>/configuration/<int:pk>/", configuration_editor, name="configuration"),
    path("apps/<int:app_id>/configuration/<int:pk>/publish/", configuration_publish,
         name="configuration_publish"),
    path("apps/<int:app_id>/configuration/<int:pk>/withdraw/", configuration_withdraw,
         name="configuration_withdraw"),
    path("apps/<int:app_id>/configuration/<int:pk>/changes.json", configuration_changes,
         name="configuration_changes"),
]

review_urlpatterns = [
    path("configurations/<int:pk>/", review_configuration, name="configuration"),
    path("configurations/<int:pk>/staff-settings/", review_staff_settings,
         name="configuration_staff_settings"),
]
