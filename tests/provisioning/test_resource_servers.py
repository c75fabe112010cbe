"""A resource server introspects every token of its environment, and only of its environment."""

import io

import pytest
from django.core.management import CommandError, call_command

from provisioning.models import ResourceServer

from .test_tokens import basic, tokens_for

pytestmark = pytest.mark.django_db


def create(env: str = "sod") -> tuple[str, str]:
    out = io.StringIO()
    call_command("create_resource_server", env, "CRM API", stdout=out)
    values = dict(line.split("=", 1) for line in out.getvalue().splitlines() if "=" in line)
    return values["client_id"], values["client_secret"]


def test_secret_is_shown_once_and_stored_hashed():
    client_id, secret = create()
    server = ResourceServer.objects.get(client_id=client_id)
    assert secret not in server.secret_hash


def test_resource_server_introspects_any_app_token(client, login_app, tenant_a):
    tokens = tokens_for(client, login_app, tenant_a.admin.user)
    client_id, secret = create()
    answer = client.post("/sod/login/common/oauth/introspect", {"token": tokens["access_token"]},
                         HTTP_AUTHORIZATION=basic(client_id, secret)).json()
    assert answer["active"] is True and answer["ctx"] == "Cust10001"
    assert answer["client_id"] == login_app.client_id


def test_resource_server_of_another_environment_is_refused(client, login_app, tenant_a):
    tokens = tokens_for(client, login_app, tenant_a.admin.user)
    client_id, secret = create("online")
    response = client.post("/sod/login/common/oauth/introspect", {"token": tokens["access_token"]},
                           HTTP_AUTHORIZATION=basic(client_id, secret))
    assert response.status_code == 401


def test_wrong_secret_is_refused(client):
    client_id, _ = create()
    response = client.post("/sod/login/common/oauth/introspect", {"token": "8A:Cust1.x"},
                           HTTP_AUTHORIZATION=basic(client_id, "wrong"))
    assert response.status_code == 401


def test_command_refuses_unknown_environment_and_empty_name():
    with pytest.raises(CommandError, match="choose one of"):
        call_command("create_resource_server", "prod", "x")
    with pytest.raises(CommandError, match="name"):
        call_command("create_resource_server", "sod", "  ")
