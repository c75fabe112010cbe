"""Featuring and the first-listed date belong to the app, so new listing versions keep them.

The data is copied in 0006: PostgreSQL cannot build this migration's index in the same
transaction that updates the table's rows.
"""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("appstore", "0004_listing_search_vector"),
    ]

    operations = [
        migrations.AddField(
            model_name="app",
            name="is_featured",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="app",
            name="listed_at",
            field=models.DateTimeField(blank=True, db_index=True, null=True),
        ),
    ]
