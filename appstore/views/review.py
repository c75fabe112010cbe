"""Staff review pages: the queue of listing versions, one version beside the live one, the audit log.

Only App-manager staff reach any of them; everything they change goes through
appstore.services.listings.
"""

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods

from audit.models import AuditEntry

from ..models import ListingVersion, VersionState
from ..selectors import review as selectors
from ..selectors.configuration import pending_configurations
from ..selectors.profile import pending_profiles
from ..services.configuration_review import MAX_REASON_LENGTH
from ..services.listings import listing_fingerprint
from ..services.review import STALE_VERSION_CODE, approve_listing, reject_listing
from .common import app_manager_required

QUEUE_PAGE_SIZE = 25
AUDIT_PAGE_SIZE = 50
# An audit value longer than this is cut in the list, with more of it behind a "Show more".
AUDIT_VALUE_PREVIEW = 300
# Never more than this of one value on the page: the page stays small whatever was stored.
AUDIT_VALUE_LIMIT = 5000
# The hidden field on both decision forms: listing_fingerprint() of what the page showed.
FINGERPRINT_FIELD = "seen_fingerprint"


# ---------------------------------------------------------------- forms

class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Reason", widget=forms.Textarea(attrs={"rows": 5}), max_length=MAX_REASON_LENGTH,
        help_text=f"The partner's technical contact receives this by e-mail and sees it in the portal. "
                  f"At most {MAX_REASON_LENGTH:,} characters.",
        error_messages={
            "required": "Say why the version is rejected; the partner sees it.",
            "max_length": "A reason may have at most %(limit_value)s characters; this one has "
                          "%(show_value)s. Shorten it.",
        },
    )


class AuditFilterForm(forms.Form):
    partner = forms.ModelChoiceField(queryset=None, required=False, empty_label="All partners")
    source = forms.ChoiceField(required=False,
                               choices=[("", "All sources"), *AuditEntry.Source.choices])
    event_type = forms.ChoiceField(required=False, label="Event type")
    date_from = forms.DateField(required=False, label="From",
                                widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To",
                              widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = selectors.partners_for_filter()
        self.fields["event_type"].choices = [("", "All event types")] + [
            (value, event_label(value)) for value in selectors.audit_event_types()]

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", "The end date is before the start date.")
        return data


def event_label(event_type: str) -> str:
    return event_type.replace("_", " ").capitalize()


def change_text(value) -> str:
    """One side of an audit change as readable text ("" when there was nothing)."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return "; ".join(f"{key}: {change_text(item)}" for key, item in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(change_text(item) for item in value)
    return str(value)


@dataclass(frozen=True)
class ShownValue:
    """One side of an audit change as the list shows it: a preview and, when cut, more of it."""

    preview: str
    more: str = ""
    length: int = 0
    clipped: bool = False

    def __bool__(self) -> bool:
        return bool(self.preview)


def shown_value(text: str) -> ShownValue:
    if len(text) <= AUDIT_VALUE_PREVIEW:
        return ShownValue(preview=text, length=len(text))
    return ShownValue(preview=text[:AUDIT_VALUE_PREVIEW - 1] + "…", more=text[:AUDIT_VALUE_LIMIT],
                      length=len(text), clipped=len(text) > AUDIT_VALUE_LIMIT)


def change_rows(changes) -> list[tuple[str, ShownValue, ShownValue]]:
    if not isinstance(changes, dict):
        return []
    return [(field, shown_value(change_text(pair[0])), shown_value(change_text(pair[1])))
            if isinstance(pair, list | tuple) and len(pair) == 2
            else (field, shown_value(""), shown_value(change_text(pair)))
            for field, pair in changes.items()]


# ---------------------------------------------------------------- views

@require_GET
@app_manager_required
def queue(request: HttpRequest) -> HttpResponse:
    """What waits for a decision, one tab per stream, plus the listings decided lately."""
    tab = request.GET.get("tab")
    if tab not in QUEUE_TABS:
        tab = "pending"
    page = Paginator(QUEUE_TABS[tab](), QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "appstore/review/queue.html", {
        "tab": tab, "page": page, "counts": selectors.queue_counts(),
    })


QUEUE_TABS = {
    "pending": selectors.pending_listings,
    "configurations": pending_configurations,
    "profiles": pending_profiles,
    "reviewed": selectors.reviewed_listings,
}


@require_http_methods(["GET", "POST"])
@app_manager_required
def listing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        listing = selectors.listing_for_review(pk)
    except ListingVersion.DoesNotExist as exc:
        raise Http404("No such listing version.") from exc
    reject_form = RejectForm()
    stale = False
    if request.method == "POST":
        action = request.POST.get("action")
        # Always passed on: a form without it was not rendered from this page's content.
        seen = request.POST.get(FINGERPRINT_FIELD, "")
        if action == "approve":
            return _approve(request, listing, seen)
        if action != "reject":
            return HttpResponseBadRequest("Unknown action.")
        reject_form = RejectForm(request.POST)
        if reject_form.is_valid():
            response = _reject(request, listing, reject_form, seen)
            if response is not None:
                return response
            stale = _is_stale(reject_form)

    baseline = selectors.baseline_for(listing)
    rows = selectors.listing_comparison(listing, baseline)
    is_pending = listing.state == VersionState.PENDING
    rejection = selectors.previous_rejection(listing, baseline)
    for entry in rejection.edits if rejection else ():
        entry.change_rows = change_rows(entry.changes)
    return render(request, "appstore/review/listing.html", {
        "listing": listing, "app": listing.app, "partner": listing.app.partner,
        "baseline": baseline, "rows": rows, "changed_rows": [r for r in rows if r.changed],
        "images": list(listing.images.all()), "is_pending": is_pending,
        "reject_form": reject_form, "fingerprint_field": FINGERPRINT_FIELD,
        "fingerprint": listing_fingerprint(listing) if is_pending else "",
        "rejection": rejection,
    }, status=409 if stale else 400 if reject_form.errors else 200)


def _is_stale(form: RejectForm) -> bool:
    return any(error.code == STALE_VERSION_CODE for error in form.errors.as_data().get("__all__", []))


def _approve(request: HttpRequest, listing: ListingVersion, seen: str) -> HttpResponse:
    try:
        approve_listing(actor=request.user, listing=listing, seen_fingerprint=seen)
    except ValidationError as exc:
        # The page is shown again with the current content (and its new fingerprint).
        messages.error(request, " ".join(exc.messages))
        return redirect("review:listing", pk=listing.pk)
    messages.success(request, f"{listing.app.name} listing {listing.label} is approved and live; "
                              "the technical contact has been told.")
    return redirect("review:queue")


def _reject(request: HttpRequest, listing: ListingVersion, form: RejectForm,
            seen: str) -> HttpResponse | None:
    """Reject, or put the service's objection on the form (None: show the page again)."""
    try:
        reject_listing(actor=request.user, listing=listing, reason=form.cleaned_data["reason"],
                       seen_fingerprint=seen)
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
            return None
        if getattr(exc, "code", None) == STALE_VERSION_CODE:
            # Keep the typed reason; show the current content beside it.
            messages.error(request, " ".join(exc.messages))
            form.add_error(None, exc)
            return None
        messages.error(request, " ".join(exc.messages))
        return redirect("review:listing", pk=listing.pk)
    messages.success(request, f"{listing.app.name} listing {listing.label} is rejected; "
                              "the technical contact has been sent the reason.")
    return redirect("review:queue")


@require_GET
@app_manager_required
def audit_log(request: HttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    filters: dict = {}
    if form.is_bound:
        form.is_valid()
        data = form.cleaned_data
        filters = {
            "partner_id": data["partner"].pk if data.get("partner") else None,
            "source": data.get("source") or "",
            "event_type": data.get("event_type") or "",
            "date_from": data.get("date_from"),
            "date_to": data.get("date_to"),
        }
    page = Paginator(selectors.audit_entries(**filters), AUDIT_PAGE_SIZE).get_page(
        request.GET.get("page"))
    names = selectors.partner_names(entry.partner_id for entry in page)
    for entry in page:
        entry.partner_name = names.get(entry.partner_id, "")
        entry.event_label = event_label(entry.event_type)
        entry.change_rows = change_rows(entry.changes)
    return render(request, "appstore/review/audit.html", {"form": form, "page": page})


urlpatterns = [
    path("", queue, name="queue"),
    path("listings/<int:pk>/", listing_detail, name="listing"),
    path("audit/", audit_log, name="audit"),
]
