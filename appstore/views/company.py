"""The company pages of the portal (settings and the versioned public profile) and the staff
review page of one profile version.

Portal views work inside the current partner and reach profile versions only through
selectors that take it; another partner's version is a 404.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.views.decorators.http import require_http_methods, require_POST

from audit.selectors import entries_for_target

from ..forms import apply_service_errors
from ..forms.company import SEEN_FIELD, CompanySettingsForm, LogoUploadForm, ProfileForm
from ..models import PartnerMember, PartnerProfileVersion, VersionState
from ..selectors import profile as selectors
from ..selectors.store import live_listings
from ..services import partners as partner_services
from ..services import profile as profile_services
from ..services.review import STALE_VERSION_CODE
from .common import app_manager_required, change_log_download, portal_view, require
from .review import FINGERPRINT_FIELD, RejectForm

# ---------------------------------------------------------------- plumbing


def get_profile(member: PartnerMember, pk: int) -> PartnerProfileVersion:
    try:
        return selectors.profile_of(member.partner, pk)
    except PartnerProfileVersion.DoesNotExist as exc:
        raise Http404("No such profile version in your company.") from exc


def profile_url(version: PartnerProfileVersion) -> str:
    return reverse("portal:profile", args=[version.pk])


def partner_store_url(partner) -> str:
    """The public partner page, when there is one (it lists the partner's live apps)."""
    if live_listings().filter(app__partner=partner).exists():
        return reverse("store:partner", args=[partner.seo_name])
    return ""


def locked_message(version: PartnerProfileVersion) -> str:
    return f"Version {version.label} is {version.get_state_display().lower()} and cannot be changed."


# What the editor says when a save is refused although no field is wrong.
LOCKED_PENDING_NOTICE = ("Not saved — this version was sent for review since you opened it, so it is "
                         "locked. What you typed is shown below: copy your changes, then withdraw the "
                         "request to change this version, or copy them into a new version after the "
                         "decision.")
LOCKED_PUBLISHED_NOTICE = ("Not saved — this version was published since you opened it, so it is "
                           "locked. What you typed is shown below: copy your changes into a new "
                           "version, opened from the company page.")
STALE_NOTICE = ("Not saved — someone saved this version since you opened it. Your values are shown "
                "below; saving again replaces theirs.")


def locked_notice(version: PartnerProfileVersion) -> str:
    return LOCKED_PENDING_NOTICE if version.state == VersionState.PENDING else LOCKED_PUBLISHED_NOTICE


def with_current_seen(data, version: PartnerProfileVersion, field: str = SEEN_FIELD):
    """The posted data, marked as seen against the version as it is now."""
    data = data.copy()
    data[field] = version.updated_at.isoformat()
    return data


# ---------------------------------------------------------------- settings

@portal_view("read")
def company(request: HttpRequest, member: PartnerMember) -> HttpResponse:
    partner = member.partner
    staff = request.user.is_app_manager
    can_edit = staff or member.has("users")
    status = 200
    if request.method == "POST":
        if not staff:
            require(member, "users")
        form = CompanySettingsForm(request.POST, partner=partner, staff=staff)
        if form.is_valid():
            try:
                partner_services.update_partner_settings(actor=request.user, partner=partner,
                                                         **form.changes())
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, "Company settings saved.")
                return redirect("portal:company")
        status = 400
    else:
        form = CompanySettingsForm(partner=partner, staff=staff, readonly=not can_edit)
    return render(request, "appstore/portal/company.html", {
        "member": member, "partner": partner, "form": form, "can_edit": can_edit, "staff": staff,
        "versions": selectors.profile_versions_of(partner),
        "open_version": selectors.open_profile_version(partner),
        "live": selectors.live_profile(partner),
        "may_edit_profile": member.has("app_store"),
        "store_url": partner_store_url(partner),
    }, status=status)


# ---------------------------------------------------------------- profile versions

@portal_view("app_store")
@require_POST
def profile_new(request: HttpRequest, member: PartnerMember) -> HttpResponse:
    try:
        version = profile_services.create_profile_version(actor=request.user, partner=member.partner)
    except ValidationError as exc:
        messages.error(request, "New version: " + " ".join(exc.messages))
        return redirect("portal:company")
    messages.success(request, f"Profile version {version.label} is open"
                     + (", copied from the latest version." if version.label != "1.0" else "."))
    return HttpResponseRedirect(profile_url(version))


def render_profile(request: HttpRequest, member: PartnerMember, version: PartnerProfileVersion, *,
                   form: ProfileForm | None = None, logo_form: LogoUploadForm | None = None,
                   notice: str = "", logo_notice: str = "", status: int = 200) -> HttpResponse:
    can_edit = member.has("app_store") and version.is_editable
    return render(request, "appstore/portal/profile.html", {
        "member": member, "partner": member.partner, "version": version,
        "notice": notice, "logo_notice": logo_notice,
        "form": form or ProfileForm(version=version, readonly=not can_edit),
        "logo_form": logo_form or LogoUploadForm(version=version),
        "can_edit": can_edit, "may_edit": member.has("app_store"),
        "missing": profile_services.missing_for_publish(version) if version.is_editable else [],
        "store_url": partner_store_url(member.partner) if version.is_live else "",
    }, status=status)


def is_stale(exc: ValidationError) -> bool:
    return getattr(exc, "code", None) == profile_services.STALE_FORM_CODE


def is_locked(exc: ValidationError) -> bool:
    return getattr(exc, "code", None) == profile_services.LOCKED_CODE


def render_locked(request: HttpRequest, member: PartnerMember,
                  version: PartnerProfileVersion) -> HttpResponse:
    """The version was locked after the page was opened: keep what was typed, read-only, to copy."""
    form = ProfileForm(request.POST, version=version, locked=True)
    form.suppress_errors()
    return render_profile(request, member, version, form=form, notice=locked_notice(version),
                          status=409)


@portal_view("read")
def profile_editor(request: HttpRequest, member: PartnerMember, pk: int) -> HttpResponse:
    version = get_profile(member, pk)
    if request.method != "POST":
        return render_profile(request, member, version)
    require(member, "app_store")
    if not version.is_editable:
        return render_locked(request, member, version)
    form = ProfileForm(request.POST, version=version)
    if not form.is_valid():
        return render_profile(request, member, version, form=form, status=400)
    try:
        profile_services.update_profile_version(
            actor=request.user, version=version,
            seen_updated_at=form.cleaned_data[SEEN_FIELD], **form.profile_fields())
    except ValidationError as exc:
        if is_locked(exc):
            return render_locked(request, member, get_profile(member, pk))
        if is_stale(exc):
            # The typed values stay; the hidden marker now names the current version, so
            # saving again is a deliberate choice to replace what the other person saved.
            current = get_profile(member, pk)
            form = ProfileForm(with_current_seen(request.POST, current), version=current)
            return render_profile(request, member, current, form=form, notice=STALE_NOTICE,
                                  status=409)
        apply_service_errors(form, exc)
        return render_profile(request, member, version, form=form, status=400)
    missing = profile_services.missing_for_publish(selectors.profile_of(member.partner, pk))
    messages.success(request, f"Version {version.label} saved."
                     + (f" {len(missing)} item(s) still needed before you can request publishing."
                        if missing else " It is ready for a publish request."))
    return HttpResponseRedirect(profile_url(version))


def logo_locked(request: HttpRequest, version: PartnerProfileVersion) -> HttpResponse:
    """A logo posted to a version locked since the page was opened (a file cannot be shown again)."""
    if version.state == VersionState.PENDING:
        text = (f"Logo not changed — version {version.label} was sent for review since you opened it, "
                "so it is locked. Withdraw the request to change it.")
    else:
        text = (f"Logo not changed — version {version.label} is published, so it is locked. "
                "Open a new version from the company page to change the logo.")
    messages.error(request, text)
    return HttpResponseRedirect(profile_url(version) + "#logo")


@portal_view("app_store")
@require_POST
def profile_logo(request: HttpRequest, member: PartnerMember, pk: int) -> HttpResponse:
    version = get_profile(member, pk)
    if not version.is_editable:
        return logo_locked(request, version)
    form = LogoUploadForm(request.POST, request.FILES, version=version)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if data["logo"]:
                profile_services.set_profile_logo(
                    actor=request.user, version=version, upload=data["logo"],
                    alt_text=data["alt_text"], seen_updated_at=data[SEEN_FIELD])
            else:
                profile_services.update_profile_version(
                    actor=request.user, version=version, logo_alt=data["alt_text"],
                    seen_updated_at=data[SEEN_FIELD])
        except ValidationError as exc:
            if is_locked(exc):
                return logo_locked(request, get_profile(member, pk))
            if is_stale(exc):
                current = get_profile(member, pk)
                form = LogoUploadForm(with_current_seen(request.POST, current, "logo-" + SEEN_FIELD),
                                      version=current)
                notice = STALE_NOTICE + (" Choose the logo file again." if data["logo"] else "")
                return render_profile(request, member, current, logo_form=form,
                                      logo_notice=notice, status=409)
            if hasattr(exc, "error_dict") and "logo_alt" in exc.error_dict:
                exc.error_dict["alt_text"] = exc.error_dict.pop("logo_alt")
            apply_service_errors(form, exc)
            return render_profile(request, member, version, logo_form=form, status=400)
        messages.success(request, "Logo uploaded." if data["logo"] else "Logo alt text saved.")
        return HttpResponseRedirect(profile_url(version) + "#logo")
    return render_profile(request, member, version, logo_form=form, status=400)


@portal_view("app_store")
@require_POST
def profile_request(request: HttpRequest, member: PartnerMember, pk: int) -> HttpResponse:
    version = get_profile(member, pk)
    try:
        profile_services.request_profile_publish(actor=request.user, version=version)
    except ValidationError as exc:
        messages.error(request, "Publishing cannot be requested yet: " + " ".join(exc.messages))
    else:
        messages.success(request, f"Publishing of profile version {version.label} requested. "
                                  "The version is locked while staff review it.")
    return HttpResponseRedirect(profile_url(version))


@portal_view("app_store")
@require_POST
def profile_withdraw(request: HttpRequest, member: PartnerMember, pk: int) -> HttpResponse:
    version = get_profile(member, pk)
    try:
        profile_services.withdraw_profile_request(actor=request.user, version=version)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Request withdrawn; version {version.label} is a draft again.")
    return HttpResponseRedirect(profile_url(version))


@portal_view("read")
def profile_changes(request: HttpRequest, member: PartnerMember, pk: int) -> HttpResponse:
    """The change log of one profile version, as a JSON download."""
    version = get_profile(member, pk)
    return change_log_download(
        owner={"partner": {"id": member.partner_id, "name": member.partner.name}},
        version_key="profile_version",
        version={"id": version.pk, "label": version.label, "state": version.state},
        entries=entries_for_target(version),
        filename=f"{member.partner.seo_name}-profile-{version.pk}-changes.json")


# ---------------------------------------------------------------- staff review

@require_http_methods(["GET", "POST"])
@app_manager_required
def review_profile(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        version = selectors.profile_for_review(pk)
    except PartnerProfileVersion.DoesNotExist as exc:
        raise Http404("No such profile version.") from exc
    reject_form = RejectForm()
    status = 200
    if request.method == "POST":
        action = request.POST.get("action")
        # Always passed on: a form without it was not rendered from this page's content.
        seen = request.POST.get(FINGERPRINT_FIELD, "")
        if action == "approve":
            try:
                profile_services.approve_profile(actor=request.user, version=version,
                                                 seen_fingerprint=seen)
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
                return redirect("review:profile", pk=version.pk)
            messages.success(request, f"Profile {version.label} of {version.partner.name} is approved "
                                      "and live; the technical contact has been told.")
            return redirect("review:queue")
        if action != "reject":
            return HttpResponseBadRequest("Unknown action.")
        reject_form = RejectForm(request.POST)
        if reject_form.is_valid():
            try:
                profile_services.reject_profile(actor=request.user, version=version,
                                                reason=reject_form.cleaned_data["reason"],
                                                seen_fingerprint=seen)
            except ValidationError as exc:
                if getattr(exc, "code", None) != STALE_VERSION_CODE and not hasattr(exc, "error_dict"):
                    messages.error(request, " ".join(exc.messages))
                    return redirect("review:profile", pk=version.pk)
                # Keep the typed reason; show the current content beside it.
                apply_service_errors(reject_form, exc)
                status = 409 if getattr(exc, "code", None) == STALE_VERSION_CODE else 400
            else:
                messages.success(request, f"Profile {version.label} of {version.partner.name} is "
                                          "rejected; the technical contact has been sent the reason.")
                return redirect("review:queue")
        else:
            status = 400
        version = selectors.profile_for_review(pk)

    baseline = selectors.profile_baseline(version)
    rows = selectors.profile_comparison(version, baseline)
    is_pending = version.state == VersionState.PENDING
    return render(request, "appstore/review/profile.html", {
        "version": version, "partner": version.partner, "baseline": baseline, "rows": rows,
        "changed_rows": [row for row in rows if row.changed], "is_pending": is_pending,
        "reject_form": reject_form, "fingerprint_field": FINGERPRINT_FIELD,
        "fingerprint": profile_services.profile_fingerprint(version) if is_pending else "",
    }, status=status)


portal_urlpatterns = [
    path("company/", company, name="company"),
    path("company/profile/new/", profile_new, name="profile_new"),
    path("company/profile/<int:pk>/", profile_editor, name="profile"),
    path("company/profile/<int:pk>/logo/", profile_logo, name="profile_logo"),
    path("company/profile/<int:pk>/request/", profile_request, name="profile_request"),
    path("company/profile/<int:pk>/withdraw/", profile_withdraw, name="profile_withdraw"),
    path("company/profile/<int:pk>/changes.json", profile_changes, name="profile_changes"),
]

review_urlpatterns = [
    path("profiles/<int:pk>/", review_profile, name="profile"),
]
