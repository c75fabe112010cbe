"""The template defaults now live in the configuration versions (copied by 0010)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("appstore", "0010_copy_app_configuration"),
    ]

    operations = [
        migrations.RemoveField(
            model_name='app',
            name='agents',
        ),
        migrations.RemoveField(
            model_name='app',
            name='api_endpoints',
        ),
        migrations.RemoveField(
            model_name='app',
            name='claims',
        ),
        migrations.RemoveField(
            model_name='app',
            name='erp_endpoint_url',
        ),
        migrations.RemoveField(
            model_name='app',
            name='quote_endpoint_url',
        ),
        migrations.RemoveField(
            model_name='app',
            name='redirect_urls',
        ),
    ]
