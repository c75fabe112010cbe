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


def test_only_a_verified_address_becomes_primary(client, db):
    from allauth.account.models import EmailAddress

    from accounts.models import User

    user = User.objects.create_user(email="owner@example.com", password="x" * 12)
    EmailAddress.objects.create(user=user, email="owner@example.com", primary=True, verified=False)
    client.force_login(user)
    client.post("/accounts/email/", {"action_add": "", "email": "someone-else@example.com"})
    assert EmailAddress.objects.filter(user=user, email="someone-else@example.com", verified=False).exists()
    page = client.post("/accounts/email/", {"action_primary": "", "email": "someone-else@example.com"},
                       follow=True)
    user.refresh_from_db()
    assert user.email == "owner@example.com"  # the address is not claimed by typing it
    assert "Confirm someone-else@example.com first" in page.content.decode()
    EmailAddress.objects.filter(email="someone-else@example.com").update(verified=True)
    client.post("/accounts/email/", {"action_primary": "", "email": "someone-else@example.com"})
    user.refresh_from_db()
    assert user.email == "someone-else@example.com"  # once verified, it may
