# One timeline per subscription (its live contracts never overlap), a GiST index of a package's
# contracts over time (covering_date pages), and no index of its own for the package foreign key
# (the cohort index leads with package_id). contracts_app.models.uuid_key explains the UUID keys.

import django.contrib.postgres.constraints
import django.contrib.postgres.indexes
import django.db.models.deletion
from django.db import migrations, models


def uuid_half(field, take):
    return models.Func(
        models.F(field),
        function=take,
        output_field=models.BigIntegerField(),
        template="('x' || %(function)s(replace(%(expressions)s::text, '-', ''), 16))::bit(64)::bigint",
    )


def int8_key(field, take):
    return models.Func(
        uuid_half(field, take), uuid_half(field, take), models.Value("[]"), function="int8range"
    )


SPAN = models.Func(models.F("starting_at"), models.F("ending_before"), function="tstzrange")


class Migration(migrations.Migration):
    dependencies = [
        ("contracts_app", "0003_contract_term_single_index"),
        ("packages_app", "0003_catalog_rate_type"),
    ]

    operations = [
        migrations.AlterField(
            model_name="contract",
            name="package",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="contracts",
                to="packages_app.package",
            ),
        ),
        migrations.AddIndex(
            model_name="contract",
            index=django.contrib.postgres.indexes.GistIndex(
                int8_key("package_id", "left"), SPAN, name="contract_cohort_span"
            ),
        ),
        migrations.AddConstraint(
            model_name="contract",
            constraint=django.contrib.postgres.constraints.ExclusionConstraint(
                condition=models.Q(("archived_at__isnull", True), ("subscription__isnull", False)),
                expressions=[
                    (int8_key("subscription_id", "left"), "="),
                    (int8_key("subscription_id", "right"), "="),
                    (SPAN, "&&"),
                ],
                name="contract_subscription_timeline",
                violation_error_message="The contracts of a subscription cannot overlap.",
            ),
        ),
    ]
