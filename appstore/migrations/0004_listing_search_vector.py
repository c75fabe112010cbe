"""Store search's tsvector in a column kept by a trigger, and index that column.

PostgreSQL only: on SQLite the column stays empty and the store searches with LIKE.
"""

import django.contrib.postgres.search
from django.db import migrations

FORWARD = [
    "DROP INDEX IF EXISTS listing_search_gin",
    """CREATE OR REPLACE FUNCTION appstore_listing_search_vector() RETURNS trigger AS $$
       BEGIN
         NEW.search_vector := to_tsvector('simple'::regconfig, COALESCE(NEW.search_text, ''));
         RETURN NEW;
       END $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER listing_search_vector BEFORE INSERT OR UPDATE ON appstore_listingversion
       FOR EACH ROW EXECUTE FUNCTION appstore_listing_search_vector()""",
    "UPDATE appstore_listingversion SET search_vector = to_tsvector('simple'::regconfig, "
    "COALESCE(search_text, ''))",
    "CREATE INDEX listing_search_gin ON appstore_listingversion USING GIN (search_vector)",
]
BACKWARD = [
    "DROP INDEX IF EXISTS listing_search_gin",
    "DROP TRIGGER IF EXISTS listing_search_vector ON appstore_listingversion",
    "DROP FUNCTION IF EXISTS appstore_listing_search_vector()",
    "CREATE INDEX IF NOT EXISTS listing_search_gin ON appstore_listingversion "
    "USING GIN (to_tsvector('simple'::regconfig, COALESCE(search_text, '')))",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)
    return run


class Migration(migrations.Migration):
    dependencies = [("appstore", "0003_search_index")]

    operations = [
        migrations.AddField(
            model_name="listingversion",
            name="search_vector",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(_run(FORWARD), _run(BACKWARD)),
    ]
