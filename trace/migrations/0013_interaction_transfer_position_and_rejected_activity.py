"""Each transfer of a transaction its own row: interactions are unique on the transfer's
position in the transaction (DESIGN.md, "Chain data"), not on a log index that every
log-less transfer shared as -1; and the items of a delivery that could not be stored are
kept with their reason."""

from django.db import migrations, models
from django.db.models import Case, CharField, F, Value, When
from django.db.models.functions import Cast, Concat


def positions_fill(apps, schema_editor):
    """Existing rows keep their identity: a log's index, Alchemy's category for its
    log-less transfers (one per category was all that could be kept), a Helius
    instruction's index, and the transaction's own value for the rest."""
    interaction = apps.get_model("trace", "ContractInteraction")
    index = Cast("log_index", CharField())
    interaction.objects.update(
        transfer_position=Case(
            When(source="helius", log_index__gte=0, then=Concat(Value("instruction:"), index)),
            When(source="helius", then=Value("transaction")),
            When(log_index__gte=0, then=Concat(Value("log:"), index)),
            When(source="alchemy", then=F("event_type")),
            default=Value("external"),
        )
    )


class Migration(migrations.Migration):
    dependencies = [
        ("trace", "0012_certificate_content_hash"),
    ]

    operations = [
        migrations.AddField(
            model_name="contractinteraction",
            name="transfer_position",
            field=models.CharField(default="", max_length=96),
            preserve_default=False,
        ),
        migrations.RunPython(positions_fill, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="contractinteraction",
            name="interaction_unique_project_chain_tx_log",
        ),
        migrations.AddConstraint(
            model_name="contractinteraction",
            constraint=models.UniqueConstraint(
                fields=("project", "chain", "transaction_hash", "transfer_position"),
                name="interaction_unique_project_chain_tx_position",
            ),
        ),
        migrations.CreateModel(
            name="RejectedActivity",
            fields=[
                ("id", models.BigAutoField(primary_key=True, serialize=False)),
                (
                    "source",
                    models.CharField(
                        choices=[
                            ("alchemy", "Alchemy webhook"),
                            ("helius", "Helius webhook"),
                            ("indexer", "JSON-RPC indexer"),
                        ],
                        max_length=8,
                    ),
                ),
                ("delivery_id", models.CharField(max_length=128)),
                (
                    "item_index",
                    models.IntegerField(help_text="the item's position in the delivery"),
                ),
                ("chain", models.CharField(blank=True, max_length=64)),
                ("reason", models.CharField(max_length=500)),
                ("item", models.JSONField(help_text="the item as received")),
                ("received_at", models.DateTimeField(db_index=True)),
            ],
            options={
                "constraints": [
                    models.UniqueConstraint(
                        fields=("source", "delivery_id", "item_index"),
                        name="rejected_activity_unique_item",
                    )
                ],
            },
        ),
    ]
