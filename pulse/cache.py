"""What PULSE's cached reads depend on, and the writes that retire them
(fabrknt/readcache.py; README, "Read cache").

- `pulse:team:<id>`: a team's vitality dashboard (gauges, explanation, trend,
  leaderboard): the team's row, its contributors and its snapshots. The score
  calculation writes them with bulk and raw SQL updates, so it calls `teams_changed`
  itself; saves and deletes of teams and contributors arrive through the receivers.
- `pulse:sbt-metadata`: every minted token's public metadata and badge: the token
  records and their teams' names. A mint's receipt (`_record_minted`, a queryset update)
  calls `sbt_metadata_changed`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db.models.signals import post_delete, post_save

from fabrknt.readcache import changed

SBT_METADATA = "pulse:sbt-metadata"


def team_scope(team_id: object) -> str:
    return f"pulse:team:{team_id}"


def teams_changed(team_ids: Iterable[object]) -> None:
    changed(*(team_scope(pk) for pk in team_ids))


def sbt_metadata_changed() -> None:
    changed(SBT_METADATA)


def _team_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    changed(team_scope(instance.pk), SBT_METADATA)


def _contributor_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    changed(team_scope(instance.team_id))


def _record_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    changed(SBT_METADATA)


def connect() -> None:
    """Called by PulseConfig.ready()."""
    from pulse.models import Contributor, SBTRecord, Team

    for event, signal in (("save", post_save), ("delete", post_delete)):
        signal.connect(_team_saved, sender=Team, dispatch_uid=f"readcache-team-{event}")
        signal.connect(
            _contributor_saved, sender=Contributor, dispatch_uid=f"readcache-contributor-{event}"
        )
        signal.connect(_record_saved, sender=SBTRecord, dispatch_uid=f"readcache-sbt-{event}")
