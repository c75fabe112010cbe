"""Give every existing app its clients (one per environment) and configuration 1.0 in sod,
built from the template fields the app carried until now."""

import uuid

from django.db import migrations
from django.utils import timezone


def copy(apps, schema_editor):
    App = apps.get_model("appstore", "App")
    AppClient = apps.get_model("appstore", "AppClient")
    ConfigurationVersion = apps.get_model("appstore", "ConfigurationVersion")
    Environment = apps.get_model("tenants", "Environment")
    environments = list(Environment.objects.all())
    sod = next((env for env in environments if env.code == "sod"), None)
    now = timezone.now()
    for app in App.objects.all():
        for env in environments:
            AppClient.objects.get_or_create(app=app, environment=env,
                                            defaults={"client_id": uuid.uuid4().hex})
        if sod is None or ConfigurationVersion.objects.filter(app=app).exists():
            continue
        endpoints = {}
        if app.erp_endpoint_url:
            endpoints["erp_sync"] = {"url": app.erp_endpoint_url, "enabled": True, "send_error_emails": True}
        if app.quote_endpoint_url:
            endpoints["quote"] = {"url": app.quote_endpoint_url, "enabled": True, "send_error_emails": True}
        redirects = [line.strip() for line in app.redirect_urls.splitlines() if line.strip()]
        ConfigurationVersion.objects.create(
            app=app, environment=sod, label="1.0", state="published", published_at=now,
            redirect_urls={"all": redirects} if redirects else {}, endpoints=endpoints,
            api_endpoints=app.api_endpoints, agents=app.agents, claims=app.claims,
            authorization_level="administrator")


class Migration(migrations.Migration):
    dependencies = [
        ("appstore", "0009_configuration_registry_and_team"),
        ("tenants", "0002_environments"),
    ]

    operations = [
        migrations.RunPython(copy, migrations.RunPython.noop),
    ]
