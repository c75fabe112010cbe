"""App names are unique by a normalised, case-folded key instead of by lower(name).

Existing names are normalised (NFKC, single spaces). Names that only now turn out to be
the same name keep the oldest app's spelling; later apps get a number appended.
"""

from django.db import migrations, models

from appstore.names import name_key, normalise_name

NAME_MAX = 64


def fill_name_keys(apps, schema_editor):
    App = apps.get_model("appstore", "App")
    taken: set[str] = set()
    for pk, name in App.objects.order_by("created_at", "pk").values_list("pk", "name"):
        base = new_name = normalise_name(name) or f"App {pk}"
        n = 2
        while name_key(new_name) in taken:
            suffix = f" {n}"
            new_name = base[:NAME_MAX - len(suffix)] + suffix
            n += 1
        taken.add(name_key(new_name))
        App.objects.filter(pk=pk).update(name=new_name, name_key=name_key(new_name))


class Migration(migrations.Migration):

    dependencies = [
        ("appstore", "0006_copy_featured_and_listed_at"),
    ]

    operations = [
        migrations.AddField(
            model_name="app",
            name="name_key",
            field=models.CharField(default="", editable=False, max_length=200),
            preserve_default=False,
        ),
        migrations.RunPython(fill_name_keys, migrations.RunPython.noop),
        # The unique index comes in 0008: PostgreSQL cannot build an index on a table whose
        # rows this transaction has just updated (their deferred FK checks are pending).
    ]
