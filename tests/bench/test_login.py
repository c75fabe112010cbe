"""The benchmark's login-service data: what it mints is what the token endpoint accepts."""

import pytest

from bench import login
from provisioning.models import Authorization, Grant

pytestmark = pytest.mark.django_db


def post(client, request):
    return client.post(request.path, request.body, content_type="application/x-www-form-urlencoded",
                       HTTP_AUTHORIZATION=dict(request.headers)["Authorization"])


def test_prepare_is_idempotent_and_minted_codes_exchange_refresh_and_introspect(client):
    first = login.prepare()
    bench = login.prepare()
    assert (bench.client_id, bench.authorization_id, bench.user_id) == (
        first.client_id, first.authorization_id, first.user_id)
    assert bench.secret != first.secret and Authorization.objects.count() == 1

    codes = login.mint_codes(bench, 3)
    assert len(set(codes)) == 3 and Grant.objects.count() == 3
    response = post(client, bench.code_exchange(codes[0]))
    assert response.status_code == 200, response.content
    tokens = response.json()
    assert tokens["access_token"].startswith(f"8A:{login.CONTEXT}.")

    refreshed = post(client, bench.refresh(tokens["refresh_token"]))
    assert refreshed.status_code == 200, refreshed.content
    answer = post(client, bench.introspection(refreshed.json()["access_token"])).json()
    assert answer["active"] is True and answer["ctx"] == login.CONTEXT
    # Single use: a replayed refresh token or code is refused (and revokes what came from it).
    assert post(client, bench.refresh(tokens["refresh_token"])).status_code == 400
    assert post(client, bench.code_exchange(codes[0])).status_code == 400


def test_the_old_secret_stops_working_and_a_new_prepare_clears_codes(client):
    old = login.prepare()
    code = login.mint_codes(old, 1)[0]
    bench = login.prepare()
    assert not Grant.objects.exists()
    assert post(client, old.code_exchange(login.mint_codes(bench, 1)[0])).status_code == 401
    assert post(client, bench.code_exchange(code)).status_code == 400
