from django.db import migrations


def create_login_clients(apps, schema_editor):
    AppClient = apps.get_model("appstore", "AppClient")
    LoginClient = apps.get_model("provisioning", "LoginClient")
    for app_client in AppClient.objects.select_related("app").exclude(login_client__isnull=False):
        LoginClient.objects.create(
            app_client=app_client, client_id=app_client.client_id, environment_id=app_client.environment_id,
            name=app_client.app.name[:255], client_type="confidential",
            authorization_grant_type="authorization-code", algorithm="RS256", hash_client_secret=False,
        )


class Migration(migrations.Migration):
    dependencies = [("provisioning", "0001_initial")]

    operations = [migrations.RunPython(create_login_clients, migrations.RunPython.noop)]
