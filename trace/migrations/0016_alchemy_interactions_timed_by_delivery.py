"""Alchemy interactions stored so far took their time from the delivery (`createdAt`), not
from their block: say so, so that they can be told from the rows timed by their block."""

from django.db import migrations


def mark_delivery_timed(apps, schema_editor):
    ContractInteraction = apps.get_model("trace", "ContractInteraction")
    ContractInteraction.objects.filter(source="alchemy").update(occurred_at_source="delivery")


class Migration(migrations.Migration):
    dependencies = [
        ("trace", "0015_interaction_occurred_at_source"),
    ]

    operations = [
        migrations.RunPython(mark_delivery_timed, migrations.RunPython.noop),
    ]
