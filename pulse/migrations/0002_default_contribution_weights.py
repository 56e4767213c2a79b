from decimal import Decimal

from django.db import migrations

# The documented defaults at the time of this migration (pulse.models.
# DEFAULT_CONTRIBUTION_WEIGHTS); copied, so that later edits there do not rewrite history.
WEIGHTS = {
    "pull_request_merged": Decimal("5.00"),
    "review_approved": Decimal("4.00"),
    "review_changes_requested": Decimal("4.00"),
    "review_commented": Decimal("3.00"),
    "pull_request_opened": Decimal("2.00"),
    "issue_opened": Decimal("1.50"),
    "issue_closed": Decimal("1.50"),
    "commit": Decimal("1.00"),
    "issue_comment": Decimal("0.50"),
    "reply": Decimal("1.00"),
    "thread_message": Decimal("0.75"),
    "message": Decimal("0.50"),
    "reaction": Decimal("0.20"),
    "member_join": Decimal("0.00"),
    "page_edit": Decimal("1.00"),
}


def seed(apps, schema_editor):
    ContributionWeight = apps.get_model("pulse", "ContributionWeight")
    for contribution_type, weight in WEIGHTS.items():
        ContributionWeight.objects.get_or_create(
            contribution_type=contribution_type, defaults={"weight": weight}
        )


class Migration(migrations.Migration):
    dependencies = [("pulse", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
