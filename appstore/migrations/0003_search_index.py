"""Full-text search index for the store (PostgreSQL only; SQLite searches with LIKE)."""

from django.db import migrations

# Must match the expression appstore.selectors.store builds, or PostgreSQL won't use it.
CREATE = ("CREATE INDEX IF NOT EXISTS listing_search_gin ON appstore_listingversion "
          "USING GIN (to_tsvector('simple'::regconfig, COALESCE(search_text, '')))")
DROP = "DROP INDEX IF EXISTS listing_search_gin"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("appstore", "0002_taxonomy")]
    operations = [migrations.RunPython(forwards, backwards)]
