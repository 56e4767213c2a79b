from django.db import migrations


def fill(apps, schema_editor):
    # The fill runs in 0023 (the same recount as `manage.py rebuild_rollups`), after the
    # breakdowns and wallet figures the service also writes exist; a database that ran
    # this one before is recounted there again.
    return None


class Migration(migrations.Migration):
    dependencies = [
        ("trace", "0021_campaign_day_rollups"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
