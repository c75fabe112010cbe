"""The template defaults now live in the configuration versions (copied by 0010)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("appstore", "0010_copy_app_configuration"),
    ]

    operations = [
    ]
