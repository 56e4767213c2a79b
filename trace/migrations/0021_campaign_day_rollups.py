import django.db.models.deletion
from decimal import Decimal

from django.db import migrations, models


class Migration(migrations.Migration):
    """CampaignClickDay (the counts of clicks past retention) becomes CampaignDay, the one
    per-campaign-per-day rollup: its counts move to `retained_*`, the totals are new and
    filled by the next migration."""

    dependencies = [
        ("trace", "0020_campaign_status_and_clicks_during_pause"),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="campaignclickday", name="clickday_unique_campaign_day"),
        migrations.RenameModel(old_name="CampaignClickDay", new_name="CampaignDay"),
        migrations.RenameField(model_name="campaignday", old_name="clicks", new_name="retained_clicks"),
        migrations.RenameField(
            model_name="campaignday", old_name="bot_clicks", new_name="retained_bot_clicks"
        ),
        migrations.RenameField(
            model_name="campaignday", old_name="unique_visitors", new_name="retained_unique_visitors"
        ),
        migrations.AlterField(
            model_name="campaignday",
            name="retained_clicks",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name="campaignday",
            name="retained_bot_clicks",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name="campaignday",
            name="retained_unique_visitors",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.AlterField(
            model_name="campaignday",
            name="campaign",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="days",
                to="trace.campaign",
            ),
        ),
        migrations.AddField(
            model_name="campaignday", name="clicks", field=models.PositiveBigIntegerField(default=0)
        ),
        migrations.AddField(
            model_name="campaignday",
            name="bot_clicks",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="campaignday",
            name="unique_visitors",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="campaignday",
            name="conversions",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="campaignday",
            name="converted_wallets",
            field=models.PositiveBigIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="campaignday",
            name="conversion_value_usd",
            field=models.DecimalField(decimal_places=2, default=Decimal("0.00"), max_digits=39),
        ),
        migrations.AddField(
            model_name="campaignday",
            name="proven_value_usd",
            field=models.DecimalField(decimal_places=2, default=Decimal("0.00"), max_digits=39),
        ),
        migrations.AddConstraint(
            model_name="campaignday",
            constraint=models.UniqueConstraint(fields=("campaign", "date"), name="campaignday_unique"),
        ),
        migrations.CreateModel(
            name="CampaignDayVisitor",
            fields=[
                ("pk", models.CompositePrimaryKey("campaign_id", "date", "visitor", blank=True, editable=False, primary_key=True, serialize=False)),
                ("date", models.DateField()),
                ("visitor", models.CharField(max_length=32)),
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
        migrations.CreateModel(
            name="CampaignDayWallet",
            fields=[
                ("pk", models.CompositePrimaryKey("campaign_id", "date", "wallet_address", blank=True, editable=False, primary_key=True, serialize=False)),
                ("date", models.DateField()),
                ("wallet_address", models.CharField(max_length=64)),
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
    ]
