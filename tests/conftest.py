import importlib
import os
import shutil

import pytest
from django.apps import apps as django_apps
from django.conf import settings
from django.core.cache import cache

from accounts.services import ensure_user

from .factories import PartnerMemberFactory

# In CI every service is present: a missing one must fail the run, never skip it.
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
CHROMIUM = "/usr/bin/chromium"


def _service_missing(marker: str) -> str | None:
    if marker == "postgres" and not settings.USING_POSTGRES:
        return "PostgreSQL not configured (set DATABASE_URL)"
    if marker == "redis" and not settings.REDIS_URL:
        return "Redis not configured (set REDIS_URL)"
    if marker == "browser" and not shutil.which(CHROMIUM):
        return f"Chromium not found at {CHROMIUM}"
    return None


def pytest_runtest_setup(item):
    for marker in ("postgres", "redis", "browser"):
        if item.get_closest_marker(marker):
            reason = _service_missing(marker)
            if reason:
                if REQUIRE_SERVICES:
                    pytest.fail(f"Required service missing in CI: {reason}")
                pytest.skip(reason)


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    # Passwords, client secrets: the production hasher is slow by design; tests only need a hash.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher",
                                 "appstore.hashers.ClientSecretHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Test servers listen on 127.0.0.1; the refusal of private addresses is tested with this off.
    settings.OUTBOUND_ALLOW_PRIVATE_NETWORKS = True
    settings.ALLOW_PRIVATE_PARTNER_URLS = False  # the production rule; tests of local URLs turn it on
    settings.STORAGES = {**settings.STORAGES, "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
    from config.celery import app as celery_app
    celery_app.conf.task_always_eager = True
    celery_app.conf.task_eager_propagates = True
    yield
    celery_app.conf.task_always_eager = False


# Rows the data migrations create. A transactional test's flush removes them, so tests
# that commit (browser, real worker) put them back first.
REFERENCE_DATA_MIGRATIONS = ("tenants.migrations.0002_environments",
                             "accounts.migrations.0002_app_manager_group",
                             "appstore.migrations.0002_taxonomy")


@pytest.fixture
def reference_data(transactional_db):
    for module in REFERENCE_DATA_MIGRATIONS:
        importlib.import_module(module).create(django_apps, None)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and cached pages must not leak from one test into the next."""
    cache.clear()


@pytest.fixture
def partner_member(db):
    """A member with every permission of a fresh partner."""
    return PartnerMemberFactory()


@pytest.fixture
def other_partner_member(db):
    return PartnerMemberFactory()


@pytest.fixture
def app_manager(db):
    return ensure_user(email="reviewer@example.com", password="test-password-123",
                       is_staff=True, app_manager=True)


@pytest.fixture
def partner_client(client, partner_member):
    client.force_login(partner_member.user)
    return client


@pytest.fixture
def staff_client(client, app_manager):
    client.force_login(app_manager)
    return client


@pytest.fixture
def sandbox_resource_servers(db, settings):
    """The CRM sandbox's resource servers (crm-sandbox-<env>) with the configured secret."""
    from provisioning.services.resource_servers import ensure_sandbox_resource_servers

    ensure_sandbox_resource_servers()
    return settings.CRM_SANDBOX_CLIENT_SECRET
