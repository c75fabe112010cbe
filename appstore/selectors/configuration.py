"""Reads of configuration versions: the partner's (always scoped to the partner) and staff's."""

from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, QuerySet, Subquery

from audit.models import AuditEntry
from audit.selectors import entries_for_target
from tenants.models import Environment

from ..models import (
    App,
    AuthorizationLevel,
    ConfigurationVersion,
    EndpointKind,
    Partner,
    UrlScope,
    VersionState,
)
from ..services.configuration_fields import (
    OPEN_STATES,
    URL_FIELD_LABELS,
    URL_FIELDS,
    endpoint,
    scope_label,
    snapshot,
)
from .review import ComparisonRow

VERSION_RELATIONS = ("app__partner", "environment", "created_by", "submitted_by", "reviewed_by")


def live_configuration(app: App, environment) -> ConfigurationVersion | None:
    """The version live in an environment (an Environment or its code), or None."""
    qs = ConfigurationVersion.objects.filter(app=app, state=VersionState.PUBLISHED,
                                             superseded_at__isnull=True)
    if isinstance(environment, str):
        return qs.filter(environment__code=environment).first()
    return qs.filter(environment=environment).first()


def configuration_versions_of(partner: Partner, app_id: int) -> QuerySet[ConfigurationVersion]:
    """Every configuration version of one of the partner's apps, newest first."""
    return (ConfigurationVersion.objects.filter(app__partner=partner, app_id=app_id)
            .select_related(*VERSION_RELATIONS).order_by("-created_at", "-id"))


def configuration_of(partner: Partner, app_id: int, pk: int) -> ConfigurationVersion:
    """A version of one of the partner's apps, or ConfigurationVersion.DoesNotExist."""
    return ConfigurationVersion.objects.select_related(*VERSION_RELATIONS).get(
        app__partner=partner, app_id=app_id, pk=pk)


@dataclass
class EnvironmentVersions:
    """One environment's column of the versions page."""

    environment: Environment
    live: ConfigurationVersion | None = None
    open: ConfigurationVersion | None = None
    history: list[ConfigurationVersion] = field(default_factory=list)


def versions_by_environment(partner: Partner, app_id: int) -> list[EnvironmentVersions]:
    """The app's versions grouped per environment, from two queries whatever their number."""
    groups = {env.pk: EnvironmentVersions(environment=env) for env in Environment.objects.order_by("rank")}
    for version in configuration_versions_of(partner, app_id):
        group = groups[version.environment_id]
        if version.is_live:
            group.live = version
        elif version.state in OPEN_STATES and group.open is None:
            group.open = version
        else:
            group.history.append(version)
    return list(groups.values())


def configuration_change_log(version: ConfigurationVersion) -> QuerySet[AuditEntry]:
    """The audit entries about one version, oldest first."""
    return entries_for_target(version)


# ---------------------------------------------------------------- staff

def _live_versions() -> QuerySet[ConfigurationVersion]:
    return ConfigurationVersion.objects.filter(
        app=OuterRef("app"), environment=OuterRef("environment"),
        state=VersionState.PUBLISHED, superseded_at__isnull=True)


def pending_configurations() -> QuerySet[ConfigurationVersion]:
    """Publish requests waiting for staff, oldest first, each with the label live in its environment."""
    return (
        ConfigurationVersion.objects.filter(state=VersionState.PENDING)
        .select_related("app__partner", "environment", "submitted_by")
        .annotate(is_update=Exists(_live_versions()),
                  live_label=Subquery(_live_versions().values("label")[:1]))
        .order_by("submitted_at", "id")
    )


def configuration_for_review(pk: int) -> ConfigurationVersion:
    """Any partner's version with what the review page shows; DoesNotExist when absent."""
    return ConfigurationVersion.objects.select_related(
        "app__partner__technical_contact", "app__technical_contact", "environment", "submitted_by",
        "reviewed_by").get(pk=pk)


def baseline_for(version: ConfigurationVersion) -> ConfigurationVersion | None:
    """What the reviewer compares with: for a published version the one it replaced, else what is live."""
    if version.state == VersionState.PUBLISHED:
        if version.published_at is None:
            return None
        return (ConfigurationVersion.objects.filter(
            app_id=version.app_id, environment_id=version.environment_id, state=VersionState.PUBLISHED,
            published_at__lte=version.published_at).exclude(pk=version.pk)
            .order_by("-published_at", "-id").first())
    return live_configuration(version.app, version.environment)


def other_versions(version: ConfigurationVersion) -> QuerySet[ConfigurationVersion]:
    """The app's other versions, for the staff page's list (staff may open drafts from it)."""
    return (ConfigurationVersion.objects.filter(app_id=version.app_id).exclude(pk=version.pk)
            .select_related("environment").order_by("-created_at", "-id"))


def _endpoint_lines(data: dict, kind: str) -> list[str]:
    entry = (data.get("endpoints") or {}).get(kind)
    if not entry:
        return []
    shown = endpoint(None, kind) | entry
    return [shown["url"] or "(no URL)", "On" if shown["enabled"] else "Off",
            "Error e-mails on" if shown["send_error_emails"] else "Error e-mails off"]


def _level_label(value) -> list[str]:
    if not value:
        return []
    return [AuthorizationLevel(value).label if value in AuthorizationLevel.values else str(value)]


def _plain(value) -> list[str]:
    if value in (None, "", [], {}):
        return []
    if isinstance(value, dict):
        return [f"{key} = {item}" for key, item in value.items()]
    if isinstance(value, list | tuple):
        return [str(item) for item in value]
    return [str(value)]


def compare(old: dict | None, new: dict) -> list[ComparisonRow]:
    """Every configuration field side by side; URL lists one row per scope, endpoints one per kind."""
    old_data = old or {}
    rows: list[ComparisonRow] = []

    def add(key: str, label: str, old_lines: list[str], new_lines: list[str]) -> None:
        rows.append(ComparisonRow(key=key, label=label, old=old_lines, new=new_lines,
                                  changed=old is not None and old_lines != new_lines))

    add("label", "Version label", _plain(old_data.get("label")), _plain(new.get("label")))
    for url_field in URL_FIELDS:
        for scope in UrlScope.values:
            add(f"{url_field}-{scope}", f"{URL_FIELD_LABELS[url_field]} · {scope_label(scope)}",
                _plain((old_data.get(url_field) or {}).get(scope)),
                _plain((new.get(url_field) or {}).get(scope)))
    for kind in EndpointKind:
        add(f"endpoint-{kind.value}", f"Endpoint: {kind.label}", _endpoint_lines(old_data, kind.value),
            _endpoint_lines(new, kind.value))
    add("consent_text", "Consent text", _plain(old_data.get("consent_text")), _plain(new.get("consent_text")))
    for key, label in (("api_endpoints", "API endpoints"), ("agents", "Agents"), ("claims", "Claims"),
                       ("custom_claims", "Custom claims")):
        add(key, f"{label} (staff)", _plain(old_data.get(key)), _plain(new.get(key)))
    add("authorization_level", "Authorization level (staff)",
        _level_label(old_data.get("authorization_level")), _level_label(new.get("authorization_level")))
    return rows


def configuration_comparison(version: ConfigurationVersion,
                             baseline: ConfigurationVersion | None) -> list[ComparisonRow]:
    return compare(snapshot(baseline) if baseline else None, snapshot(version))


def apps_with_endpoint_on(app_ids, environment: Environment, kind: str) -> set[int]:
    """The apps (of ``app_ids``) whose live version in ``environment`` has the endpoint on with a URL,
    in one query (the customer's installed-apps page links ERP sync from it)."""
    rows = (ConfigurationVersion.objects
            .filter(app_id__in=list(app_ids), environment=environment, state=VersionState.PUBLISHED,
                    superseded_at__isnull=True)
            .values_list("app_id", "endpoints"))
    return {app_id for app_id, endpoints in rows
            if (entry := (endpoints or {}).get(kind) or {}).get("enabled") and entry.get("url")}
