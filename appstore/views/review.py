"""Staff review pages: the queue of listing versions, one version beside the live one, the audit log.

Only App-manager staff reach any of them; everything they change goes through
appstore.services.listings.
"""

from collections.abc import Callable
from functools import wraps

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods

from audit.models import AuditEntry

from ..models import ListingVersion, VersionState
from ..permissions import require_app_manager
from ..selectors import review as selectors
from ..services.listings import approve_listing, reject_listing

app_name = "review"

QUEUE_PAGE_SIZE = 25
AUDIT_PAGE_SIZE = 50


def app_manager_required(view: Callable) -> Callable:
    """Anonymous visitors go to the login page; anyone else but an App manager gets 403."""

    @wraps(view)
    @login_required
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        require_app_manager(user=request.user)
        return view(request, *args, **kwargs)

    return wrapper


# ---------------------------------------------------------------- forms

class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Reason", widget=forms.Textarea(attrs={"rows": 5}),
        help_text="The partner's technical contact receives this by e-mail and sees it in the portal.",
        error_messages={"required": "Say why the version is rejected; the partner sees it."},
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


def change_rows(changes) -> list[tuple[str, str, str]]:
    if not isinstance(changes, dict):
        return []
    return [(field, change_text(pair[0]), change_text(pair[1]))
            if isinstance(pair, list | tuple) and len(pair) == 2 else (field, "", change_text(pair))
            for field, pair in changes.items()]


# ---------------------------------------------------------------- views

@require_GET
@app_manager_required
def queue(request: HttpRequest) -> HttpResponse:
    tab = "reviewed" if request.GET.get("tab") == "reviewed" else "pending"
    listings = selectors.pending_listings() if tab == "pending" else selectors.reviewed_listings()
    page = Paginator(listings, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "appstore/review/queue.html", {
        "tab": tab, "page": page, "counts": selectors.queue_counts(),
    })


@require_http_methods(["GET", "POST"])
@app_manager_required
def listing_detail(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        listing = selectors.listing_for_review(pk)
    except ListingVersion.DoesNotExist as exc:
        raise Http404("No such listing version.") from exc
    reject_form = RejectForm()
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "approve":
            return _approve(request, listing)
        if action != "reject":
            return HttpResponseBadRequest("Unknown action.")
        reject_form = RejectForm(request.POST)
        if reject_form.is_valid():
            response = _reject(request, listing, reject_form)
            if response is not None:
                return response

    baseline = selectors.baseline_for(listing)
    rows = selectors.listing_comparison(listing, baseline)
    return render(request, "appstore/review/listing.html", {
        "listing": listing, "app": listing.app, "partner": listing.app.partner,
        "baseline": baseline, "rows": rows, "changed_rows": [r for r in rows if r.changed],
        "images": list(listing.images.all()), "is_pending": listing.state == VersionState.PENDING,
        "reject_form": reject_form,
    }, status=400 if reject_form.errors else 200)


def _approve(request: HttpRequest, listing: ListingVersion) -> HttpResponse:
    try:
        approve_listing(actor=request.user, listing=listing)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("review:listing", pk=listing.pk)
    messages.success(request, f"{listing.app.name} listing {listing.label} is approved and live; "
                              "the technical contact has been told.")
    return redirect("review:queue")


def _reject(request: HttpRequest, listing: ListingVersion, form: RejectForm) -> HttpResponse | None:
    """Reject, or put the service's objection on the form (None: show the page again)."""
    try:
        reject_listing(actor=request.user, listing=listing, reason=form.cleaned_data["reason"])
    except ValidationError as exc:
        if hasattr(exc, "error_dict"):
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
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
