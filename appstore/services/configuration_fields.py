"""What a configuration version holds and how its fields are checked: the field lists, the
limits, the snapshot and fingerprint reviewers rely on, what widens an app's reach, what is
missing before publishing, and the cleaning every save goes through."""

import hashlib
import json
import re

from django.core.exceptions import ValidationError

from .. import urlrules
from ..models import (
    App,
    AppTemplate,
    AuthorizationLevel,
    ConfigurationVersion,
    EndpointKind,
    UrlScope,
    VersionState,
)

OPEN_STATES = (VersionState.DRAFT, VersionState.PENDING, VersionState.REJECTED)
REVIEWED_ENVIRONMENTS = ("stage", "online")
DIRECT_ENVIRONMENT = "sod"
# Apps that sign in no person: they need no redirect URL.
NO_REDIRECT_TEMPLATES = (AppTemplate.SERVER_TO_SERVER, AppTemplate.ERP_QUOTE)

URL_FIELDS = {
    "redirect_urls": urlrules.REDIRECT,
    "post_logout_redirect_urls": urlrules.POST_LOGOUT,
    "cors_origins": urlrules.CORS,
}
URL_FIELD_LABELS = {
    "redirect_urls": "Redirect URLs",
    "post_logout_redirect_urls": "Post-logout redirect URLs",
    "cors_origins": "CORS origins",
}
PARTNER_FIELDS = ("label", *URL_FIELDS, "endpoints", "consent_text")
STAFF_FIELDS = ("api_endpoints", "agents", "claims", "custom_claims", "authorization_level")
CONTENT_FIELDS = (*PARTNER_FIELDS, *STAFF_FIELDS)

MAX_LABEL_LENGTH = ConfigurationVersion._meta.get_field("label").max_length
MAX_ENTRIES_PER_LIST = 100
MAX_CONSENT_LENGTH = 4000
MAX_CUSTOM_CLAIMS = 50
MAX_CUSTOM_CLAIM_VALUE = 500
MAX_NAMES_PER_LIST = 100
NAME_TOKEN = re.compile(r"^[A-Za-z][A-Za-z0-9_.:/-]{0,99}$")
CUSTOMER_NAME_MAX = App._meta.get_field("customer_name").max_length

SYSTEM_TOKEN_CLAIM = "SystemToken"
WEBHOOK_AGENT = "Webhook"
WIDENED_SYSTEM_TOKEN = "SystemToken claim"
WIDENED_WEBHOOKS = "webhooks"
WIDENED_MIRRORING = "mirroring"

LOCKED_PENDING = "This version is locked while it waits for review; withdraw the request to change it."
LOCKED_PUBLISHED = "This version is locked: it is published. Open a new version to change the configuration."
STALE_FORM_MESSAGE = "This version changed since you opened it; reload the page."
STALE_FORM_CODE = "stale_version"
STALE_REVIEW_MESSAGE = "This version changed after you opened it; review it again."
LOCKED_CODE = "locked"
LABEL_TAKEN_CODE = "label_taken"
shown = urlrules.shown


# ---------------------------------------------------------------- reading helpers

def snapshot(version: ConfigurationVersion) -> dict:
    """Every field a partner or reviewer sets, as plain JSON values (audit diffs, fingerprint)."""
    return {field: getattr(version, field) for field in CONTENT_FIELDS}


def configuration_fingerprint(version: ConfigurationVersion) -> str:
    """A hash of the content a reviewer judges; decisions carry it so they apply to what was seen."""
    data = {**snapshot(version), "environment_id": version.environment_id}
    payload = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def endpoint(version: ConfigurationVersion | None, kind: str) -> dict:
    """One integration endpoint of a version: {"url", "enabled", "send_error_emails"}."""
    entry = ((version.endpoints or {}).get(kind) if version is not None else None) or {}
    return {"url": entry.get("url") or "", "enabled": bool(entry.get("enabled")),
            "send_error_emails": bool(entry.get("send_error_emails"))}


def widened_between(new: ConfigurationVersion, old: ConfigurationVersion | None) -> list[str]:
    """What ``new`` lets the app reach that ``old`` (the version it supersedes, or nothing) did not."""
    old_claims = set(old.claims or []) if old is not None else set()
    old_agents = set(old.agents or []) if old is not None else set()
    widened = []
    if SYSTEM_TOKEN_CLAIM in (new.claims or []) and SYSTEM_TOKEN_CLAIM not in old_claims:
        widened.append(WIDENED_SYSTEM_TOKEN)
    if ((WEBHOOK_AGENT in (new.agents or []) and WEBHOOK_AGENT not in old_agents)
            or (endpoint(new, EndpointKind.STATE_CHANGE)["enabled"]
                and not endpoint(old, EndpointKind.STATE_CHANGE)["enabled"])):
        widened.append(WIDENED_WEBHOOKS)
    mirroring = EndpointKind.MIRRORING
    if endpoint(new, mirroring)["enabled"] and not endpoint(old, mirroring)["enabled"]:
        widened.append(WIDENED_MIRRORING)
    return widened


def live_version(app: App, environment) -> ConfigurationVersion | None:
    return ConfigurationVersion.objects.filter(
        app=app, environment=environment, state=VersionState.PUBLISHED, superseded_at__isnull=True).first()


def scope_label(scope: str) -> str:
    return "All environments" if scope == UrlScope.ALL else scope


def missing_for_publish(version: ConfigurationVersion) -> list[str]:
    """What still blocks publishing (sod) or a publish request (stage, online), in form order."""
    app, env = version.app, version.environment.code
    missing: list[str] = []
    if not version.label.strip():
        missing.append("Version label is required.")
    for field, kind in URL_FIELDS.items():
        for scope, entries in (getattr(version, field) or {}).items():
            for problem in urlrules.check_entries(list(entries), kind=kind, scope=scope,
                                                  native=app.is_native):
                missing.append(f"{URL_FIELD_LABELS[field]} ({scope_label(scope)}): {problem}")
    if app.template not in NO_REDIRECT_TEMPLATES and not version.urls_for("redirect_urls", env):
        missing.append(f"Redirect URLs: add at least one that applies in {env} "
                       f"(under All environments or {env}).")
    if env in REVIEWED_ENVIRONMENTS and not app.is_custom \
            and not endpoint(version, EndpointKind.STATE_CHANGE)["url"]:
        missing.append("Customer state change endpoint URL is required for standard apps in stage "
                       "and online.")
    for kind in EndpointKind:
        entry = endpoint(version, kind)
        if entry["enabled"] and not entry["url"]:
            missing.append(f"{kind.label} endpoint is switched on but has no URL.")
        elif entry["url"] and (problem := urlrules.check_endpoint_url(entry["url"], environment=env)):
            missing.append(f"{kind.label} endpoint URL: {problem}")
    if env in REVIEWED_ENVIRONMENTS and not version.consent_text.strip():
        missing.append("Consent text is required for stage and online: customers read it before "
                       "they approve the app.")
    return missing


# ---------------------------------------------------------------- cleaning what is saved

def _clean_url_lists(field: str, value, *, native: bool) -> tuple[dict, list[str]]:
    if not isinstance(value, dict):
        return {}, [f"{URL_FIELD_LABELS[field]} must map a scope to a list of entries."]
    cleaned, errors = {}, []
    for scope, entries in value.items():
        if scope not in UrlScope.values:
            errors.append(f"Unknown scope \"{shown(str(scope), 20)}\"; "
                          f"use one of {', '.join(UrlScope.values)}.")
            continue
        if not isinstance(entries, list | tuple) or not all(isinstance(e, str) for e in entries):
            errors.append(f"{scope_label(scope)}: a list of lines is expected.")
            continue
        lines = list(dict.fromkeys(e.strip() for e in entries if e.strip()))
        if len(lines) > MAX_ENTRIES_PER_LIST:
            # Counted before any line is checked: a huge list costs nothing and says one thing.
            errors.append(f"{scope_label(scope)}: at most {MAX_ENTRIES_PER_LIST} entries; "
                          f"this list has {len(lines):,}.")
            continue
        problems = urlrules.check_entries(lines, kind=URL_FIELDS[field], scope=scope, native=native)
        errors += [f"{scope_label(scope)}: {problem}" for problem in problems]
        lines = list(dict.fromkeys(urlrules.normalise_entry(line) for line in lines))
        if lines:
            cleaned[scope] = lines
    return {scope: cleaned[scope] for scope in UrlScope.values if scope in cleaned}, errors


def _clean_endpoints(value, *, environment: str) -> tuple[dict, list[str]]:
    if not isinstance(value, dict):
        return {}, ["Endpoints must map an endpoint kind to its settings."]
    cleaned, errors = {}, []
    for kind, entry in value.items():
        if kind not in EndpointKind.values:
            errors.append(f"Unknown endpoint \"{shown(str(kind), 30)}\".")
            continue
        label = EndpointKind(kind).label
        entry = entry if isinstance(entry, dict) else {}
        url = str(entry.get("url") or "").strip()
        if url and (problem := urlrules.check_endpoint_url(url, environment=environment)):
            errors.append(f"{label} endpoint URL: {problem}")
        if url or entry.get("enabled"):
            cleaned[kind] = {"url": url, "enabled": bool(entry.get("enabled")),
                             "send_error_emails": bool(entry.get("send_error_emails"))}
    return {kind: cleaned[kind] for kind in EndpointKind.values if kind in cleaned}, errors


def _clean_names(field: str, value) -> tuple[list[str], list[str]]:
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        return [], [f"{field.replace('_', ' ').capitalize()} must be a list of names."]
    names = list(dict.fromkeys(v.strip() for v in value if v.strip()))
    if len(names) > MAX_NAMES_PER_LIST:
        return names, [f"At most {MAX_NAMES_PER_LIST} names; this list has {len(names):,}."]
    bad = [name for name in names if not NAME_TOKEN.match(name)]
    if bad:
        listed = ", ".join(shown(name, 40) for name in bad[:5]) + (f" and {len(bad) - 5} more"
                                                                   if len(bad) > 5 else "")
        return names, [f"Not a valid name: {listed} (a letter, then letters, digits, . _ : / -; "
                       "at most 100 characters)."]
    return names, []


def _clean_custom_claims(value) -> tuple[dict, list[str]]:
    if not isinstance(value, dict):
        return {}, ["Custom claims must map a claim name to a value."]
    if len(value) > MAX_CUSTOM_CLAIMS:
        return {}, [f"At most {MAX_CUSTOM_CLAIMS} custom claims; there are {len(value):,}."]
    cleaned, errors = {}, []
    for name, claim in value.items():
        name = str(name).strip()
        if not NAME_TOKEN.match(name):
            errors.append(f"Not a valid claim name: \"{shown(name, 40)}\".")
        elif not isinstance(claim, str) or len(claim) > MAX_CUSTOM_CLAIM_VALUE:
            errors.append(f"{name}: the value must be text of at most {MAX_CUSTOM_CLAIM_VALUE} characters.")
        else:
            cleaned[name] = claim
    if len(cleaned) > MAX_CUSTOM_CLAIMS:
        errors.append(f"At most {MAX_CUSTOM_CLAIMS} custom claims.")
    return cleaned, errors


def _same_label(version: ConfigurationVersion, label: str):
    """The app's other versions in the version's environment that carry ``label``."""
    return (ConfigurationVersion.objects.filter(app_id=version.app_id, environment_id=version.environment_id,
                                                label__iexact=label)
            .exclude(pk=version.pk).order_by("-created_at", "-id"))


def free_label(version: ConfigurationVersion, label: str, *, avoid: str = "") -> str:
    """``label``, or the next number after it that no other version in the environment uses."""
    for _ in range(1000):
        if label != avoid and not _same_label(version, label).exists():
            return label
        label = next_label(label)
    return label


def _label_problems(version: ConfigurationVersion, label: str) -> list[str]:
    """A label names one version per app and environment (SPEC §4: reviewers and the change log use it)."""
    existing = _same_label(version, label).first()
    if existing is None:
        return []
    env = version.environment.code
    return [f"Version {existing.label} for {env} already exists "
            f"({existing.get_state_display().lower()}, opened {existing.created_at:%Y-%m-%d}); "
            f"choose another label, such as {free_label(version, next_label(label), avoid=version.label)}."]


def clean_fields(version: ConfigurationVersion, fields: dict) -> dict:
    """The fields as they will be stored; ValidationError({field: [messages]}) when any is refused."""
    cleaned, errors = {}, {}
    native, env = version.app.is_native, version.environment.code
    for field, value in fields.items():
        problems: list[str] = []
        if field == "label":
            value = str(value or "").strip()
            if not value:
                problems.append("Enter a version label, for example 1.1.")
            elif len(value) > MAX_LABEL_LENGTH:
                problems.append(f"A version label has at most {MAX_LABEL_LENGTH} characters.")
            elif value != version.label or version.pk is None:
                problems += _label_problems(version, value)
        elif field in URL_FIELDS:
            value, problems = _clean_url_lists(field, value, native=native)
        elif field == "endpoints":
            value, problems = _clean_endpoints(value, environment=env)
        elif field == "consent_text":
            value = str(value or "").strip()
            if len(value) > MAX_CONSENT_LENGTH:
                problems.append(f"The consent text has {len(value):,} characters; "
                                f"at most {MAX_CONSENT_LENGTH:,} are allowed.")
        elif field in ("api_endpoints", "agents", "claims"):
            value, problems = _clean_names(field, value)
        elif field == "custom_claims":
            value, problems = _clean_custom_claims(value)
        elif field == "authorization_level":
            if value not in AuthorizationLevel.values:
                problems.append("Choose Administrator or Explicit.")
        if problems:
            errors[field] = problems
        cleaned[field] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def next_label(label: str) -> str:
    head, _, tail = label.rpartition(".")
    if tail.isdigit():
        return f"{head}.{int(tail) + 1}" if head else str(int(tail) + 1)
    return f"{label}.1"


