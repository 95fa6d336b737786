from django.db import migrations, models


class Migration(migrations.Migration):
    # Stored wires predate `rate_card_alias` in the response and `wire_expires_at`: forget them
    # so each package renders again (with both) at its first read, as package_wires_fill does.

    dependencies = [
        ("packages_app", "0004_package_wire"),
    ]

    operations = [
        migrations.AddField(
            model_name="credittype",
            name="archived_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="package",
            name="wire_expires_at",
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunSQL(
            "UPDATE packages_app_package SET wire = NULL WHERE wire IS NOT NULL",
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
