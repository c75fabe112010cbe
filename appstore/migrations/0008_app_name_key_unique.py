from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("appstore", "0007_app_name_key"),
    ]

    operations = [
        migrations.AlterField(
            model_name="app",
            name="name_key",
            field=models.CharField(editable=False, max_length=200, unique=True),
        ),
        migrations.RemoveConstraint(
            model_name="app",
            name="app_name_unique_ci",
        ),
    ]
