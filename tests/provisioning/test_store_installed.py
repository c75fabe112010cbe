"""The store's "Installed for <company>" marker, registered by the login service through
appstore.installed so the App Store never imports it."""

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from django.utils.html import escape

from appstore import installed
from provisioning.models import Authorization
from provisioning.selectors import installed_companies
from provisioning.services.authorizations import approve, uninstall
from tenants.models import TenantMember

from ..factories import AppFactory, published_listing
from .conftest import tenant_with_people

pytestmark = pytest.mark.django_db


@pytest.fixture
def store_app(settings):
    settings.STORE_ENVIRONMENT = "online"
    app = AppFactory(name="Ledger Link")
    published_listing(app=app)
    return app


@pytest.fixture
def online_a(db):
    return tenant_with_people("Cust40001", env="online")


@pytest.fixture
def online_b(db):
    return tenant_with_people("Cust40002", env="online")


def app_page(client, app, user=None) -> str:
    if user is not None:
        client.force_login(user)
    response = client.get(f"/apps/{app.partner.seo_name}/{app.seo_name}/")
    assert response.status_code == 200
    return response.content.decode()


def badge(people) -> str:
    return escape(f"Installed for {people.tenant.company_name}")


def install(app, people) -> Authorization:
    return approve(app=app, tenant=people.tenant, user=people.admin.user, consent_text="")


def test_the_login_service_registers_the_lookup_at_start():
    assert installed.installed_lookup is installed_companies


def test_badge_for_members_of_a_tenant_with_the_app_active(client, store_app, online_a):
    install(store_app, online_a)
    assert badge(online_a) in app_page(client, store_app, online_a.member.user)
    assert badge(online_a) in app_page(client, store_app, online_a.admin.user)


def test_no_badge_for_a_member_of_another_tenant(client, store_app, online_a, online_b):
    install(store_app, online_a)
    body = app_page(client, store_app, online_b.admin.user)
    assert "Installed for" not in body and escape(online_a.tenant.company_name) not in body


def test_no_badge_for_visitors(client, store_app, online_a):
    install(store_app, online_a)
    assert "Installed for" not in app_page(client, store_app)


def test_no_badge_after_uninstall(client, store_app, online_a):
    authorization = install(store_app, online_a)
    assert badge(online_a) in app_page(client, store_app, online_a.member.user)
    uninstall(authorization=authorization, user=online_a.admin.user)
    assert "Installed for" not in app_page(client, store_app, online_a.member.user)


def test_no_badge_once_expired(client, store_app, online_a):
    authorization = install(store_app, online_a)
    Authorization.objects.filter(pk=authorization.pk).update(valid_to=timezone.now() - timedelta(minutes=1))
    assert "Installed for" not in app_page(client, store_app, online_a.member.user)


def test_only_tenants_of_the_stores_environment_count(client, store_app):
    sod = tenant_with_people("Cust40003", env="sod")
    install(store_app, sod)
    assert "Installed for" not in app_page(client, store_app, sod.member.user)


def test_several_companies_are_all_named(client, store_app, online_a, online_b):
    TenantMember.objects.create(tenant=online_b.tenant, user=online_a.member.user)
    install(store_app, online_a)
    install(store_app, online_b)
    body = app_page(client, store_app, online_a.member.user)
    names = sorted([online_a.tenant.company_name, online_b.tenant.company_name])
    assert escape("Installed for " + ", ".join(names)) in body


def test_store_asks_nothing_when_no_lookup_is_registered(client, store_app, online_a, monkeypatch):
    install(store_app, online_a)
    monkeypatch.setattr(installed, "installed_lookup", None)
    assert "Installed for" not in app_page(client, store_app, online_a.member.user)


def test_the_store_never_imports_the_login_service():
    """Arrows point provisioning → appstore (ARCHITECTURE.md); the hook is how the store hears back."""
    offenders = []
    for path in Path(settings.BASE_DIR, "appstore").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            offenders += [f"{path}: {name}" for name in names
                          if name.split(".")[0] in ("provisioning", "integrations")]
    assert offenders == []
