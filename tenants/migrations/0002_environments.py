from django.db import migrations

ENVIRONMENTS = [("sod", "Development (SOD)", 0), ("stage", "Stage", 1), ("online", "Online (production)", 2)]


def create(apps, schema_editor):
    Environment = apps.get_model("tenants", "Environment")
    for code, name, rank in ENVIRONMENTS:
        Environment.objects.update_or_create(code=code, defaults={"name": name, "rank": rank})


class Migration(migrations.Migration):
    dependencies = [("tenants", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
