"""Fill the organization of existing clicks and conversions from their campaign.

One UPDATE per table. Run the migrations with the click flush paused (the Redis stream
keeps the clicks meanwhile): a row inserted by the old code between this migration and
the next would have no organization, and 0004 would refuse to make the column NOT NULL.
"""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def fill(apps, schema_editor):
    Campaign = apps.get_model("trace", "Campaign")
    organization_of_campaign = Subquery(
        Campaign.objects.filter(pk=OuterRef("campaign_id")).values("organization_id")[:1]
    )
    for name in ("Click", "Conversion"):
        model = apps.get_model("trace", name)
        model.objects.filter(organization__isnull=True).update(
            organization_id=organization_of_campaign
        )


class Migration(migrations.Migration):
    dependencies = [("trace", "0006_click_conversion_organization")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
