"""API calls to the sandbox with introspection answered by a stand-in (the real call over HTTP is
tested in test_auth.py against a live server)."""

import json

import pytest

from crm_sandbox import auth

BASE_A = "/sandbox/sod/Cust10001/api/v1"
BASE_B = "/sandbox/sod/Cust10002/api/v1"
TOKEN_A = "8A:Cust10001.token-of-a"
TOKEN_B = "8A:Cust10002.token-of-b"

ANSWERS = {
    TOKEN_A: {"active": True, "client_id": "app-a", "ctx": "Cust10001", "system_user": False},
    TOKEN_B: {"active": True, "client_id": "app-b", "ctx": "Cust10002", "system_user": False,
              "integration_service": True},
}


@pytest.fixture(autouse=True)
def introspection(monkeypatch):
    """Every introspection the sandbox makes, answered from ANSWERS and counted."""
    calls = []

    def fake(environment_code: str, token: str, app_token: str) -> dict:
        calls.append((environment_code, token, app_token))
        return ANSWERS.get(token, {"active": False})

    monkeypatch.setattr(auth, "introspect", fake)
    return calls


class Api:
    def __init__(self, client, base: str, token: str):
        self.client, self.base, self.token = client, base, token

    def _headers(self) -> dict:
        return {"HTTP_AUTHORIZATION": f"Bearer {self.token}"}

    def get(self, path: str, params: dict | None = None):
        return self.client.get(self.base + path, params or {}, **self._headers())

    def post(self, path: str, body):
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.client.post(self.base + path, data, content_type="application/json", **self._headers())

    def put(self, path: str, body):
        data = body if isinstance(body, str | bytes) else json.dumps(body)
        return self.client.put(self.base + path, data, content_type="application/json", **self._headers())

    def delete(self, path: str):
        return self.client.delete(self.base + path, **self._headers())

    def create(self, entity: str, **fields) -> dict:
        response = self.post(f"/{entity}", fields)
        assert response.status_code == 201, response.content
        return response.json()


@pytest.fixture
def api_a(client, db) -> Api:
    return Api(client, BASE_A, TOKEN_A)


@pytest.fixture
def api_b(client, db) -> Api:
    return Api(client, BASE_B, TOKEN_B)
