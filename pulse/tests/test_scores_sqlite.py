"""The embedded database of `make run`: the same calculation on SQLite gives the same
numbers as on PostgreSQL (its dialect in `pulse.services.scores._DIALECTS`).

Runs `manage.py` in a subprocess on a SQLite file of its own, as `make run` would."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from django.conf import settings

SCRIPT = """
import datetime as dt, json
from decimal import Decimal
from accounts.models import Organization
from pulse.models import Contribution, Contributor, Team
from pulse.services.scores import scores_calculate

as_of = dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC)
organization = Organization.objects.create(name="Lite", slug="lite")
team = Team.objects.create(organization=organization, team_name="Lite", discord_guild_id="1")
now = Contributor.objects.create(team=team, wallet_address="0x" + "1" * 40,
                                 github_login="now", github_identity="linked")
old = Contributor.objects.create(team=team, wallet_address="0x" + "2" * 40, github_login="old")
rows = [Contribution(team=team, contributor=now, platform="github", source_id=f"pr:{n}",
                     contribution_type="pull_request_merged", weight=Decimal("5.00"),
                     occurred_at=as_of, verification="verified") for n in range(100)]
rows.append(Contribution(team=team, contributor=old, platform="github", source_id="c:1",
                         contribution_type="commit", weight=Decimal("1.00"),
                         occurred_at=as_of - dt.timedelta(days=90), verification="verified"))
rows += [Contribution(team=team, contributor=now, platform="discord", source_id=f"d:{n}",
                      contribution_type="reply", weight=Decimal("2.50"),
                      occurred_at=as_of, verification="verified") for n in range(100)]
Contribution.objects.bulk_create(rows)
scores_calculate(as_of=as_of)
team.refresh_from_db(); now.refresh_from_db(); old.refresh_from_db()
print(json.dumps({
    "now": str(now.contribution_score), "old": str(old.contribution_score),
    "now_share": str(now.verified_share), "old_share": str(old.verified_share),
    "developer": str(team.developer_activity_score), "community": str(team.community_score),
    "bus_factor": team.score_components["team_retention"]["bus_factor"],
}))
"""


def test_scores_on_sqlite_match_the_documented_numbers(tmp_path):
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in {"DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL"}
    }
    env.update(DJANGO_ENV="development", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")

    def manage(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=settings.BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    manage("migrate", "--noinput", "-v0")
    result = json.loads(manage("shell", "-v0", "-c", SCRIPT).strip().splitlines()[-1])
    assert result == {
        "now": "750.00",  # 100 merged PRs × 5 + 100 replies × 1 × 2.50
        "old": "0.50",  # a commit 90 days old: half of 1
        "now_share": "0.6667",  # GitHub linked, Discord only asserted: 500 of 750
        "old_share": "0.0000",  # asserted identity
        "developer": "50.03",  # 100 × (1 − 2^(−500.5 / 500))
        "community": "50.00",  # 100 × (1 − 2^(−250 / 250))
        "bus_factor": 1,
    }
