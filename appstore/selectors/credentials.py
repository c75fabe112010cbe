"""Reads for the credentials pages: an app's client in one environment and whether it can be used."""

from dataclasses import dataclass, field

from ..models import App, AppClient, ConfigurationVersion, Partner, ReviewStatus, VersionState

PRODUCTION_ENVIRONMENT = "online"
NO_CONFIGURATION = ("No configuration is published in {environment} yet; the client cannot be used "
                    "there until one is.")
PRODUCTION_BLOCKED = ("Production credentials stay inactive until certification and the security "
                      "audit have passed.")


@dataclass(frozen=True)
class ClientStatus:
    """Whether a client can sign in now, and if not, every reason why not."""

    usable: bool
    reasons: tuple[str, ...] = field(default_factory=tuple)
    live_configuration: ConfigurationVersion | None = None


def client_of(partner: Partner, app_id: int, env_code: str) -> AppClient:
    """The app's client in one environment, or AppClient.DoesNotExist (never another partner's)."""
    return AppClient.objects.select_related(
        "app__partner", "environment", "secret__created_by", "certificate__created_by",
    ).get(app__partner=partner, app_id=app_id, environment__code=env_code)


def clients_of(app: App) -> list[AppClient]:
    """The app's clients, one per environment, in environment order (the page's tabs)."""
    return list(app.clients.select_related("environment"))


def live_configuration(client: AppClient) -> ConfigurationVersion | None:
    return ConfigurationVersion.objects.filter(
        app_id=client.app_id, environment_id=client.environment_id,
        state=VersionState.PUBLISHED, superseded_at__isnull=True).first()


def client_status(client: AppClient) -> ClientStatus:
    live = live_configuration(client)
    reasons = []
    if live is None:
        reasons.append(NO_CONFIGURATION.format(environment=client.environment.name))
    app = client.app
    if (client.environment.code == PRODUCTION_ENVIRONMENT and not app.is_custom
            and not (app.certification_status == ReviewStatus.PASSED
                     and app.security_audit_status == ReviewStatus.PASSED)):
        reasons.append(PRODUCTION_BLOCKED)
    return ClientStatus(usable=not reasons, reasons=tuple(reasons), live_configuration=live)
