"""PULSE milestones (API.md's list): one rule each, evaluated on the team's recorded
contributions, in one aggregate query per team.

| milestone           | met when the contributor has, in this team                          |
|---------------------|---------------------------------------------------------------------|
| `first-merged-pr`   | one merged pull request                                              |
| `ten-reviews`       | ten pull request reviews (approved, changes requested or commented)  |
| `hundred-commits`   | a hundred commits                                                    |
| `six-months-active` | contributions in six different calendar months                       |
| `community-helper`  | twenty Discord replies that count (weight above zero: the Omotenashi |
|                     | weighting gives self-replies and floods none)                        |

Every recorded contribution counts, verified or self-reported: a milestone says what the
team's record shows, and its token links back to that record.

`evaluate_team(team)` (called after scores are calculated) claims a token for every
milestone met for the first time and enqueues its mint.
"""

from __future__ import annotations

import dataclasses

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth

from pulse.models import (
    ContributionType,
    Contributor,
    Milestone,
    Platform,
    SBTRecord,
    Team,
    WalletNamespace,
)


@dataclasses.dataclass(frozen=True)
class MilestoneRule:
    milestone: str
    annotation: str  # the count annotated on contributors
    threshold: int
    description: str


REVIEW_TYPES = (
    ContributionType.REVIEW_APPROVED,
    ContributionType.REVIEW_CHANGES_REQUESTED,
    ContributionType.REVIEW_COMMENTED,
)

RULES: dict[str, MilestoneRule] = {
    rule.milestone: rule
    for rule in (
        MilestoneRule(Milestone.FIRST_MERGED_PR, "merged_prs", 1, "One merged pull request."),
        MilestoneRule(Milestone.TEN_REVIEWS, "reviews", 10, "Ten pull request reviews."),
        MilestoneRule(Milestone.HUNDRED_COMMITS, "commits", 100, "A hundred commits."),
        MilestoneRule(
            Milestone.SIX_MONTHS_ACTIVE,
            "active_months",
            6,
            "Contributions in six different calendar months.",
        ),
        MilestoneRule(
            Milestone.COMMUNITY_HELPER,
            "helpful_replies",
            20,
            "Twenty Discord replies to others that count.",
        ),
    )
}


def milestone_counts(contributors: QuerySet[Contributor]) -> QuerySet[Contributor]:
    """Contributors annotated with what each rule counts (one grouped query)."""
    of_type = "contributions__contribution_type"
    return contributors.annotate(
        merged_prs=Count(
            "contributions",
            filter=Q(**{of_type: ContributionType.PULL_REQUEST_MERGED}),
        ),
        reviews=Count("contributions", filter=Q(**{f"{of_type}__in": REVIEW_TYPES})),
        commits=Count("contributions", filter=Q(**{of_type: ContributionType.COMMIT})),
        active_months=Count(TruncMonth("contributions__occurred_at"), distinct=True),
        helpful_replies=Count(
            "contributions",
            filter=Q(
                contributions__platform=Platform.DISCORD,
                contributions__contribution_type=ContributionType.REPLY,
                contributions__weight__gt=0,
            ),
        ),
    )


def milestones_met(contributor: Contributor) -> list[str]:
    """The milestones this contributor has met, by the team's recorded contributions."""
    counted = milestone_counts(Contributor.objects.filter(pk=contributor.pk)).get()
    return _met(counted)


def milestone_progress(contributor: Contributor) -> dict[str, tuple[int, int]]:
    """milestone -> (count so far, threshold), for the pages."""
    counted = milestone_counts(Contributor.objects.filter(pk=contributor.pk)).get()
    return {
        name: (getattr(counted, rule.annotation), rule.threshold) for name, rule in RULES.items()
    }


def _met(counted: Contributor) -> list[str]:
    return [
        name for name, rule in RULES.items() if getattr(counted, rule.annotation) >= rule.threshold
    ]


def evaluate_team(team: Team) -> list[SBTRecord]:
    """Claims a token for each milestone an EVM contributor of the team meets and has no
    record of yet, and enqueues its mint; the new records. Without SBT_CHAIN or a deployed
    contract nothing is claimed (the milestones are evaluated again on the next run)."""
    from pulse.services.sbt import SbtUnavailable, sbt_claim

    held = set(SBTRecord.objects.filter(team=team).values_list("contributor_id", "milestone"))
    contributors = milestone_counts(
        team.contributors.filter(wallet_namespace=WalletNamespace.EVM)
    ).order_by("pk")
    claimed: list[SBTRecord] = []
    for contributor in contributors:
        for milestone in _met(contributor):
            if (contributor.pk, milestone) in held:
                continue
            try:
                claim = sbt_claim(contributor=contributor, milestone=milestone)
            except SbtUnavailable:
                return claimed
            if claim.created:
                claimed.append(claim.record)
    return claimed
