"""The partner's versioned public profile: logo, description, meta description and links.

Versions follow the listing path (SPEC §4): draft (editable) -> pending (locked) ->
published (live on the store's partner page, superseding the previous one) or rejected
(editable again, with the reviewer's reason).
"""

import hashlib
import json
import os
from datetime import datetime

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from audit import services as audit
from audit.models import AuditEntry

from .. import richtext, urlrules
from ..images import check_partner_logo
from ..models import Partner, PartnerProfileVersion, VersionState
from ..permissions import require_app_manager, require_partner_permission
from ..tasks import notify_profile_requested, notify_profile_reviewed
from .listings import OPEN_STATES, _next_label
from .review import STALE_VERSION_CODE, STALE_VERSION_MESSAGE

PROFILE_FIELDS = ("label", "description", "meta_description", "links", "logo_alt")
MAX_DESCRIPTION_WORDS = 300
MAX_DESCRIPTION_LENGTH = 10_000  # characters of HTML, before sanitising
META_DESCRIPTION_MAX = PartnerProfileVersion._meta.get_field("meta_description").max_length
LABEL_MAX = PartnerProfileVersion._meta.get_field("label").max_length
LOGO_ALT_MAX = PartnerProfileVersion._meta.get_field("logo_alt").max_length
MAX_LINKS = 5
MAX_LINK_ALT = 100
MAX_LINK_URL = 500
STALE_FORM_MESSAGE = "This version changed since you opened it; reload the page."
STALE_FORM_CODE = "stale_form"
LOCKED_CODE = "locked"

https_url = URLValidator(schemes=["https"])


# ---------------------------------------------------------------- reading helpers

def snapshot(version: PartnerProfileVersion) -> dict:
    """The version's content as plain JSON-able values (change log, review comparison)."""
    data = {field: getattr(version, field) for field in PROFILE_FIELDS}
    data["links"] = [f"{link.get('alt', '')} → {link.get('url', '')}" for link in version.links or []]
    data["logo"] = os.path.basename(version.logo.name) if version.logo else None
    return data


def profile_fingerprint(version: PartnerProfileVersion) -> str:
    """A hash of what a reviewer judges; the review forms carry it (see services.review)."""
    data = snapshot(version)
    data["logo_file"] = version.logo.name or ""
    payload = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def missing_for_publish(version: PartnerProfileVersion) -> list[str]:
    """What still blocks a publish request, one message per field, in form order."""
    missing: list[str] = []
    if not version.label.strip():
        missing.append("Version label is required.")
    if not version.logo:
        missing.append("Logo is required (PNG, 488×488 pixels).")
    if not version.logo_alt.strip():
        missing.append("Logo alt text is required.")
    if not richtext.plain_text(version.description):
        missing.append("Description is required.")
    elif richtext.word_count(version.description) > MAX_DESCRIPTION_WORDS:
        missing.append(f"Description has more than {MAX_DESCRIPTION_WORDS} words.")
    if not version.meta_description.strip():
        missing.append("SEO meta description is required.")
    missing.extend(f"Links: {problem}" for problem in link_errors(version.links or []))
    return missing


def link_problem(url: str) -> str | None:
    """Why a profile link's URL is refused, or None.

    An absolute https URL, checked by the rules an app's exact URLs follow (a valid host, no
    user:password@ part, no spaces or control characters); a #fragment is fine on a web page.
    """
    try:
        if len(url) > MAX_LINK_URL:
            raise ValidationError("too long")
        https_url(url)
    except ValidationError:
        return f"Enter an absolute https:// address of at most {MAX_LINK_URL} characters."
    return urlrules.check_url(url.partition("#")[0], kind=urlrules.REDIRECT, scope="all")


def validate_profile_link(url: str) -> None:
    """The form field's validator: the same check as the service's."""
    problem = link_problem(url)
    if problem:
        raise ValidationError(problem, code="invalid_link")


def link_errors(links) -> list[str]:
    """Problems with a links list: at most MAX_LINKS, each an acceptable URL (link_problem) with alt text."""
    if not isinstance(links, list) or not all(isinstance(link, dict) for link in links):
        return ["Links must be a list of {url, alt} entries."]
    errors = []
    if len(links) > MAX_LINKS:
        errors.append(f"{len(links)} links; at most {MAX_LINKS} are allowed.")
    for number, link in enumerate(links, start=1):
        url, alt = str(link.get("url") or ""), str(link.get("alt") or "")
        problem = link_problem(url)
        if problem:
            errors.append(f"Link {number}: {problem}")
        if not alt.strip():
            errors.append(f"Link {number}: alt text is required.")
        elif len(alt) > MAX_LINK_ALT:
            errors.append(f"Link {number}: alt text has {len(alt)} characters; "
                          f"at most {MAX_LINK_ALT} are allowed.")
    return errors


def limit_errors(fields: dict) -> dict[str, list[str]]:
    """Format and size problems of the profile fields present in ``fields`` (block saving)."""
    errors: dict[str, list[str]] = {}
    if "label" in fields:
        label = str(fields["label"] or "")
        if not label.strip():
            errors["label"] = ["Enter a version label, for example 1.1."]
        elif len(label) > LABEL_MAX:
            errors["label"] = [f"At most {LABEL_MAX} characters."]
    description = fields.get("description")
    if description is not None:
        if len(description) > MAX_DESCRIPTION_LENGTH:
            errors["description"] = [f"Description has {len(description):,} characters of HTML; "
                                     f"at most {MAX_DESCRIPTION_LENGTH:,} are allowed."]
        elif (words := richtext.word_count(description)) > MAX_DESCRIPTION_WORDS:
            errors["description"] = [f"Description has {words} words; "
                                     f"at most {MAX_DESCRIPTION_WORDS} are allowed."]
    meta = fields.get("meta_description")
    if meta is not None and len(meta) > META_DESCRIPTION_MAX:
        errors["meta_description"] = [f"SEO meta description has {len(meta)} characters; "
                                      f"at most {META_DESCRIPTION_MAX} are allowed."]
    logo_alt = fields.get("logo_alt")
    if logo_alt is not None and len(logo_alt) > LOGO_ALT_MAX:
        errors["logo_alt"] = [f"At most {LOGO_ALT_MAX} characters."]
    if "links" in fields and (problems := link_errors(fields["links"])):
        errors["links"] = problems
    return errors


def _same_label(partner_id: int, label: str, *, exclude_pk: int | None = None):
    """The partner's profile versions labelled ``label`` (any case), newest first."""
    versions = PartnerProfileVersion.objects.filter(partner_id=partner_id, label__iexact=label.strip())
    if exclude_pk is not None:
        versions = versions.exclude(pk=exclude_pk)
    return versions.order_by("-created_at", "-id")


def free_label(partner_id: int, label: str, *, exclude_pk: int | None = None) -> str:
    """``label``, or the next number after it that none of the partner's other versions uses."""
    for _ in range(1000):
        if not _same_label(partner_id, label, exclude_pk=exclude_pk).exists():
            return label
        label = _next_label(label)
    return label


def label_problems(partner_id: int, label: str, *, exclude_pk: int | None = None) -> list[str]:
    """A label names one profile version of the partner (reviewers and the change log use it)."""
    existing = _same_label(partner_id, label, exclude_pk=exclude_pk).first()
    if existing is None:
        return []
    suggestion = free_label(partner_id, _next_label(label.strip()), exclude_pk=exclude_pk)
    return [f"Profile version {existing.label} already exists "
            f"({existing.get_state_display().lower()}, opened {existing.created_at:%Y-%m-%d}); "
            f"choose another label, such as {suggestion}."]


# ---------------------------------------------------------------- writes

def _require_editable(version: PartnerProfileVersion) -> None:
    """Only a draft or rejected version changes; the code tells the editor why it is locked."""
    if not version.is_editable:
        raise ValidationError(
            f"Version {version.label} is {version.get_state_display().lower()} and cannot be changed.",
            code=LOCKED_CODE)


def _locked(version: PartnerProfileVersion) -> PartnerProfileVersion:
    return PartnerProfileVersion.objects.select_for_update(of=("self",)).select_related("partner").get(
        pk=version.pk)


def _require_fresh(version: PartnerProfileVersion, seen_updated_at) -> None:
    """Refuse a save from a form opened before the version last changed (None skips the check)."""
    if seen_updated_at is None:
        return
    if isinstance(seen_updated_at, str):
        try:
            seen_updated_at = datetime.fromisoformat(seen_updated_at)
        except ValueError:
            seen_updated_at = None
    if seen_updated_at != version.updated_at:
        raise ValidationError(STALE_FORM_MESSAGE, code=STALE_FORM_CODE)


def _record(event_type: str, *, actor, version: PartnerProfileVersion, message: str,
            changes: dict, source: str = AuditEntry.Source.PORTAL) -> None:
    audit.record(event_type=event_type, actor=actor, source=source, partner=version.partner,
                 target=version, message=message, changes=changes)


@transaction.atomic
def create_profile_version(*, actor, partner: Partner, label: str = "") -> PartnerProfileVersion:
    """Open a new draft copying the latest version (its logo file too); one open version at a time."""
    require_partner_permission(user=actor, partner=partner, permission="app_store")
    # Serialises concurrent "New version" clicks of the same partner.
    partner = Partner.objects.select_for_update().get(pk=partner.pk)
    if partner.profile_versions.filter(state__in=OPEN_STATES).exists():
        raise ValidationError("Finish the open profile version (draft, pending or rejected) first.")
    source = partner.profile_versions.order_by("-created_at", "-id").first()
    label = (label or "").strip()
    if label:
        problems = limit_errors({"label": label}).get("label") or label_problems(partner.pk, label)
        if problems:
            raise ValidationError({"label": problems})
    else:
        # An automatic label skips the ones the partner's versions already carry.
        label = free_label(partner.pk, _next_label(source.label) if source else "1.0")
    if source is None:
        version = PartnerProfileVersion.objects.create(partner=partner, label=label, created_by=actor)
    else:
        version = PartnerProfileVersion(
            partner=partner, label=label, created_by=actor,
            description=source.description, meta_description=source.meta_description,
            links=list(source.links or []), logo_alt=source.logo_alt)
        if source.logo:
            # Each version owns its file, so replacing or deleting one never touches another.
            with source.logo.open("rb") as original:
                version.logo.save("logo.png", ContentFile(original.read()), save=False)
        version.save()
    _record("profile_version_created", actor=actor, version=version,
            message=f"Profile version {version.label} created"
            + (f" from {source.label}" if source else ""),
            changes={"label": [None, version.label]})
    return version


@transaction.atomic
def update_profile_version(*, actor, version: PartnerProfileVersion, seen_updated_at=None,
                           **fields) -> PartnerProfileVersion:
    """Save a draft (or rejected) version's fields; the description is sanitised rich text."""
    require_partner_permission(user=actor, partner=version.partner, permission="app_store")
    unknown = set(fields) - set(PROFILE_FIELDS)
    if unknown:
        raise ValueError(f"Unknown profile fields: {sorted(unknown)}")
    version = _locked(version)
    _require_editable(version)
    _require_fresh(version, seen_updated_at)
    if "links" in fields and isinstance(fields["links"], list):
        fields["links"] = [{"url": str(link.get("url") or "").strip(),
                            "alt": str(link.get("alt") or "").strip()}
                           if isinstance(link, dict) else link for link in fields["links"]]
    problems = limit_errors(fields)
    label = str(fields.get("label") or "").strip()
    if "label" in fields and "label" not in problems and label.lower() != version.label.lower():
        # Serialises relabelling within the partner, so two versions cannot both take one label.
        Partner.objects.select_for_update().filter(pk=version.partner_id).first()
        if taken := label_problems(version.partner_id, label, exclude_pk=version.pk):
            problems["label"] = taken
    if problems:
        raise ValidationError(problems)
    before = snapshot(version)
    for field, value in fields.items():
        if field == "description":
            value = richtext.sanitize(value)
        elif field in ("meta_description", "logo_alt"):
            value = " ".join(str(value).split())
        elif field == "label":
            value = str(value).strip()
        setattr(version, field, value)
    version.full_clean(exclude=["partner", "logo"])
    version.save()
    changes = audit.diff(before, snapshot(version))
    if changes:
        _record("profile_version_updated", actor=actor, version=version,
                message=f"Profile version {version.label} saved", changes=changes)
    return version


@transaction.atomic
def set_profile_logo(*, actor, version: PartnerProfileVersion, upload, alt_text: str,
                     seen_updated_at=None) -> PartnerProfileVersion:
    """Check (PNG, square, 488×488) and store the version's logo, replacing the one it had."""
    require_partner_permission(user=actor, partner=version.partner, permission="app_store")
    version = _locked(version)
    _require_editable(version)
    _require_fresh(version, seen_updated_at)
    alt_text = " ".join((alt_text or "").split())
    errors: dict[str, list[str]] = {}
    if not alt_text:
        errors["alt_text"] = ["Alt text is required: describe the logo for people who cannot see it."]
    elif len(alt_text) > LOGO_ALT_MAX:
        errors["alt_text"] = [f"At most {LOGO_ALT_MAX} characters."]
    try:
        check_partner_logo(upload)
    except ValidationError as exc:
        errors["logo"] = exc.messages
    if errors:
        raise ValidationError(errors)
    before = snapshot(version)
    old_name = version.logo.name
    version.logo.save("logo.png", upload, save=False)
    version.logo_alt = alt_text
    version.save()
    if old_name and not PartnerProfileVersion.objects.filter(logo=old_name).exists():
        storage = version.logo.storage
        transaction.on_commit(lambda: storage.delete(old_name))
    _record("profile_version_updated", actor=actor, version=version,
            message=f"Logo uploaded to profile version {version.label}",
            changes=audit.diff(before, snapshot(version)))
    return version


@transaction.atomic
def request_profile_publish(*, actor, version: PartnerProfileVersion) -> PartnerProfileVersion:
    """Lock a complete version and put it in the staff review queue; staff are e-mailed."""
    require_partner_permission(user=actor, partner=version.partner, permission="app_store")
    version = _locked(version)
    _require_editable(version)
    missing = missing_for_publish(version)
    if missing:
        raise ValidationError(missing)
    old_state = version.state
    version.state = VersionState.PENDING
    version.submitted_by = actor
    version.submitted_at = timezone.now()
    version.save(update_fields=["state", "submitted_by", "submitted_at", "updated_at"])
    _record("profile_version_requested", actor=actor, version=version,
            message=f"Publishing of profile {version.label} requested",
            changes={"state": [old_state, version.state]})
    transaction.on_commit(lambda: notify_profile_requested.delay(version.pk))
    return version


@transaction.atomic
def withdraw_profile_request(*, actor, version: PartnerProfileVersion) -> PartnerProfileVersion:
    """The partner takes a pending version back to draft."""
    require_partner_permission(user=actor, partner=version.partner, permission="app_store")
    version = _locked(version)
    if version.state != VersionState.PENDING:
        raise ValidationError("Only a pending version can be withdrawn.")
    version.state = VersionState.DRAFT
    version.save(update_fields=["state", "updated_at"])
    _record("profile_version_withdrawn", actor=actor, version=version,
            message=f"Request for profile {version.label} withdrawn",
            changes={"state": [VersionState.PENDING, VersionState.DRAFT]})
    return version


def _require_unchanged(version: PartnerProfileVersion, seen_fingerprint: str | None) -> None:
    if seen_fingerprint is not None and seen_fingerprint != profile_fingerprint(version):
        raise ValidationError(STALE_VERSION_MESSAGE, code=STALE_VERSION_CODE)


@transaction.atomic
def approve_profile(*, actor, version: PartnerProfileVersion,
                    seen_fingerprint: str | None = None) -> PartnerProfileVersion:
    """Publish a pending version; the partner's previous live profile is superseded."""
    require_app_manager(user=actor)
    version = _locked(version)
    if version.state != VersionState.PENDING:
        raise ValidationError("Only a pending version can be approved.")
    _require_unchanged(version, seen_fingerprint)
    now = timezone.now()
    previous = (PartnerProfileVersion.objects.select_for_update()
                .filter(partner=version.partner_id, state=VersionState.PUBLISHED,
                        superseded_at__isnull=True).first())
    if previous:
        previous.superseded_at = now
        previous.save(update_fields=["superseded_at"])
    version.state = VersionState.PUBLISHED
    version.reviewed_by = actor
    version.reviewed_at = now
    version.published_at = now
    version.review_reason = ""
    version.save()
    _record("profile_version_published", actor=actor, version=version,
            source=AuditEntry.Source.REVIEW,
            message=f"Profile {version.label} approved and published"
            + (f", superseding {previous.label}" if previous else ""),
            changes={"state": [VersionState.PENDING, VersionState.PUBLISHED]})
    transaction.on_commit(lambda: notify_profile_reviewed.delay(version.pk))
    return version


@transaction.atomic
def reject_profile(*, actor, version: PartnerProfileVersion, reason: str,
                   seen_fingerprint: str | None = None) -> PartnerProfileVersion:
    """Send a pending version back to the partner with a reason (see approve_profile)."""
    require_app_manager(user=actor)
    if not (reason or "").strip():
        raise ValidationError({"reason": "Say why the version is rejected; the partner sees it."})
    version = _locked(version)
    if version.state != VersionState.PENDING:
        raise ValidationError("Only a pending version can be rejected.")
    _require_unchanged(version, seen_fingerprint)
    version.state = VersionState.REJECTED
    version.reviewed_by = actor
    version.reviewed_at = timezone.now()
    version.review_reason = reason.strip()
    version.save(update_fields=["state", "reviewed_by", "reviewed_at", "review_reason",
                                "updated_at"])
    _record("profile_version_rejected", actor=actor, version=version,
            source=AuditEntry.Source.REVIEW,
            message=f"Profile {version.label} rejected: {version.review_reason}",
            changes={"state": [VersionState.PENDING, VersionState.REJECTED]})
    transaction.on_commit(lambda: notify_profile_reviewed.delay(version.pk))
    return version
