"""PULSE: how alive a team is — who contributes, how much it matters, whether people stay.

Activity arrives from GitHub, Discord and Notion as `Contribution`s, each unique per team
on its source id (so a webhook, its retry and a backfill land once) and each carrying how
it is known (`verification`): verified (the platform's GitHub App, a REST-confirmed event,
our own Discord bot) or self-reported (a team's own repository webhook). Contributions
from a login or id that no contributor has claimed yet are kept with `contributor` empty
and attached when one links it. Scores are computed from them and stored with their
components, so every number can say what it is made of and how much of it is verified.
"""

from __future__ import annotations

import secrets
import uuid
from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from accounts.models import Organization, User
from fabrknt.encrypted import EncryptedTextField

# Scores are 0–100 with two decimals.
SCORE_DIGITS = 5
# A contributor's score is an unbounded weighted sum (decayed): wide enough for any team.
CONTRIBUTION_SCORE_DIGITS = 14


def pulse_id_generate() -> str:
    """A team's public id: unguessable (128 random bits), so a repository webhook URL that
    names it reveals nothing about other teams and cannot be enumerated."""
    return "pt_" + secrets.token_urlsafe(16)


def _score_field() -> models.DecimalField[Decimal | None, Decimal | None]:
    return models.DecimalField(max_digits=SCORE_DIGITS, decimal_places=2, null=True, blank=True)


def _share_field() -> models.DecimalField[Decimal | None, Decimal | None]:
    """A share 0–1 (four decimals): how much of a score is verified."""
    return models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)


class Team(models.Model):
    """A team whose vitality PULSE measures (the seed's pulse_teams)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="pulse_teams"
    )
    team_name = models.CharField(max_length=200)
    pulse_id = models.CharField(
        max_length=32, unique=True, default=pulse_id_generate, editable=False
    )
    # Scores 0–100, null until first calculated (an empty state, not a zero).
    vitality_score = _score_field()
    developer_activity_score = _score_field()
    team_retention_score = _score_field()
    community_score = _score_field()
    # The share of the weighted activity behind the scores that is verified (verified events
    # by linked identities).
    verified_share = _share_field()
    # What each score was made of (`/vitality` explains its number with it).
    score_components = models.JSONField(default=dict, blank=True)
    last_calculated_at = models.DateTimeField(null=True, blank=True)
    # The secret of the team's repository webhooks (`?team=<pulse_id>`): shown once,
    # rotatable, encrypted at rest. Its events are self-reported.
    github_webhook_secret = EncryptedTextField(blank=True, default="")
    github_webhook_secret_rotated_at = models.DateTimeField(null=True, blank=True)
    # The team's Discord server. Several teams may claim a guild; once our bot is installed
    # through one team's install link (`discord_guild_verified_at`), the guild is that
    # team's alone and the others' claims lapse (`discord_guild_lapsed_at`).
    discord_guild_id = models.CharField(max_length=32, blank=True, default="")
    discord_guild_verified_at = models.DateTimeField(null=True, blank=True)
    discord_guild_lapsed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["team_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["discord_guild_id"],
                condition=Q(discord_guild_verified_at__isnull=False)
                & Q(discord_guild_lapsed_at__isnull=True),
                name="pulse_team_one_verified_guild",
            ),
            models.CheckConstraint(
                condition=Q(discord_guild_id__regex=r"^[0-9]{0,32}$"),
                name="pulse_team_guild_id_digits",
            ),
        ]
        indexes = [
            models.Index(fields=["organization", "team_name"]),
            models.Index(
                fields=["discord_guild_id"],
                condition=~Q(discord_guild_id=""),
                name="pulse_team_guild_idx",
            ),
        ]

    def __str__(self) -> str:
        return self.team_name


class GitHubInstallation(models.Model):
    """An installation of the platform's GitHub App, linked to the team whose signed setup
    state came back with it. Its events (signed with GITHUB_WEBHOOK_SECRET) are verified."""

    installation_id = models.BigIntegerField(primary_key=True)
    team = models.ForeignKey(
        Team,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="github_installations",
    )
    account_login = models.CharField(max_length=100, blank=True, default="")
    account_type = models.CharField(max_length=32, blank=True, default="")
    # The repositories GitHub says it covers ([{"id", "full_name"}]), kept from the
    # installation events so they can be linked when the team's setup state arrives later.
    covered_repositories = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    linked_at = models.DateTimeField(null=True, blank=True)
    suspended_at = models.DateTimeField(null=True, blank=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.account_login or '?'} ({self.installation_id})"


class RepositoryClaim(models.TextChoices):
    # The team installed the platform's GitHub App on it: proven control.
    APP = "app", "GitHub App (verified)"
    # The team named it and points a repository webhook at its own URL: self-reported.
    WEBHOOK = "webhook", "Repository webhook (self-reported)"


class TeamRepository(models.Model):
    """A GitHub repository (`owner/repo`, lower case) that a team claims.

    Several teams may claim one; once a team proves control through the App, the repository
    is that team's alone and the other claims lapse (`lapsed_at`), their events refused.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="repositories")
    full_name = models.CharField(max_length=200, help_text="owner/repo, lower case")
    # GitHub's numeric repository id (stable across renames), once an event or the App told us.
    github_repository_id = models.BigIntegerField(null=True, blank=True)
    installation = models.ForeignKey(
        GitHubInstallation,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="repositories",
    )
    claim = models.CharField(
        max_length=8, choices=RepositoryClaim.choices, default=RepositoryClaim.WEBHOOK
    )
    created_at = models.DateTimeField(auto_now_add=True)
    verified_at = models.DateTimeField(null=True, blank=True)
    lapsed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["full_name"]
        verbose_name_plural = "team repositories"
        constraints = [
            models.UniqueConstraint(fields=["team", "full_name"], name="pulse_repository_unique"),
            # One team alone holds a repository through the App.
            models.UniqueConstraint(
                fields=["full_name"],
                condition=Q(claim="app") & Q(lapsed_at__isnull=True),
                name="pulse_repository_one_app_claim",
            ),
            models.CheckConstraint(
                condition=Q(claim__in=RepositoryClaim.values), name="pulse_repository_claim_valid"
            ),
            models.CheckConstraint(
                condition=Q(full_name=Lower("full_name"))
                & Q(full_name__regex=r"^[a-z0-9_.-]+/[a-z0-9_.-]+$"),
                name="pulse_repository_full_name_form",
            ),
        ]
        indexes = [models.Index(fields=["full_name"])]

    def __str__(self) -> str:
        return self.full_name


class IdentityStatus(models.TextChoices):
    # Typed by a team admin: believed, not proven.
    ASSERTED = "asserted", "Asserted"
    # Proven by the contributor through the platform's OAuth flow, signed in with the wallet.
    LINKED = "linked", "Linked (OAuth)"


class WalletNamespace(models.TextChoices):
    EVM = "eip155", "EVM"
    SOLANA = "solana", "Solana"


class Contributor(models.Model):
    """A person contributing to a team, known by wallet (unique per team), and by the GitHub
    login and Discord id their activity arrives under."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="contributors")
    # EIP-55 checksummed, or base58 (fabrknt.chain.addresses.address_normalize).
    wallet_address = models.CharField(max_length=64)
    wallet_namespace = models.CharField(
        max_length=8, choices=WalletNamespace.choices, default=WalletNamespace.EVM
    )
    # GitHub logins are case-insensitive: stored lower case, as events are matched.
    github_login = models.CharField(max_length=39, blank=True, default="")
    github_user_id = models.BigIntegerField(null=True, blank=True)
    github_identity = models.CharField(
        max_length=8, choices=IdentityStatus.choices, default=IdentityStatus.ASSERTED
    )
    github_linked_at = models.DateTimeField(null=True, blank=True)
    discord_id = models.CharField(max_length=32, blank=True, default="")
    discord_identity = models.CharField(
        max_length=8, choices=IdentityStatus.choices, default=IdentityStatus.ASSERTED
    )
    discord_linked_at = models.DateTimeField(null=True, blank=True)
    # Notion user id, recorded when the contributor's Notion identity is known.
    notion_user_id = models.CharField(max_length=64, blank=True, default="")
    contribution_score = models.DecimalField(
        max_digits=CONTRIBUTION_SCORE_DIGITS, decimal_places=2, default=Decimal("0.00")
    )
    # The part of contribution_score from verified events by linked identities, and its share.
    verified_contribution_score = models.DecimalField(
        max_digits=CONTRIBUTION_SCORE_DIGITS, decimal_places=2, default=Decimal("0.00")
    )
    verified_share = _share_field()
    last_active_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-contribution_score", "wallet_address"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "wallet_address"], name="pulse_contributor_unique_wallet"
            ),
            # An identity's activity must attach to one contributor of the team.
            models.UniqueConstraint(
                fields=["team", "github_login"],
                condition=~Q(github_login=""),
                name="pulse_contributor_unique_github",
            ),
            models.UniqueConstraint(
                fields=["team", "discord_id"],
                condition=~Q(discord_id=""),
                name="pulse_contributor_unique_discord",
            ),
            models.CheckConstraint(
                condition=Q(github_login=Lower("github_login")),
                name="pulse_contributor_github_lower",
            ),
            models.CheckConstraint(
                condition=Q(github_identity__in=IdentityStatus.values)
                & Q(discord_identity__in=IdentityStatus.values),
                name="pulse_contributor_identity_valid",
            ),
            models.CheckConstraint(
                condition=Q(wallet_namespace__in=WalletNamespace.values),
                name="pulse_contributor_namespace_valid",
            ),
        ]
        indexes = [models.Index(fields=["wallet_address"])]

    def __str__(self) -> str:
        return self.github_login or self.wallet_address


class Platform(models.TextChoices):
    GITHUB = "github", "GitHub"
    DISCORD = "discord", "Discord"
    NOTION = "notion", "Notion"


class ContributionType(models.TextChoices):
    # GitHub
    COMMIT = "commit", "Commit"
    PULL_REQUEST_OPENED = "pull_request_opened", "Pull request opened"
    PULL_REQUEST_MERGED = "pull_request_merged", "Pull request merged"
    REVIEW_APPROVED = "review_approved", "Review: approved"
    REVIEW_CHANGES_REQUESTED = "review_changes_requested", "Review: changes requested"
    REVIEW_COMMENTED = "review_commented", "Review: commented"
    ISSUE_OPENED = "issue_opened", "Issue opened"
    ISSUE_CLOSED = "issue_closed", "Issue closed"
    ISSUE_COMMENT = "issue_comment", "Issue comment"
    # Discord (the relay's event types)
    MESSAGE = "message", "Discord message"
    REPLY = "reply", "Discord reply"
    REACTION = "reaction", "Discord reaction"
    THREAD_MESSAGE = "thread_message", "Discord thread message"
    MEMBER_JOIN = "member_join", "Discord member join"
    # Notion
    PAGE_EDIT = "page_edit", "Notion page edit"


# The documented default weights (README, "PULSE scores"): merged pull requests and
# reviews weigh most, commits and comments less; on Discord, replies (helping) more than
# messages (talking). Operators change them in the admin (ContributionWeight).
DEFAULT_CONTRIBUTION_WEIGHTS: dict[str, Decimal] = {
    ContributionType.PULL_REQUEST_MERGED: Decimal("5.00"),
    ContributionType.REVIEW_APPROVED: Decimal("4.00"),
    ContributionType.REVIEW_CHANGES_REQUESTED: Decimal("4.00"),
    ContributionType.REVIEW_COMMENTED: Decimal("3.00"),
    ContributionType.PULL_REQUEST_OPENED: Decimal("2.00"),
    ContributionType.ISSUE_OPENED: Decimal("1.50"),
    ContributionType.ISSUE_CLOSED: Decimal("1.50"),
    ContributionType.COMMIT: Decimal("1.00"),
    ContributionType.ISSUE_COMMENT: Decimal("0.50"),
    ContributionType.REPLY: Decimal("1.00"),
    ContributionType.THREAD_MESSAGE: Decimal("0.75"),
    ContributionType.MESSAGE: Decimal("0.50"),
    ContributionType.REACTION: Decimal("0.20"),
    ContributionType.MEMBER_JOIN: Decimal("0.00"),
    ContributionType.PAGE_EDIT: Decimal("1.00"),
}


class ContributionWeight(models.Model):
    """The weight of one contribution type, editable by operators in the admin."""

    contribution_type = models.CharField(
        max_length=32, choices=ContributionType.choices, primary_key=True
    )
    weight = models.DecimalField(max_digits=8, decimal_places=2)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-weight", "contribution_type"]
        constraints = [
            models.CheckConstraint(
                condition=Q(weight__gte=0), name="pulse_contribution_weight_nonnegative"
            )
        ]

    def __str__(self) -> str:
        return f"{self.contribution_type}: {self.weight}"


class Verification(models.TextChoices):
    # The platform's GitHub App, confirmed by GitHub's REST API, or our own Discord bot.
    VERIFIED = "verified", "Verified"
    # A team's own repository webhook: the team could have made it up.
    SELF_REPORTED = "self_reported", "Self-reported"


class WebhookSource(models.TextChoices):
    GITHUB_APP = "github_app", "GitHub App"
    GITHUB_REPOSITORY = "github_repository", "GitHub repository webhook"
    DISCORD = "discord", "Discord relay"
    NOTION = "notion", "Notion reader"


class DeliveryOutcome(models.TextChoices):
    RECEIVED = "received", "Received (queued)"
    PROCESSED = "processed", "Processed"
    IGNORED = "ignored", "Ignored"
    FAILED = "failed", "Failed"


class WebhookDelivery(models.Model):
    """One signed delivery: the idempotency key and the audit log of what became of it.

    Deliveries through the platform's own secret (the GitHub App) are unique on the
    delivery id; those signed with a team's secret are unique per team, so one team cannot
    block another's deliveries by sending their ids first.
    """

    id = models.BigAutoField(primary_key=True)
    source = models.CharField(max_length=20, choices=WebhookSource.choices)
    delivery_id = models.CharField(max_length=100)
    # The team whose secret signed it (team webhooks, Discord relays), else empty.
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="webhook_deliveries"
    )
    event = models.CharField(max_length=64, blank=True, default="")
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(
        max_length=12, choices=DeliveryOutcome.choices, default=DeliveryOutcome.RECEIVED
    )
    # Why it was ignored or failed, or what it stored ("3 contributions").
    detail = models.CharField(max_length=500, blank=True, default="")
    # The parsed body, kept for the task that processes it and for the audit.
    payload = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["source", "delivery_id"],
                condition=Q(team__isnull=True),
                name="pulse_delivery_unique",
            ),
            models.UniqueConstraint(
                fields=["source", "team", "delivery_id"],
                condition=Q(team__isnull=False),
                name="pulse_delivery_unique_per_team",
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=DeliveryOutcome.values), name="pulse_delivery_outcome_valid"
            ),
        ]
        indexes = [models.Index(fields=["source", "-received_at"])]

    def __str__(self) -> str:
        return f"{self.source} {self.delivery_id}"


class Contribution(models.Model):
    """One weighted piece of activity, unique per team on (platform, source id)."""

    id = models.BigAutoField(primary_key=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="contributions")
    # Empty while no contributor of the team has claimed the source identity.
    contributor = models.ForeignKey(
        Contributor,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contributions",
    )
    platform = models.CharField(max_length=8, choices=Platform.choices)
    # The natural key within (team, platform): e.g. "commit:<repo id>:<sha>",
    # "review:<review id>", a Discord event id, "<page id>:<last_edited_time>".
    source_id = models.CharField(max_length=200)
    # Who did it on the platform: a GitHub login (lower case), a Discord user id, a Notion
    # user id. Contributions are attached to the contributor who claims it.
    source_login = models.CharField(max_length=100, blank=True, default="")
    contribution_type = models.CharField(max_length=32, choices=ContributionType.choices)
    weight = models.DecimalField(max_digits=8, decimal_places=2)
    metadata = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField()
    verification = models.CharField(
        max_length=16, choices=Verification.choices, default=Verification.SELF_REPORTED
    )
    # GitHub: the repository (owner/repo, lower case) it happened in.
    repository = models.CharField(max_length=200, blank=True, default="")
    delivery = models.ForeignKey(
        WebhookDelivery, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-occurred_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "platform", "source_id"], name="pulse_contribution_unique"
            ),
            models.CheckConstraint(
                condition=Q(platform__in=Platform.values), name="pulse_contribution_platform_valid"
            ),
            models.CheckConstraint(
                condition=Q(verification__in=Verification.values),
                name="pulse_contribution_verification_valid",
            ),
            models.CheckConstraint(
                condition=Q(weight__gte=0), name="pulse_contribution_row_weight_nonnegative"
            ),
        ]
        indexes = [
            models.Index(fields=["team", "occurred_at"]),
            models.Index(fields=["contributor", "occurred_at"]),
            models.Index(
                fields=["team", "platform", "source_login"],
                condition=Q(contributor__isnull=True),
                name="pulse_contribution_unclaimed",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform}:{self.contribution_type} {self.source_id}"


class ScoreSnapshot(models.Model):
    """Scores as they were at one calculation: a team's (contributor empty) or one
    contributor's. The trend charts read these."""

    id = models.BigAutoField(primary_key=True)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="score_snapshots")
    contributor = models.ForeignKey(
        Contributor,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="score_snapshots",
    )
    calculated_at = models.DateTimeField()
    vitality_score = _score_field()
    developer_activity_score = _score_field()
    team_retention_score = _score_field()
    community_score = _score_field()
    contribution_score = models.DecimalField(
        max_digits=CONTRIBUTION_SCORE_DIGITS, decimal_places=2, null=True, blank=True
    )
    verified_share = _share_field()
    components = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-calculated_at"]
        indexes = [
            models.Index(fields=["team", "calculated_at"]),
            models.Index(fields=["contributor", "calculated_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.team_id} at {self.calculated_at:%Y-%m-%d %H:%M}"


class Milestone(models.TextChoices):
    FIRST_MERGED_PR = "first-merged-pr", "First merged pull request"
    TEN_REVIEWS = "ten-reviews", "Ten reviews"
    HUNDRED_COMMITS = "hundred-commits", "A hundred commits"
    SIX_MONTHS_ACTIVE = "six-months-active", "Six months active"
    COMMUNITY_HELPER = "community-helper", "Community helper"


class SBTStatus(models.TextChoices):
    # Claimed in the database before any transaction is sent: one token per milestone.
    CLAIMED = "claimed", "Claimed"
    SENT = "sent", "Transaction sent"
    MINTED = "minted", "Minted"
    FAILED = "failed", "Failed"


class SBTRecord(models.Model):
    """A soulbound token (ERC-5192) for a contributor's milestone: one per contributor and
    milestone, claimed here before the mint transaction is sent."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="sbt_records")
    contributor = models.ForeignKey(
        Contributor, on_delete=models.CASCADE, related_name="sbt_records"
    )
    milestone = models.CharField(max_length=24, choices=Milestone.choices)
    chain = models.CharField(max_length=64, help_text="CAIP-2")
    # The wallet the token is minted to (the contributor's at claim time).
    wallet_address = models.CharField(max_length=64)
    token_address = models.CharField(max_length=64, blank=True, default="")
    # uint256 as decimal text, read from the Transfer event once mined.
    token_id = models.CharField(max_length=78, null=True, blank=True)
    tx_hash = models.CharField(max_length=66, blank=True, default="")
    nonce = models.BigIntegerField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=SBTStatus.choices, default=SBTStatus.CLAIMED)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    issued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "SBT record"
        constraints = [
            models.UniqueConstraint(
                fields=["contributor", "milestone"], name="pulse_sbt_one_per_milestone"
            ),
            models.CheckConstraint(
                condition=Q(milestone__in=Milestone.values), name="pulse_sbt_milestone_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=SBTStatus.values), name="pulse_sbt_status_valid"
            ),
        ]
        indexes = [models.Index(fields=["team", "status"])]

    def __str__(self) -> str:
        return f"{self.milestone} for {self.wallet_address}"


class WeeklyReport(models.Model):
    """A team's week: top contributors, score changes, new and lost contributors."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="weekly_reports")
    week_start = models.DateField(help_text="The Monday the week starts on (UTC)")
    body = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-week_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["team", "week_start"], name="pulse_weekly_report_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.team_id} week of {self.week_start}"


class NotionConnection(models.Model):
    """A team's Notion workspace, read through its integration token (encrypted at rest)."""

    team = models.OneToOneField(
        Team, on_delete=models.CASCADE, primary_key=True, related_name="notion_connection"
    )
    access_token = EncryptedTextField()
    workspace_id = models.CharField(max_length=64, blank=True, default="")
    workspace_name = models.CharField(max_length=200, blank=True, default="")
    # The reader's cursor: pages edited after this are read on its next run.
    last_edited_cursor = models.DateTimeField(null=True, blank=True)
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.workspace_name or str(self.team_id)
