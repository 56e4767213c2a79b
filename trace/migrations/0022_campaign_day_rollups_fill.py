from django.db import migrations


def fill(apps, schema_editor):
    # The same recount as `manage.py rebuild_rollups`: the service reads and writes only
    # columns this migration's state has.
    from trace.services.rollups import rollups_rebuild

    rollups_rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("trace", "0021_campaign_day_rollups"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
