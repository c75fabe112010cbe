import hashlib
import json
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from audit import services as audit
from tenants.models import Environment

from .. import richtext
from ..images import check_listing_image
from ..models import (
    GREEN_BUTTON_LABELS,
    App,
    ImageKind,
    LinkKind,
    ListingImage,
    ListingLink,
    ListingVersion,
    ListingVideo,
    PriceModel,
    VersionState,
)
from ..permissions import require_app_permission
from ..tasks import notify_listing_requested
from ..urlrules import split_url

OPEN_STATES = (VersionState.DRAFT, VersionState.PENDING, VersionState.REJECTED)
MAX_ABOUT_WORDS = 200
MAX_KEY_FEATURES = 10
MIN_IMAGES = 3
META_DESCRIPTION_LENGTH = (50, 160)
MAX_ABOUT_LENGTH = 5_000  # characters of HTML, before sanitising
MAX_KEY_FEATURE_LENGTH = 120
MAX_INSTALL_STEPS = 20
MAX_INSTALL_STEP_LENGTH = 300
MAX_TEXT_LENGTHS = {"whats_new": ("What's new", 2_000), "requirements": ("Requirements", 2_000)}
MAX_VIDEOS = 5
MAX_VIDEO_DESCRIPTION_LENGTH = ListingVideo._meta.get_field("description").max_length
# A lowest *starting* price above this is a typing mistake, not a price.
MAX_PRICE_EUR = Decimal("100000.00")
TERMS_URL_MAX_LENGTH = ListingVersion._meta.get_field("terms_url").max_length
LINK_URL_MAX_LENGTH = ListingLink._meta.get_field("url").max_length
LINK_LABEL_MAX_LENGTH = ListingLink._meta.get_field("label").max_length
# Plain http is accepted for these hosts only (a partner trying a listing locally).
LOCAL_HOSTS = {"localhost", "127.0.0.1"}

# The listing's own fields, as a form edits them (relations are passed separately).
LISTING_FIELDS = (
    "label", "header", "about", "key_features", "whats_new", "is_free", "lowest_price_eur",
    "price_model", "startup_cost", "consultancy", "terms_url", "supported_plans",
    "install_steps", "requirements", "meta_description", "keywords",
)


# ---------------------------------------------------------------- reading helpers

def snapshot(listing: ListingVersion) -> dict:
    """Everything a reviewer compares, as plain JSON-able values."""
    data = {field: getattr(listing, field) for field in LISTING_FIELDS}
    data["lowest_price_eur"] = str(listing.lowest_price_eur) if listing.lowest_price_eur else None
    data["categories"] = sorted(c.name for c in listing.categories.all())
    data["languages"] = sorted(lang.name for lang in listing.languages.all())
    data["markets"] = sorted(m.name for m in listing.markets.all())
    data["links"] = {link.kind: f"{link.label} → {link.url}" for link in listing.links.all()}
    data["videos"] = [f"{v.youtube_id}: {v.description}" for v in listing.videos.all()]
    data["images"] = [f"{img.get_kind_display()}: {img.alt_text} ({img.width}×{img.height})"
                      for img in listing.images.all()]
    return data


def listing_fingerprint(listing: ListingVersion) -> str:
    """A hash of everything a reviewer judges in this version.

    Any change to the content, including an image file swapped under the same alt text and
    size, gives another fingerprint; the review forms carry it so a decision only applies
    to the content the reviewer actually saw.
    """
    data = snapshot(listing)
    data["image_files"] = [[img.pk, img.image.name, img.position] for img in listing.images.all()]
    data["video_order"] = [[v.pk, v.position] for v in listing.videos.all()]
    payload = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def missing_for_publish(listing: ListingVersion) -> list[str]:
    """What still blocks a publish request, one message per field, in form order."""
    missing: list[str] = []
    if listing.app.is_custom:
        missing.append("Custom apps are not listed in the App Store: they are activated for one "
                       "customer.")
    if not listing.header.strip():
        missing.append("Short header is required.")
    if not richtext.plain_text(listing.about):
        missing.append("About is required.")
    elif richtext.word_count(listing.about) > MAX_ABOUT_WORDS:
        missing.append(f"About has more than {MAX_ABOUT_WORDS} words.")
    if not listing.key_features:
        missing.append("Key features: add at least one.")
    elif len(listing.key_features) > MAX_KEY_FEATURES:
        missing.append(f"Key features: at most {MAX_KEY_FEATURES}.")
    if not listing.categories.exists():
        missing.append("Categories: choose at least one.")
    if not listing.languages.exists():
        missing.append("Languages: choose at least one.")
    if not listing.markets.exists():
        missing.append("Markets: choose at least one.")
    kinds = [img.kind for img in listing.images.all()]
    if ImageKind.HOME_ICON not in kinds:
        missing.append("Home icon is required.")
    if ImageKind.DETAIL_ICON not in kinds:
        missing.append("Detail icon is required.")
    if ImageKind.SCREENSHOT not in kinds:
        missing.append("Screenshots: add at least one.")
    if len(kinds) < MIN_IMAGES:
        missing.append(f"Images: at least {MIN_IMAGES} in all (icons and screenshots).")
    if not listing.is_free:
        if listing.lowest_price_eur is None:
            missing.append("Lowest starting price is required for an app that is not free.")
        if not listing.price_model or listing.price_model == "free":
            missing.append("Price model is required for an app that is not free.")
    if not listing.terms_url:
        missing.append("Terms and conditions URL is required.")
    if not listing.supported_plans.strip():
        missing.append("Supported plans are required.")
    if not listing.install_steps:
        missing.append("How to install: add at least one step.")
    if not listing.requirements.strip():
        missing.append("Requirements are required.")
    low, high = META_DESCRIPTION_LENGTH
    if not (low <= len(listing.meta_description.strip()) <= high):
        missing.append(f"SEO meta description must be {low}–{high} characters.")
    if not listing.keywords.strip():
        missing.append("Keywords are required.")
    if not listing.links.filter(kind=LinkKind.INSTALL).exists():
        missing.append("Install link (the green button) is required.")
    return missing


def build_search_text(listing: ListingVersion) -> str:
    app = listing.app
    parts = [app.name, listing.header, richtext.plain_text(listing.about),
             " ".join(listing.key_features), app.partner.name, listing.keywords]
    return " ".join(p for p in parts if p)


def validate_public_url(value: str) -> None:
    """https only; plain http is accepted for localhost and 127.0.0.1 (development)."""
    parts = split_url(value)
    if parts is not None and parts.scheme == "https":
        return
    if parts is not None and parts.scheme == "http" and parts.hostname in LOCAL_HOSTS:
        return
    raise ValidationError("Use an https:// address (http:// only for localhost and 127.0.0.1).",
                          code="insecure_url")


# What the portal's URL boxes (forms.URLField) check besides validate_public_url.
_url_syntax = URLValidator()


def public_url_errors(value, *, max_length: int) -> list[str]:
    """The portal's checks of a URL box: length, URL syntax, then https. Empty if fine."""
    if not isinstance(value, str):
        return ["Enter a valid URL."]
    if len(value) > max_length:
        return [f"A URL may have at most {max_length} characters (this one has {len(value):,})."]
    try:
        _url_syntax(value)
        validate_public_url(value)
    except ValidationError as exc:
        return exc.messages
    return []


def price_errors(value) -> list[str]:
    """The lowest starting price: empty, or a number from 0 to MAX_PRICE_EUR."""
    if value is None:
        return []
    try:
        price = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return ["Enter a number."]
    if not price.is_finite():
        return ["Enter a number."]
    if price < 0:
        return ["The price cannot be negative."]
    if price > MAX_PRICE_EUR:
        return [f"The lowest starting price can be at most {MAX_PRICE_EUR:,} EUR."]
    return []


def _too_long_lines(items: list[str], *, noun: str, limit: int) -> str | None:
    long = [(n, len(item)) for n, item in enumerate(items, start=1) if len(item) > limit]
    if not long:
        return None
    shown = ", ".join(f"{noun} {n} has {length:,}" for n, length in long[:5])
    more = f" and {len(long) - 5} more" if len(long) > 5 else ""
    return f"{noun.capitalize()}s may have at most {limit} characters each: {shown}{more}."


def limit_errors(fields: dict) -> dict[str, list[str]]:
    """Rules of the listing fields present in ``fields``: messages per field, empty if none.

    Sizes, the price range and the https terms URL. The form shows them on its fields;
    update_listing enforces them for every caller (the portal, the API), as full_clean checks
    neither the size of a TextField, the lines inside the JSON lists, a negative price nor
    the URL's scheme.
    """
    errors: dict[str, list[str]] = {}
    about = fields.get("about")
    if about is not None:
        if len(about) > MAX_ABOUT_LENGTH:
            errors["about"] = [f"About has {len(about):,} characters of HTML; "
                               f"at most {MAX_ABOUT_LENGTH:,} are allowed."]
        elif (words := richtext.word_count(about)) > MAX_ABOUT_WORDS:
            errors["about"] = [f"About has {words} words; at most {MAX_ABOUT_WORDS} are allowed."]
    for field, noun, max_items, max_length in (
            ("key_features", "key feature", MAX_KEY_FEATURES, MAX_KEY_FEATURE_LENGTH),
            ("install_steps", "install step", MAX_INSTALL_STEPS, MAX_INSTALL_STEP_LENGTH)):
        items = fields.get(field)
        if items is None:
            continue
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            errors[field] = [f"{noun.capitalize()}s must be a list of lines."]
            continue
        messages = []
        if len(items) > max_items:
            messages.append(f"{len(items)} {noun}s; at most {max_items} are allowed (one per line).")
        if too_long := _too_long_lines(items, noun=noun, limit=max_length):
            messages.append(too_long)
        empty = [str(n) for n, item in enumerate(items, start=1) if not item.strip()]
        if empty:
            messages.append(f"{noun.capitalize()}s may not be empty: {noun} {', '.join(empty[:5])}.")
        if messages:
            errors[field] = messages
    for field, (label, limit) in MAX_TEXT_LENGTHS.items():
        value = fields.get(field)
        if value is not None and len(value) > limit:
            errors[field] = [f"{label} has {len(value):,} characters; at most {limit:,} are allowed."]
    if messages := price_errors(fields.get("lowest_price_eur")):
        errors["lowest_price_eur"] = messages
    if fields.get("terms_url") and (messages := public_url_errors(
            fields["terms_url"], max_length=TERMS_URL_MAX_LENGTH)):
        errors["terms_url"] = messages
    return errors


def link_name(kind: str) -> str:
    return LinkKind(kind).label.split(" (")[0]


def link_errors(links) -> list[str]:
    """The links as update_listing takes them (kind -> {url, label}); messages name the link.

    One link per kind and known kinds only; a URL passes the portal's URL checks (https);
    a label needs a URL, and the install link's label is one of the green-button labels.
    """
    if not isinstance(links, Mapping):
        return ["Links must map a link kind to its URL and label."]
    messages = []
    unknown = sorted(str(kind) for kind in links if kind not in LinkKind.values)
    if unknown:
        messages.append(f"Unknown link kind {', '.join(unknown[:5])}; use one of "
                        f"{', '.join(LinkKind.values)}.")
    for kind in LinkKind.values:
        entry = links.get(kind)
        if entry is None:
            continue
        name = f"{link_name(kind)} link"
        if not isinstance(entry, Mapping):
            messages.append(f"{name}: give its URL and label.")
            continue
        url, label = entry.get("url") or "", entry.get("label") or ""
        if not isinstance(label, str):
            messages.append(f"{name}: the label must be text.")
            continue
        if url:
            messages.extend(f"{name}: {message}"
                            for message in public_url_errors(url, max_length=LINK_URL_MAX_LENGTH))
        elif label and kind != LinkKind.INSTALL:
            messages.append(f"{name}: enter the URL for this link, or clear its label.")
        if kind == LinkKind.INSTALL:
            if label and label not in GREEN_BUTTON_LABELS:
                messages.append(f"{name}: the green button's label is one of "
                                f"{', '.join(GREEN_BUTTON_LABELS)}.")
        elif len(label) > LINK_LABEL_MAX_LENGTH:
            messages.append(f"{name}: the label may have at most {LINK_LABEL_MAX_LENGTH} characters.")
    return messages


def video_errors(videos) -> list[str]:
    """The videos as update_listing takes them (a list of {youtube_id, description})."""
    if not isinstance(videos, list | tuple):
        return ["Videos must be a list."]
    if len(videos) > MAX_VIDEOS:
        return [f"{len(videos):,} videos; at most {MAX_VIDEOS} are allowed."]
    messages = []
    for n, video in enumerate(videos, start=1):
        if not isinstance(video, Mapping):
            messages.append(f"Video {n}: give its YouTube ID and description.")
            continue
        video_id, description = video.get("youtube_id") or "", video.get("description") or ""
        if not video_id:
            messages.append(f"Video {n}: the YouTube ID is required.")
        else:
            try:
                ListingVideo.youtube_id_validator(video_id if isinstance(video_id, str) else "")
            except ValidationError as exc:
                messages.extend(f"Video {n}: {message}" for message in exc.messages)
        if not isinstance(description, str) or not description.strip():
            messages.append(f"Video {n}: describe the video; the store shows it under the video.")
        elif len(description) > MAX_VIDEO_DESCRIPTION_LENGTH:
            messages.append(f"Video {n}: the description may have at most "
                            f"{MAX_VIDEO_DESCRIPTION_LENGTH} characters.")
    return messages


def listing_errors(fields: dict, *, links=None, videos=None) -> dict[str, list[str]]:
    """Every rule update_listing enforces before writing, by field; empty if the change is fine."""
    errors = limit_errors(fields)
    if links is not None and (messages := link_errors(links)):
        errors["links"] = messages
    if videos is not None and (messages := video_errors(videos)):
        errors["videos"] = messages
    return errors


# ---------------------------------------------------------------- writes

def _require_editable(listing: ListingVersion) -> None:
    if not listing.is_editable:
        raise ValidationError(
            f"Version {listing.label} is {listing.get_state_display().lower()} and cannot be changed."
        )


@transaction.atomic
def create_listing_version(*, actor, app: App, label: str = "") -> ListingVersion:
    """Open a new draft that copies the latest version; one open version at a time."""
    require_app_permission(user=actor, app=app, permission="app_store")
    if app.listing_versions.filter(state__in=OPEN_STATES).exists():
        raise ValidationError("Finish the open version (draft, pending or rejected) first.")
    source = app.listing_versions.order_by("-created_at", "-id").first()
    if source is None:
        listing = ListingVersion.objects.create(
            app=app, environment=Environment.objects.get(code=settings.STORE_ENVIRONMENT),
            label=label or "1.0", created_by=actor)
    else:
        listing = _copy(source, label=label or _next_label(source.label), actor=actor)
    audit.record(event_type="listing_version_created", actor=actor, partner=app.partner, app=app,
                 target=listing, message=f"Listing version {listing.label} created",
                 changes={"label": [None, listing.label]})
    return listing


def _next_label(label: str) -> str:
    head, _, tail = label.rpartition(".")
    if tail.isdigit():
        return f"{head}.{int(tail) + 1}" if head else str(int(tail) + 1)
    return f"{label}.1"


def _copy(source: ListingVersion, *, label: str, actor) -> ListingVersion:
    listing = ListingVersion.objects.create(
        app=source.app, environment=source.environment, label=label, created_by=actor,
        **{f: getattr(source, f) for f in LISTING_FIELDS if f != "label"},
    )
    listing.categories.set(source.categories.all())
    listing.languages.set(source.languages.all())
    listing.markets.set(source.markets.all())
    ListingLink.objects.bulk_create(
        ListingLink(listing=listing, kind=x.kind, url=x.url, label=x.label)
        for x in source.links.all())
    ListingVideo.objects.bulk_create(
        ListingVideo(listing=listing, youtube_id=x.youtube_id, description=x.description,
                     position=x.position) for x in source.videos.all())
    # Stored files are shared between versions; they are never rewritten in place.
    ListingImage.objects.bulk_create(
        ListingImage(listing=listing, kind=x.kind, image=x.image.name, width=x.width,
                     height=x.height, alt_text=x.alt_text, position=x.position)
        for x in source.images.all())
    return listing


@transaction.atomic
def update_listing(*, actor, listing: ListingVersion, fields: dict, categories=None,
                   languages=None, markets=None, links: dict[str, dict] | None = None,
                   videos: list[dict] | None = None) -> ListingVersion:
    """Save a draft (or rejected) version. ``links`` maps kind -> {url, label}; empty url removes.

    Every caller gets the same rules (listing_errors, then the model's full_clean): nothing
    is written unless the whole change is valid.
    """
    require_app_permission(user=actor, app=listing.app, permission="app_store")
    _require_editable(listing)
    before = snapshot(listing)
    unknown = set(fields) - set(LISTING_FIELDS)
    if unknown:
        raise ValueError(f"Unknown listing fields: {sorted(unknown)}")
    errors = listing_errors(fields, links=links, videos=videos)
    if errors:
        raise ValidationError(errors)
    for field, value in fields.items():
        if field == "about":
            value = richtext.sanitize(value)
        setattr(listing, field, value)
    # "Free" is a price model only through is_free; a paid app chooses one of the others.
    if listing.is_free:
        listing.price_model = PriceModel.FREE
        listing.lowest_price_eur = None
    elif listing.price_model == PriceModel.FREE:
        listing.price_model = ""
    listing.full_clean(exclude=["app", "environment"])
    listing.save()
    if categories is not None:
        listing.categories.set(categories)
    if languages is not None:
        listing.languages.set(languages)
    if markets is not None:
        listing.markets.set(markets)
    if links is not None:
        for kind in LinkKind.values:
            entry = links.get(kind) or {}
            if entry.get("url"):
                ListingLink.objects.update_or_create(
                    listing=listing, kind=kind,
                    defaults={"url": entry["url"], "label": entry.get("label") or link_name(kind)})
            else:
                listing.links.filter(kind=kind).delete()
    if videos is not None:
        listing.videos.all().delete()
        ListingVideo.objects.bulk_create(
            ListingVideo(listing=listing, youtube_id=v["youtube_id"],
                         description=v["description"], position=i)
            for i, v in enumerate(videos))
    changes = audit.diff(before, snapshot(listing))
    if changes:
        audit.record(event_type="listing_version_updated", actor=actor, partner=listing.app.partner,
                     app=listing.app, target=listing, message=f"Listing version {listing.label} saved",
                     changes=changes)
    return listing


@transaction.atomic
def add_image(*, actor, listing: ListingVersion, kind: str, upload, alt_text: str) -> ListingImage:
    """Check and store an image; an icon replaces the one of its kind, screenshots append."""
    require_app_permission(user=actor, app=listing.app, permission="app_store")
    _require_editable(listing)
    if not alt_text.strip():
        raise ValidationError({"alt_text": "Alt text is required for every image."})
    try:
        check_listing_image(upload, kind)
    except ValidationError as exc:
        raise ValidationError({"image": exc.messages}) from exc
    replaced = ""
    if kind != ImageKind.SCREENSHOT:
        old = listing.images.filter(kind=kind).first()
        if old:
            replaced = old.alt_text
            old.delete()
    position = listing.images.filter(kind=kind).count()
    image = ListingImage(listing=listing, kind=kind, alt_text=alt_text.strip(), position=position)
    image.image.save(upload.name, upload, save=False)
    image.save()
    audit.record(event_type="listing_version_updated", actor=actor, partner=listing.app.partner,
                 app=listing.app, target=listing,
                 message=f"{image.get_kind_display()} uploaded to {listing.label}",
                 changes={"images": [replaced or None, f"{image.get_kind_display()}: {alt_text}"]})
    return image


@transaction.atomic
def update_image(*, actor, image: ListingImage, alt_text: str | None = None,
                 move: int = 0, delete: bool = False) -> None:
    """Edit alt text, move a screenshot up (-1) or down (+1), or remove an image."""
    listing = image.listing
    require_app_permission(user=actor, app=listing.app, permission="app_store")
    _require_editable(listing)
    label = f"{image.get_kind_display()}: {image.alt_text}"
    if delete:
        image.delete()
        _renumber(listing, image.kind)
        audit.record(event_type="listing_version_updated", actor=actor,
                     partner=listing.app.partner, app=listing.app, target=listing,
                     message=f"Image removed from {listing.label}", changes={"images": [label, None]})
        return
    if alt_text is not None:
        if not alt_text.strip():
            raise ValidationError({"alt_text": "Alt text is required for every image."})
        old = image.alt_text
        image.alt_text = alt_text.strip()
        image.save(update_fields=["alt_text"])
        if old != image.alt_text:
            audit.record(event_type="listing_version_updated", actor=actor,
                         partner=listing.app.partner, app=listing.app, target=listing,
                         message=f"Alt text changed in {listing.label}",
                         changes={"alt_text": [old, image.alt_text]})
    if move:
        siblings = list(listing.images.filter(kind=image.kind).order_by("position", "id"))
        index = next(i for i, s in enumerate(siblings) if s.pk == image.pk)
        target = index + (1 if move > 0 else -1)
        if 0 <= target < len(siblings):
            siblings[index], siblings[target] = siblings[target], siblings[index]
            for position, sibling in enumerate(siblings):
                if sibling.position != position:
                    sibling.position = position
                    sibling.save(update_fields=["position"])


def _renumber(listing: ListingVersion, kind: str) -> None:
    for position, sibling in enumerate(listing.images.filter(kind=kind).order_by("position", "id")):
        if sibling.position != position:
            sibling.position = position
            sibling.save(update_fields=["position"])


@transaction.atomic
def request_publish(*, actor, listing: ListingVersion) -> ListingVersion:
    """Lock a complete version and put it in the staff review queue."""
    require_app_permission(user=actor, app=listing.app, permission="app_store")
    listing = ListingVersion.objects.select_for_update().get(pk=listing.pk)
    _require_editable(listing)
    missing = missing_for_publish(listing)
    if missing:
        raise ValidationError(missing)
    old_state = listing.state
    listing.state = VersionState.PENDING
    listing.submitted_by = actor
    listing.submitted_at = timezone.now()
    listing.save(update_fields=["state", "submitted_by", "submitted_at", "updated_at"])
    audit.record(event_type="listing_version_requested", actor=actor, partner=listing.app.partner,
                 app=listing.app, target=listing, message=f"Publishing of listing {listing.label} requested",
                 changes={"state": [old_state, listing.state]})
    transaction.on_commit(lambda: notify_listing_requested.delay(listing.pk))
    return listing


@transaction.atomic
def withdraw_request(*, actor, listing: ListingVersion) -> ListingVersion:
    """The partner takes a pending version back to draft."""
    require_app_permission(user=actor, app=listing.app, permission="app_store")
    listing = ListingVersion.objects.select_for_update().get(pk=listing.pk)
    if listing.state != VersionState.PENDING:
        raise ValidationError("Only a pending version can be withdrawn.")
    listing.state = VersionState.DRAFT
    listing.save(update_fields=["state", "updated_at"])
    audit.record(event_type="listing_version_withdrawn", actor=actor, partner=listing.app.partner,
                 app=listing.app, target=listing, message=f"Request for listing {listing.label} withdrawn",
                 changes={"state": [VersionState.PENDING, VersionState.DRAFT]})
    return listing


def live_listing(app: App, environment) -> ListingVersion | None:
    return app.listing_versions.filter(environment=environment, state=VersionState.PUBLISHED,
                                       superseded_at__isnull=True).first()


def refresh_search_text(*, apps) -> None:
    """Keep live listings searchable by their app's and partner's current names."""
    for listing in ListingVersion.objects.filter(app__in=apps, state=VersionState.PUBLISHED,
                                                 superseded_at__isnull=True).select_related("app__partner"):
        listing.search_text = build_search_text(listing)
        listing.save(update_fields=["search_text"])

