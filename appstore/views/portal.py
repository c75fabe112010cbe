"""The partner developer portal: sign-up, dashboard, apps, store listings, audit log.

Every view works inside the current partner (current_membership) and reaches objects only
through selectors that take that partner; another partner's object is a 404.
"""

from urllib.parse import urlencode

from allauth.account.utils import complete_signup
from allauth.account.views import SignupView
from allauth.core.exceptions import ImmediateHttpResponse
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse, reverse_lazy
from django.views.decorators.http import require_POST

from audit.selectors import entries_for_partner

from ..forms import (
    AppCreateForm,
    AppSettingsForm,
    AuditFilterForm,
    PartnerCreateForm,
    PartnerSignupForm,
    apply_service_errors,
)
from ..forms.listing import ImageAltForm, ImageUploadForm, ListingForm
from ..models import App, ImageKind, Invitation, ListingImage, ListingVersion, PartnerMember
from ..selectors import portal as portal_selectors
from ..selectors import team as team_selectors
from ..selectors.partners import SESSION_KEY, current_membership, listing_of, memberships_of
from ..services import apps as app_services
from ..services import listings as listing_services
from ..services import partners as partner_services
from ..services import team as team_services
from ..services.apps import TEMPLATE_DEFAULTS
from .common import change_log_download, get_app, portal_view, require

# ---------------------------------------------------------------- plumbing

def get_listing(member: PartnerMember, app_id: int, pk: int) -> ListingVersion:
    try:
        return listing_of(member.partner, app_id, pk)
    except ListingVersion.DoesNotExist as exc:
        raise Http404("No such listing version in your company.") from exc


def store_url(app: App) -> str:
    return reverse("store:app", kwargs={"partner_seo": app.partner.seo_name, "app_seo": app.seo_name})


def listing_url(listing: ListingVersion) -> str:
    return reverse("portal:listing", args=[listing.app_id, listing.pk])


# ---------------------------------------------------------------- sign-up and partners

class PartnerSignupView(SignupView):
    """allauth's sign-up that also registers the person's company as a new partner."""

    form_class = PartnerSignupForm
    template_name = "account/signup.html"
    success_url = reverse_lazy("portal:home")
    joining: Invitation | None = None

    def get_form_class(self):
        return self.form_class

    def get_form_kwargs(self):
        """?invitation=<token> (then a hidden field): join that partner instead of registering one."""
        token = self.request.POST.get("invitation") or self.request.GET.get("invitation") or ""
        found = team_selectors.invitation_by_token(token)
        self.joining = found if found is not None and not team_selectors.invitation_problem(found) else None
        kwargs = super().get_form_kwargs()
        if token and self.joining is None and self.request.method == "GET":
            messages.warning(self.request, "That invitation link is no longer valid; "
                                           "this form registers a new company.")
        elif token and self.joining is None:
            # Withdrawn, expired, used or re-sent while the form was open: nothing is saved, and the
            # company sign-up comes back with the name and address typed, blaming no field.
            problem = (team_selectors.invitation_problem(found) if found is not None
                       else "It may have been withdrawn or sent again with a new link.")
            messages.error(self.request, "No account was created: the invitation is no longer valid. "
                                         f"{problem} You can register your own company with this form "
                                         "instead.")
            kwargs.pop("data", None)
            kwargs.pop("files", None)
            kwargs["initial"] = {**kwargs.get("initial", {}),
                                 **{name: self.request.POST.get(name, "") for name in ("full_name", "email")}}
        return {**kwargs, "invitation": self.joining, "invitation_token": token}

    def get_template_names(self):
        return ["appstore/portal/invitation_signup.html"] if self.joining else super().get_template_names()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if self.joining:
            context["invitation"] = self.joining
            context["invitation_login_url"] = reverse("account_login") + "?" + urlencode(
                {"next": reverse("portal:invitation", args=[context["form"]["invitation"].value()])})
        return context

    def form_valid(self, form):
        try:
            with transaction.atomic():
                user, response = form.try_save(self.request)
                if response:
                    return response
                if form.invitation is not None:
                    partner = team_services.accept_invitation(
                        user=user, token=form.cleaned_data["invitation"]).partner
                else:
                    partner = partner_services.create_partner(
                        founder=user, name=form.cleaned_data["company_name"])
        except ValidationError as exc:
            # Another sign-up took the name (or the invitation was revoked) a moment ago;
            # the new account was rolled back too.
            errors = exc.message_dict.get("name") if hasattr(exc, "error_dict") else None
            form.add_error("company_name" if "company_name" in form.fields else None, errors or exc.messages)
            return self.form_invalid(form)
        self.user = user
        self.request.session[SESSION_KEY] = partner.pk
        try:
            return complete_signup(self.request, user, None, self.get_success_url())
        except ImmediateHttpResponse as exc:
            return exc.response


@login_required
def home(request):
    member = current_membership(request)
    if member is None:
        return render(request, "appstore/portal/no_partner.html", {
            "form": PartnerCreateForm(),
            "blocked": [m.partner for m in PartnerMember.objects.filter(user=request.user, can_login=False)
                        .select_related("partner")],
        })
    require(member, "read")
    return render(request, "appstore/portal/home.html", {
        "member": member,
        "cards": [(card, store_url(card.app) if card.live else "")
                  for card in portal_selectors.dashboard_cards(member.partner)],
    })


@login_required
def partner_create(request):
    """Any signed-in user may register a company; they become its administrator."""
    form = PartnerCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            partner = partner_services.create_partner(founder=request.user, name=form.cleaned_data["name"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            request.session[SESSION_KEY] = partner.pk
            messages.success(request, f"{partner.name} is registered. You are its administrator.")
            return redirect("portal:home")
    template = ("appstore/portal/no_partner.html" if current_membership(request) is None
                else "appstore/portal/partner_create.html")
    return render(request, template, {"form": form})


@login_required
@require_POST
def switch_partner(request):
    try:
        partner_id = int(request.POST.get("partner", ""))
    except ValueError as exc:
        raise Http404("Choose a company.") from exc
    member = memberships_of(request.user).filter(partner_id=partner_id).first()
    if member is None:
        raise Http404("You are not a member of that company.")
    request.session[SESSION_KEY] = member.partner_id
    messages.info(request, f"You are now working in {member.partner.name}.")
    return redirect("portal:home")


# ---------------------------------------------------------------- apps

@portal_view("app_store")
def app_create(request, member):
    form = AppCreateForm(request.POST or None, partner=member.partner, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            app = app_services.create_app(
                actor=request.user, partner=member.partner, name=data["name"],
                template=data["template"], is_custom=data["is_custom"],
                technical_contact=data["technical_contact"], redirect_urls=data["redirect_urls"],
                erp_endpoint_url=data["erp_endpoint_url"], quote_endpoint_url=data["quote_endpoint_url"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"{app.name} is created. Its first store listing draft is open.")
            if app.is_custom:
                messages.warning(request, "A custom app: the customer needs the Development Tools licence.")
            return redirect("portal:app", app_id=app.pk)
    return render(request, "appstore/portal/app_create.html", {
        "member": member, "form": form,
        "templates": [
            {"value": value, "label": label, "defaults": TEMPLATE_DEFAULTS[value],
             "standard_only": value in app_services.STANDARD_ONLY_TEMPLATES,
             "radio": next(r for r in form["template"] if r.data["value"] == value)}
            for value, label in form.fields["template"].choices
        ],
    })


@portal_view("read")
def app_detail(request, member, app_id: int):
    app = get_app(member, app_id)
    live = portal_selectors.live_version(app)
    return render(request, "appstore/portal/app_detail.html", {
        "clients": portal_selectors.clients_with_live_configuration(app),
        "member": member, "app": app, "versions": portal_selectors.versions_of(app),
        "open_version": portal_selectors.open_version(app), "live": live,
        "store_url": store_url(app) if live else "",
        "can_edit": member.has("app_store"),
        "clicks": portal_selectors.store_clicks(member.partner, app.pk),
        "click_days": portal_selectors.CLICK_WINDOW_DAYS,
    })


@portal_view("app_store")
def app_settings(request, member, app_id: int):
    app = get_app(member, app_id)
    form = AppSettingsForm(request.POST or None, app=app)
    if request.method == "POST" and form.is_valid():
        try:
            app_services.update_app_settings(actor=request.user, app=app, **form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, "Settings saved.")
            return redirect("portal:app", app_id=app.pk)
    return render(request, "appstore/portal/app_settings.html", {"member": member, "app": app, "form": form})


@portal_view("app_store")
@require_POST
def listing_new(request, member, app_id: int):
    app = get_app(member, app_id)
    try:
        listing = listing_services.create_listing_version(actor=request.user, app=app)
    except ValidationError as exc:
        messages.error(request, "New version: " + " ".join(exc.messages))
        return redirect("portal:app", app_id=app.pk)
    messages.success(request, f"Version {listing.label} is open, copied from the latest version.")
    return HttpResponseRedirect(listing_url(listing))


# ---------------------------------------------------------------- listing editor

def render_listing(request, member, listing, *, form=None, upload_forms=None):
    app = listing.app
    can_edit = member.has("app_store") and listing.is_editable
    images = portal_selectors.images_of(listing)
    upload_forms = upload_forms or {}
    return render(request, "appstore/portal/listing.html", {
        "member": member, "app": app, "listing": listing,
        "form": form or ListingForm(listing=listing, readonly=not can_edit),
        "can_edit": can_edit, "may_edit": member.has("app_store"),
        "image_sections": [
            {"kind": kind, "label": label, "multiple": kind == ImageKind.SCREENSHOT,
             "images": [img for img in images if img.kind == kind],
             "form": upload_forms.get(kind) or ImageUploadForm(kind=kind)}
            for kind, label in ImageKind.choices
        ],
        "missing": listing_services.missing_for_publish(listing) if listing.is_editable else [],
        "store_url": store_url(app) if listing.is_live else "",
    })


@portal_view("read")
def listing_editor(request, member, app_id: int, pk: int):
    listing = get_listing(member, app_id, pk)
    if request.method != "POST":
        return render_listing(request, member, listing)
    require(member, "app_store")
    validate_only = request.headers.get("X-Validate-Only") == "1"
    if not listing.is_editable:
        problem = f"Version {listing.label} is {listing.get_state_display().lower()} and cannot be changed."
        if validate_only:
            return JsonResponse({"__all__": [problem]}, status=409)
        messages.error(request, problem)
        return HttpResponseRedirect(listing_url(listing))
    form = ListingForm(request.POST, listing=listing)
    if validate_only:
        form.is_valid()
        return JsonResponse(form.errors_json())
    if form.is_valid():
        try:
            listing_services.update_listing(
                actor=request.user, listing=listing, fields=form.listing_fields(),
                categories=form.cleaned_data["categories"], languages=form.cleaned_data["languages"],
                markets=form.cleaned_data["markets"], links=form.links(), videos=form.videos())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            missing = listing_services.missing_for_publish(listing)
            messages.success(request, f"Version {listing.label} saved."
                             + (f" {len(missing)} item(s) still needed before you can request publishing."
                                if missing else " It is ready for a publish request."))
            return HttpResponseRedirect(listing_url(listing))
    return render_listing(request, member, listing, form=form)


@portal_view("app_store")
@require_POST
def listing_image_add(request, member, app_id: int, pk: int, kind: str):
    listing = get_listing(member, app_id, pk)
    if kind not in ImageKind.values:
        raise Http404("Unknown image kind.")
    form = ImageUploadForm(request.POST, request.FILES, kind=kind)
    if form.is_valid():
        try:
            listing_services.add_image(actor=request.user, listing=listing, kind=kind,
                                       upload=form.cleaned_data["image"],
                                       alt_text=form.cleaned_data["alt_text"])
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, f"{form.kind_label} uploaded.")
            return HttpResponseRedirect(listing_url(listing) + "#images")
    return render_listing(request, member, listing, upload_forms={kind: form})


@portal_view("app_store")
@require_POST
def listing_image_edit(request, member, app_id: int, pk: int, image_id: int):
    listing = get_listing(member, app_id, pk)
    try:
        image = portal_selectors.image_of(listing, image_id)
    except ListingImage.DoesNotExist as exc:
        raise Http404("No such image in this listing version.") from exc
    action = request.POST.get("action", "")
    try:
        if action == "delete":
            listing_services.update_image(actor=request.user, image=image, delete=True)
            messages.success(request, f"{image.get_kind_display()} removed.")
        elif action in ("up", "down"):
            listing_services.update_image(actor=request.user, image=image,
                                          move=-1 if action == "up" else 1)
        elif action == "alt":
            form = ImageAltForm(request.POST)
            if not form.is_valid():
                raise ValidationError({"alt_text": form.errors["alt_text"]})
            listing_services.update_image(actor=request.user, image=image,
                                          alt_text=form.cleaned_data["alt_text"])
            messages.success(request, "Alt text saved.")
        else:
            raise Http404("Unknown image action.")
    except ValidationError as exc:
        label = {"alt_text": "Alt text"}
        for field, errors in getattr(exc, "message_dict", {"": exc.messages}).items():
            messages.error(request, (f"{label.get(field, field)}: " if field else "") + " ".join(errors))
    return HttpResponseRedirect(listing_url(listing) + "#images")


@portal_view("app_store")
@require_POST
def listing_request(request, member, app_id: int, pk: int):
    listing = get_listing(member, app_id, pk)
    try:
        listing_services.request_publish(actor=request.user, listing=listing)
    except ValidationError as exc:
        messages.error(request, "Publishing cannot be requested yet: " + " ".join(exc.messages))
    else:
        messages.success(request, f"Publishing of version {listing.label} requested. "
                                  "The version is locked while staff review it.")
    return HttpResponseRedirect(listing_url(listing))


@portal_view("app_store")
@require_POST
def listing_withdraw(request, member, app_id: int, pk: int):
    listing = get_listing(member, app_id, pk)
    try:
        listing_services.withdraw_request(actor=request.user, listing=listing)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Request withdrawn; version {listing.label} is a draft again.")
    return HttpResponseRedirect(listing_url(listing))


@portal_view("read")
def listing_changes(request, member, app_id: int, pk: int):
    """The change log of one listing version, as a JSON download."""
    listing = get_listing(member, app_id, pk)
    return change_log_download(
        owner={"app": {"id": listing.app_id, "name": listing.app.name}},
        version_key="listing_version",
        version={"id": listing.pk, "label": listing.label, "state": listing.state},
        entries=portal_selectors.listing_change_log(listing),
        filename=f"{listing.app.seo_name}-listing-{listing.pk}-changes.json")


# ---------------------------------------------------------------- audit

def shown(value) -> object:
    """A logged value as people read it: lists joined, mappings as key: value."""
    if isinstance(value, list | tuple):
        return ", ".join(str(shown(item)) for item in value)
    if isinstance(value, dict):
        return "; ".join(f"{key}: {shown(item)}" for key, item in value.items())
    return value


def change_rows(changes) -> list[tuple[str, object, object]]:
    rows = []
    for field, value in (changes or {}).items():
        if isinstance(value, list | tuple) and len(value) == 2:
            rows.append((field.replace("_", " "), shown(value[0]), shown(value[1])))
        else:
            rows.append((field.replace("_", " "), None, shown(value)))
    return rows


@portal_view("read")
def audit_log(request, member):
    form = AuditFilterForm(request.GET or None, partner=member.partner)
    filters = {}
    if form.is_bound:
        form.is_valid()
        filters = form.filters()
    entries = entries_for_partner(partner_id=member.partner_id, **filters)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    for entry in page:
        entry.change_rows = change_rows(entry.changes)
    return render(request, "appstore/portal/audit.html", {"member": member, "form": form, "page": page})


urlpatterns = [
    path("", home, name="home"),
    path("switch/", switch_partner, name="switch_partner"),
    path("companies/new/", partner_create, name="partner_create"),
    path("apps/new/", app_create, name="app_create"),
    path("apps/<int:app_id>/", app_detail, name="app"),
    path("apps/<int:app_id>/settings/", app_settings, name="app_settings"),
    path("apps/<int:app_id>/listing/new/", listing_new, name="listing_new"),
    path("apps/<int:app_id>/listing/<int:pk>/", listing_editor, name="listing"),
    path("apps/<int:app_id>/listing/<int:pk>/request/", listing_request, name="listing_request"),
    path("apps/<int:app_id>/listing/<int:pk>/withdraw/", listing_withdraw, name="listing_withdraw"),
    path("apps/<int:app_id>/listing/<int:pk>/images/<slug:kind>/", listing_image_add,
         name="listing_image_add"),
    path("apps/<int:app_id>/listing/<int:pk>/image/<int:image_id>/", listing_image_edit,
         name="listing_image"),
    path("apps/<int:app_id>/listing/<int:pk>/changes.json", listing_changes, name="listing_changes"),
    path("audit/", audit_log, name="audit"),
]
