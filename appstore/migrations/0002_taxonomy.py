from django.db import migrations

CATEGORIES = [
    ("email-document-calendar", "Email, document & calendar"),
    ("digital-signature", "Digital signature"),
    ("business-intelligence-reporting", "Business intelligence & reporting"),
    ("prospecting-data-quality", "Prospecting & data quality"),
    ("integration-tools", "Integration tools"),
    ("cti", "CTI"),
    ("productivity", "Productivity"),
    ("email-marketing-sms", "Email marketing & SMS"),
    ("erp", "ERP"),
    ("quotations", "Quotations"),
]
LANGUAGES = [("da", "Danish"), ("nl", "Dutch"), ("en", "English"), ("fi", "Finnish"),
             ("fr", "French"), ("de", "German"), ("it", "Italian"), ("no", "Norwegian"),
             ("rm", "Romansh"), ("sv", "Swedish")]
MARKETS = [("benelux", "Benelux"), ("denmark", "Denmark"), ("finland", "Finland"),
           ("germany", "Germany"), ("norway", "Norway"), ("sweden", "Sweden"),
           ("switzerland", "Switzerland"), ("united-kingdom", "United Kingdom")]


def create(apps, schema_editor):
    Category = apps.get_model("appstore", "Category")
    Language = apps.get_model("appstore", "Language")
    Market = apps.get_model("appstore", "Market")
    for rank, (slug, name) in enumerate(CATEGORIES):
        Category.objects.update_or_create(slug=slug, defaults={"name": name, "rank": rank})
    for code, name in LANGUAGES:
        Language.objects.update_or_create(code=code, defaults={"name": name})
    for slug, name in MARKETS:
        Market.objects.update_or_create(slug=slug, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("appstore", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
