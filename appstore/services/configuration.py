"""Configuration versions: the first one made with the app, drafts, publishing and review.

A configuration version belongs to one environment. sod versions are published by the
partner at once; stage and online versions go through a publish request that App-manager
staff approve or reject (SPEC §4). Publishing supersedes the version live before it in
that app and environment, and reports what the new version widened (SPEC §4, last point)
through the ``configuration_published`` signal.
"""

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
    AuthorizationLevel,
    ConfigurationVersion,
    EndpointKind,
    UrlScope,
    VersionState,
)
from ..permissions import require_app_permission
from ..signals import configuration_published
from ..tasks import notify_configuration_requested
from .configuration_fields import (
    CONTENT_FIELDS,
    CUSTOMER_NAME_MAX,
    DIRECT_ENVIRONMENT,
    LOCKED_CODE,
    LOCKED_PENDING,
    LOCKED_PUBLISHED,
    MAX_ENTRIES_PER_LIST,
    OPEN_STATES,
    REVIEWED_ENVIRONMENTS,
    STAFF_FIELDS,
    STALE_FORM_CODE,
    STALE_FORM_MESSAGE,
    clean_fields,
    free_label,
    missing_for_publish,
    next_label,
    shown,
    snapshot,
    widened_between,
)

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
        draft.label = free_label(draft, draft.label)
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
