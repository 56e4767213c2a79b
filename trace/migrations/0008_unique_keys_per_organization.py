"""Click ids and conversions' (transaction, event type) are unique per organization, no
longer across all tenants."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("trace", "0007_click_conversion_organization_fill"),
    ]

    operations = [
        migrations.AlterField(
            model_name="click",
            name="organization",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="accounts.organization",
            ),
        ),
        migrations.AlterField(
            model_name="conversion",
            name="organization",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="+",
                to="accounts.organization",
            ),
        ),
        migrations.AlterField(
            model_name="click",
            name="click_id",
            field=models.CharField(max_length=64),
        ),
        migrations.AddConstraint(
            model_name="click",
            constraint=models.UniqueConstraint(
                fields=("click_id", "organization"), name="click_unique_per_organization"
            ),
        ),
        migrations.RemoveConstraint(
            model_name="conversion",
            name="conversion_unique_tx_event",
        ),
        migrations.AddConstraint(
            model_name="conversion",
            constraint=models.UniqueConstraint(
                fields=("transaction_hash", "event_type", "organization"),
                name="conversion_unique_per_organization",
            ),
        ),
    ]
