import django.db.models.deletion
from decimal import Decimal

from django.db import migrations, models


def fill(apps, schema_editor):
    # The fill runs in 0024 (the same recount as `manage.py rebuild_rollups`), after the
    # wallet tables the service also writes exist; a database that ran this one before is
    # recounted there again.
    return None


class Migration(migrations.Migration):
    """Per-campaign-per-day breakdowns (referrer, UTM, bot reason, during a pause) and the
    converted wallets' figures of a day, filled from the raw rows."""

    dependencies = [
        ("trace", "0022_campaign_day_rollups_fill"),
    ]

    operations = [
        migrations.AddField(
            model_name="campaigndaywallet",
            name="conversions",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="campaigndaywallet",
            name="last_converted_at",
            field=models.DateTimeField(null=True),
        ),
        migrations.AddField(
            model_name="campaigndaywallet",
            name="value_usd",
            field=models.DecimalField(decimal_places=2, default=Decimal("0.00"), max_digits=39),
        ),
        migrations.CreateModel(
            name="CampaignDayBreakdown",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "campaign_id",
                        "dimension",
                        "date",
                        "value",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                (
                    "dimension",
                    models.CharField(
                        choices=[
                            ("referrer", "Referring host"),
                            ("utm_source", "utm_source"),
                            ("utm_medium", "utm_medium"),
                            ("utm_campaign", "utm_campaign"),
                            ("utm_term", "utm_term"),
                            ("utm_content", "utm_content"),
                            ("bot_reason", "Bot reason"),
                            ("paused", "During a pause"),
                        ],
                        max_length=16,
                    ),
                ),
                ("date", models.DateField()),
                ("value", models.CharField(max_length=512)),
                ("clicks", models.PositiveBigIntegerField(default=0)),
                ("retained_clicks", models.PositiveBigIntegerField(default=0)),
                (
                    "campaign",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="trace.campaign",
                    ),
                ),
            ],
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
