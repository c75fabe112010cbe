"""Configuration versions: the first one made with the app, drafts, publishing and review.

A configuration version belongs to one environment. sod versions are published by the
partner at once; stage and online versions go through a publish request that App-manager
staff approve or reject (SPEC §4). Publishing supersedes the version live before it in
that app and environment, and reports what the new version widened (SPEC §4, last point)
through the ``configuration_published`` signal.
"""

import hashlib
import json
import re
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from audit import services as audit
from audit.models import AuditEntry
from tenants.models import Environment, context_identifier_validator

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
from ..permissions import require_app_permission
from ..signals import configuration_published
from ..tasks import notify_configuration_requested

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


def _free_label(version: ConfigurationVersion, label: str, *, avoid: str = "") -> str:
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
            f"choose another label, such as {_free_label(version, next_label(label), avoid=version.label)}."]


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


# ---------------------------------------------------------------- writes: the partner

def _environment(environment) -> Environment:
    if isinstance(environment, Environment):
        return environment
    try:
        return Environment.objects.get(code=environment)
    except Environment.DoesNotExist as exc:
        raise ValidationError(f"Unknown environment \"{shown(str(environment), 20)}\".") from exc


def _require_editable(version: ConfigurationVersion) -> None:
    if version.state == VersionState.PENDING:
        raise ValidationError(LOCKED_PENDING, code=LOCKED_CODE)
    if not version.is_editable:
        raise ValidationError(LOCKED_PUBLISHED, code=LOCKED_CODE)


def _lock(version: ConfigurationVersion) -> ConfigurationVersion:
    """The version row, locked for the rest of the transaction, read afresh."""
    return ConfigurationVersion.objects.select_for_update(of=("self",)).select_related(
        "app__partner", "environment").get(pk=version.pk)


def next_label(label: str) -> str:
    head, _, tail = label.rpartition(".")
    if tail.isdigit():
        return f"{head}.{int(tail) + 1}" if head else str(int(tail) + 1)
    return f"{label}.1"


def create_initial_configuration(*, actor, app: App, defaults: dict, redirect_urls: list[str],
                                 erp_endpoint_url: str = "", quote_endpoint_url: str = ""
                                 ) -> ConfigurationVersion:
    """Configuration 1.0 from the template's defaults, published to sod at once (SPEC §4).

    A local http:// redirect address is accepted here because 1.0 is for sod; it is kept in
    the sod list, so copies for stage and online do not inherit it.
    """
    errors: dict[str, list[str]] = {}
    if len(redirect_urls) > MAX_ENTRIES_PER_LIST:
        errors["redirect_urls"] = [f"At most {MAX_ENTRIES_PER_LIST} redirect URLs."]
    elif problems := urlrules.check_entries(redirect_urls, kind=urlrules.REDIRECT, scope=DIRECT_ENVIRONMENT,
                                            native=app.is_native):
        errors["redirect_urls"] = problems
    for field, url in (("erp_endpoint_url", erp_endpoint_url), ("quote_endpoint_url", quote_endpoint_url)):
        if url and (problem := urlrules.check_endpoint_url(url, environment=DIRECT_ENVIRONMENT)):
            errors[field] = [problem]
    if errors:
        raise ValidationError(errors)
    redirects: dict[str, list[str]] = {}
    for entry in dict.fromkeys(urlrules.normalise_entry(entry) for entry in redirect_urls):
        scope = UrlScope.SOD if urlrules.sod_only(entry, native=app.is_native) else UrlScope.ALL
        redirects.setdefault(str(scope), []).append(entry)
    endpoints = {}
    if erp_endpoint_url:
        endpoints[EndpointKind.ERP_SYNC] = {"url": erp_endpoint_url, "enabled": True,
                                            "send_error_emails": True}
    if quote_endpoint_url:
        endpoints[EndpointKind.QUOTE] = {"url": quote_endpoint_url, "enabled": True,
                                         "send_error_emails": True}
    version = ConfigurationVersion.objects.create(
        app=app, environment=Environment.objects.get(code=DIRECT_ENVIRONMENT), label="1.0",
        state=VersionState.PUBLISHED, published_at=timezone.now(), created_by=actor,
        redirect_urls=redirects, endpoints=endpoints, api_endpoints=list(defaults["api_endpoints"]),
        agents=list(defaults["agents"]), claims=list(defaults["claims"]),
    )
    audit.record(event_type="configuration_version_published", actor=actor, partner=app.partner,
                 app=app, target=version, message="Configuration 1.0 created and published to sod",
                 changes={"state": [None, version.state]})
    return version


@transaction.atomic
def create_configuration_version(*, actor, app: App, environment, label: str = "") -> ConfigurationVersion:
    """Open a draft for one environment, copied from the app's latest version in any environment.

    Refused while the app has an open (draft, pending or rejected) version in that environment.
    """
    require_app_permission(user=actor, app=app, permission="configuration")
    env = _environment(environment)
    # Serialises concurrent "new version" clicks for the same app.
    app = App.objects.select_for_update(of=("self",)).select_related("partner").get(pk=app.pk)
    open_version = app.configuration_versions.filter(environment=env, state__in=OPEN_STATES).first()
    if open_version is not None:
        raise ValidationError(
            f"Version {open_version.label} for {env.code} is still open "
            f"({open_version.get_state_display().lower()}); finish or withdraw it first.",
            code="open_version")
    source = app.configuration_versions.order_by("-created_at", "-id").first()
    chosen = (label or "").strip()
    draft = ConfigurationVersion(app=app, environment=env, created_by=actor,
                                 label=chosen or (next_label(source.label) if source else "1.0"))
    if not chosen:
        draft.label = _free_label(draft, draft.label)
    if source is not None:
        for field in CONTENT_FIELDS:
            if field != "label":
                setattr(draft, field, getattr(source, field))
        # Explicit is the production level of a custom app; sod keeps its default unless set there.
        if env.code == DIRECT_ENVIRONMENT and source.environment_id != env.pk:
            draft.authorization_level = AuthorizationLevel.ADMINISTRATOR
    clean_fields(draft, {"label": draft.label})
    draft.save()
    audit.record(event_type="configuration_version_created", actor=actor, partner=app.partner, app=app,
                 target=draft,
                 message=f"Configuration {draft.label} for {env.code} created"
                 + (f", copied from {source.label} ({source.environment.code})" if source else ""),
                 changes={"label": [None, draft.label], "environment": [None, env.code]})
    return draft


def _parse_seen(seen) -> datetime | None:
    if seen is None or isinstance(seen, datetime):
        return seen
    parsed = parse_datetime(str(seen))
    if parsed is None:
        raise ValidationError(STALE_FORM_MESSAGE, code=STALE_FORM_CODE)
    return parsed


@transaction.atomic
def update_configuration_version(*, actor, version: ConfigurationVersion, seen_updated_at=None,
                                 **fields) -> ConfigurationVersion:
    """Save a draft (or rejected) version.

    Partner fields need the "configuration" permission; staff-only fields (agents, claims, …)
    need an App manager. ``seen_updated_at`` is the version's updated_at when the form was
    opened: if someone saved since, nothing is changed.
    """
    unknown = set(fields) - set(CONTENT_FIELDS)
    if unknown:
        raise ValueError(f"Unknown configuration fields: {sorted(unknown)}")
    staff = getattr(actor, "is_app_manager", False)
    if set(fields) & set(STAFF_FIELDS) and not staff:
        raise PermissionDenied("Only platform staff may change "
                               + ", ".join(sorted(set(fields) & set(STAFF_FIELDS))).replace("_", " ") + ".")
    if not staff:
        require_app_permission(user=actor, app=version.app, permission="configuration")
    locked = _lock(version)
    _require_editable(locked)
    if str(fields.get("label", locked.label) or "").strip() != locked.label:
        # Two versions relabelled at once cannot both take the same free label.
        App.objects.select_for_update(of=("self",)).filter(pk=locked.app_id).first()
    seen = _parse_seen(seen_updated_at)
    if seen is not None and seen != locked.updated_at:
        raise ValidationError(STALE_FORM_MESSAGE, code=STALE_FORM_CODE)
    cleaned = clean_fields(locked, fields)
    before = snapshot(locked)
    for field, value in cleaned.items():
        setattr(locked, field, value)
    changes = audit.diff(before, snapshot(locked))
    if changes:
        locked.save()
        staff_edit = staff and set(fields) <= set(STAFF_FIELDS)
        audit.record(event_type="configuration_version_updated", actor=actor,
                     source=AuditEntry.Source.REVIEW if staff_edit else AuditEntry.Source.PORTAL,
                     partner=locked.app.partner, app=locked.app, target=locked,
                     message=f"Configuration {locked.label} ({locked.environment.code}) saved",
                     changes=changes)
    return locked


@transaction.atomic
def publish_configuration(*, actor, version: ConfigurationVersion) -> ConfigurationVersion:
    """sod: publish at once. stage / online: lock the version and ask staff to review it."""
    require_app_permission(user=actor, app=version.app, permission="configuration")
    version = _lock(version)
    _require_editable(version)
    missing = missing_for_publish(version)
    if missing:
        raise ValidationError(missing, code="incomplete")
    now = timezone.now()
    if version.environment.code not in REVIEWED_ENVIRONMENTS:
        _publish(version, actor=actor, now=now, source=AuditEntry.Source.PORTAL)
        return version
    old_state = version.state
    version.state = VersionState.PENDING
    version.submitted_by = actor
    version.submitted_at = now
    version.save(update_fields=["state", "submitted_by", "submitted_at", "updated_at"])
    audit.record(event_type="configuration_version_requested", actor=actor, partner=version.app.partner,
                 app=version.app, target=version,
                 message=f"Publishing of configuration {version.label} to {version.environment.code} "
                         "requested",
                 changes={"state": [old_state, version.state]})
    transaction.on_commit(lambda: notify_configuration_requested.delay(version.pk))
    return version


@transaction.atomic
def withdraw_configuration_request(*, actor, version: ConfigurationVersion) -> ConfigurationVersion:
    """The partner takes a pending version back to draft."""
    require_app_permission(user=actor, app=version.app, permission="configuration")
    version = _lock(version)
    if version.state != VersionState.PENDING:
        raise ValidationError("Only a pending version can be withdrawn.")
    version.state = VersionState.DRAFT
    version.save(update_fields=["state", "updated_at"])
    audit.record(event_type="configuration_version_withdrawn", actor=actor, partner=version.app.partner,
                 app=version.app, target=version,
                 message=f"Request for configuration {version.label} withdrawn",
                 changes={"state": [VersionState.PENDING, VersionState.DRAFT]})
    return version


@transaction.atomic
def set_custom_customer(*, actor, app: App, customer_name: str, context_identifier: str) -> App:
    """The one customer a custom app is for, asked for after its stage approval."""
    require_app_permission(user=actor, app=app, permission="configuration")
    app = App.objects.select_for_update(of=("self",)).select_related("partner").get(pk=app.pk)
    if not app.is_custom:
        raise ValidationError("Only a custom app is built for one customer.")
    name, ctx = (customer_name or "").strip(), (context_identifier or "").strip()
    errors: dict[str, list[str]] = {}
    if not name:
        errors["customer_name"] = ["Enter the customer's company name."]
    elif len(name) > CUSTOMER_NAME_MAX:
        errors["customer_name"] = [f"At most {CUSTOMER_NAME_MAX} characters."]
    try:
        context_identifier_validator(ctx)
    except ValidationError as exc:
        errors["context_identifier"] = exc.messages
    if not errors and len(ctx) > App._meta.get_field("customer_context_identifier").max_length:
        errors["context_identifier"] = ["The context identifier is too long."]
    if errors:
        raise ValidationError(errors)
    before = {"customer_name": app.customer_name,
              "customer_context_identifier": app.customer_context_identifier}
    app.customer_name, app.customer_context_identifier = name, ctx
    app.save(update_fields=["customer_name", "customer_context_identifier", "updated_at"])
    changes = audit.diff(before, {"customer_name": name, "customer_context_identifier": ctx})
    if changes:
        audit.record(event_type="app_customer_set", actor=actor, partner=app.partner, app=app,
                     message=f"Customer of {app.name}: {name} ({ctx})", changes=changes)
    return app


# ---------------------------------------------------------------- publishing (both paths)

def _send_published(version_id: int, widened: list[str]) -> None:
    version = ConfigurationVersion.objects.select_related("app", "environment").get(pk=version_id)
    configuration_published.send(sender=ConfigurationVersion, app=version.app,
                                 environment=version.environment, version=version, widened=widened)


def _publish(version: ConfigurationVersion, *, actor, now, source: str,
             reviewed: bool = False) -> ConfigurationVersion | None:
    """Make a locked version live; returns the version it superseded, if any."""
    app, env = version.app, version.environment
    previous = (ConfigurationVersion.objects.select_for_update(of=("self",))
                .filter(app=app, environment=env, state=VersionState.PUBLISHED, superseded_at__isnull=True)
                .exclude(pk=version.pk).first())
    if previous is not None:
        # Before the new version goes live: one live version per app and environment.
        previous.superseded_at = now
        previous.save(update_fields=["superseded_at"])
        audit.record(event_type="configuration_version_superseded", actor=actor, source=source,
                     partner=app.partner, app=app, target=previous,
                     message=f"Configuration {previous.label} ({env.code}) superseded by {version.label}",
                     changes={"superseded_at": [None, now.isoformat()]})
    old_state = version.state
    version.widened = widened_between(version, previous)
    version.state = VersionState.PUBLISHED
    version.published_at = now
    if reviewed:
        version.reviewed_by = actor
        version.reviewed_at = now
        version.review_reason = ""
    version.save()
    audit.record(event_type="configuration_version_published", actor=actor, source=source,
                 partner=app.partner, app=app, target=version,
                 message=f"Configuration {version.label} published to {env.code}"
                 + (f", superseding {previous.label}" if previous else ""),
                 changes={"state": [old_state, version.state]})
    if version.widened:
        widened = list(version.widened)
        audit.record(event_type="configuration_widened", actor=actor, source=source,
                     partner=app.partner, app=app, target=version,
                     message=f"Configuration widened: {', '.join(widened)}; existing tenant "
                             "authorizations need re-approval",
                     changes={"widened": [[], widened]})
        transaction.on_commit(lambda: _send_published(version.pk, widened))
    return previous
