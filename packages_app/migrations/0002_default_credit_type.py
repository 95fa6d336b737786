import uuid

from django.db import migrations

USD_CENTS_ID = uuid.UUID("2714e483-4ff1-48e4-9e25-ac732e8f24f2")


def create_usd_cents(apps, schema_editor):
    CreditType = apps.get_model("packages_app", "CreditType")
    CreditType.objects.get_or_create(
        id=USD_CENTS_ID, defaults={"name": "USD (cents)", "is_currency": True}
    )


class Migration(migrations.Migration):
    dependencies = [("packages_app", "0001_initial")]
    operations = [migrations.RunPython(create_usd_cents, migrations.RunPython.noop)]
