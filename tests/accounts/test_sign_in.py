import pytest

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_email_and_password_sign_in(client):
    UserFactory(email="ada@example.com")
    response = client.post("/accounts/login/", {"login": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get("/portal/").wsgi_request.user.email == "ada@example.com"


def test_password_guessing_is_stopped_even_for_the_right_password(client):
    UserFactory(email="ada@example.com")
    for _ in range(5):
        client.post("/accounts/login/", {"login": "ada@example.com", "password": "wrong-guess"})
    response = client.post("/accounts/login/", {"login": "ada@example.com", "password": PASSWORD})
    assert response.status_code == 200
    assert b"Too many failed login attempts" in response.content
    assert not response.wsgi_request.user.is_authenticated
