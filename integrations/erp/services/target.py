"""Where a connection's calls go: the app's live ERP sync endpoint, client and registered key in the
tenant's environment, and the clients for the connector and the CRM API."""

from __future__ import annotations

import base64
import hashlib
import json

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

from appstore.models import AppClient, EndpointKind
from appstore.selectors.configuration import live_configuration
from appstore.services.configuration_fields import endpoint
from appstore.services.credentials import certificate_of
from provisioning.models import Authorization

from ...calls import CallRecorder
from ...models import ErpConnection
from ..connector import ConnectorTarget, ErpConnectorClient


class EndpointOff(Exception):  # noqa: N818 - a state the tenant admin is told about
    pass


def erp_endpoint(authorization: Authorization) -> dict | None:
    """The app's ERP sync endpoint in the tenant's environment when it is on and has a URL."""
    entry = endpoint(
        live_configuration(authorization.app, authorization.tenant.environment), EndpointKind.ERP_SYNC
    )
    return entry if entry["enabled"] and entry["url"] else None


def connector_target(authorization: Authorization) -> ConnectorTarget:
    entry = erp_endpoint(authorization)
    environment = authorization.tenant.environment
    if entry is None:
        raise EndpointOff(f"{authorization.app.name}'s ERP sync endpoint is off in {environment.code}.")
    client = AppClient.objects.filter(app=authorization.app, environment=environment).first()
    if client is None:
        raise EndpointOff(f"{authorization.app.name} has no client in {environment.code}.")
    certificate = certificate_of(client)
    return ConnectorTarget(
        endpoint=entry["url"],
        environment=environment,
        client_id=client.client_id,
        public_key_pem=certificate.public_key_pem if certificate else None,
        context_identifier=authorization.tenant.context_identifier,
    )


def recorder_for(
    authorization: Authorization, connection: ErpConnection | None = None, run_id: int | None = None
) -> CallRecorder:
    return CallRecorder(
        app_id=authorization.app_id,
        tenant_id=authorization.tenant_id,
        connection_id=connection.pk if connection else None,
        run_id=run_id,
    )


def connector_for(
    authorization: Authorization,
    recorder: CallRecorder,
    connection: ErpConnection | None = None,
    *,
    interactive: bool = False,
) -> ErpConnectorClient:
    """The connector's client; ``interactive`` for a page someone waits on: one attempt, and the
    shorter INTEGRATION_SETUP_TIMEOUT for an answer (a run retries and waits longer)."""
    return ErpConnectorClient(
        connector_target(authorization),
        recorder,
        connection_id=str(connection.connection_id) if connection else None,
        config_values=config_values(connection) if connection else None,
        retry_delays=[] if interactive else None,
        read_timeout=settings.INTEGRATION_SETUP_TIMEOUT if interactive else None,
    )


def _cipher() -> Fernet:
    # Its own key, derived from the key that encrypts the signing keys, so neither decrypts the other.
    digest = hashlib.sha256(b"integrations.config:" + settings.SIGNING_KEY_ENCRYPTION_KEY.encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def config_values(connection: ErpConnection) -> dict:
    """The configuration values as the connector was given them (Password fields included)."""
    if not connection.config_encrypted:
        return {}
    try:
        return json.loads(_cipher().decrypt(connection.config_encrypted.encode()).decode())
    except (InvalidToken, ValueError):
        return {}


def set_config_values(connection: ErpConnection, values: dict) -> None:
    connection.config_encrypted = _cipher().encrypt(json.dumps(values).encode()).decode()
