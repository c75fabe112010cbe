"""The client-ID registry: client IDs, secrets and certificates per environment."""

import uuid

from tenants.models import Environment

from ..models import App, AppClient


def new_client_id() -> str:
    """32 lowercase hex characters (SPEC §3)."""
    return uuid.uuid4().hex


def create_clients(*, app: App) -> list[AppClient]:
    """One client per environment, made with the app; regenerable later, never typed."""
    return [AppClient.objects.create(app=app, environment=env, client_id=new_client_id())
            for env in Environment.objects.all()]
