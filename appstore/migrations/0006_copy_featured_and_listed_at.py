"""Copy featuring and the first-listed date from listing versions to their apps."""

from django.db import migrations
from django.db.models import Min


def copy_to_apps(apps, schema_editor):
    App = apps.get_model("appstore", "App")
    ListingVersion = apps.get_model("appstore", "ListingVersion")
    firsts = (ListingVersion.objects.filter(published_at__isnull=False).values("app_id")
              .annotate(first=Min("published_at")))
    for row in firsts:
        App.objects.filter(pk=row["app_id"]).update(listed_at=row["first"])
    featured = ListingVersion.objects.filter(is_featured=True).values_list("app_id", flat=True)
    App.objects.filter(pk__in=list(featured)).update(is_featured=True)


class Migration(migrations.Migration):

    dependencies = [
        ("appstore", "0005_app_featured_and_listed_at"),
    ]

    operations = [
        migrations.RunPython(copy_to_apps, migrations.RunPython.noop),
        migrations.RemoveField(
            model_name="listingversion",
            name="is_featured",
        ),
    ]
